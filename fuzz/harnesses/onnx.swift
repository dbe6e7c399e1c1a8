// libFuzzer target `onnx`: the engine's protobuf reader, ONNX model loading, session planning and
// running (see OnnxRun.swift). The input is the model file's bytes.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    loadAndRun(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
