/// A protobuf writer (wire format only): the tests and the `graph` fuzz target (fuzz/run.sh
/// compiles this file into it) write small ONNX models with it, without Python.
public struct ProtoWriter {
    public var bytes: [UInt8] = []

    public init() {}

    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func key(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }
    public mutating func int(_ field: Int, _ value: Int64) { key(field, 0); varint(UInt64(bitPattern: value)) }
    public mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }
    public mutating func data(_ field: Int, _ payload: [UInt8]) { key(field, 2); varint(UInt64(payload.count)); bytes += payload }
    public mutating func string(_ field: Int, _ value: String) { data(field, Array(value.utf8)) }
    public mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        build(&inner)
        data(field, inner.bytes)
    }
    public mutating func packedInts(_ field: Int, _ values: [Int64]) {
        var inner = ProtoWriter()
        for v in values { inner.varint(UInt64(bitPattern: v)) }
        data(field, inner.bytes)
    }
    public mutating func packedFloats(_ field: Int, _ values: [Float]) {
        var inner: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { inner += $0 } }
        data(field, inner)
    }
    public mutating func packedDoubles(_ field: Int, _ values: [Double]) {
        var inner: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { inner += $0 } }
        data(field, inner)
    }
}
