// libFuzzer target `csv`: CSV input through the source's InputSplitter and ingest's CSV parser
// (see SplitDriver.swift for the input layout and the invariants).

import Config

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let options = SplitOptions(format: .csv, options: input.byte(), seed: input.byte())
    let result = splitAndIngest(input.rest, options)
    consume(UInt64(result.rows &+ result.rejects.count))
    return 0
}
