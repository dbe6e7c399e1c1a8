// What the `onnx` and `graph` targets do with a model's bytes: load it, plan sessions, run them.
//
// `OnnxModel.load(bytes:name:)` must throw a `ModelError` or load, never crash. A model that
// loads is planned as the infer stage plans it (`InferenceSession`, maxBatch 256 as batch_rows'
// default), for its default output and for each named graph output, and each session that
// plans is run on a few rows (and, when the memory allows, on more rows than one chunk), dense
// and as CSR, with ordinary values and some NaN, infinities and huge ones. Memory is bounded by
// libFuzzer's -rss_limit_mb / -malloc_limit_mb (see run.sh): a small file must not make the
// engine allocate without bound.

import Engine

/// Loads `bytes` as a model and runs whatever plans; returns whether it loaded.
@discardableResult
func loadAndRun(_ bytes: UnsafeRawBufferPointer) -> Bool {
    let model: OnnxModel
    do {
        model = try OnnxModel.load(bytes: bytes, name: "fuzz.onnx")
    } catch {
        consume(error.description)
        return false
    }
    consume(UInt64(bitPattern: model.irVersion))
    consume(model.producerName)
    for info in model.inputs + model.outputs {
        consume(info.name)
        consume(info.typeName)
        consume(info.elementType.name)
        consume(UInt64(info.shape.count) &+ (info.isTensor ? 1 : 0))
        for d in info.shape { consume(UInt64(bitPattern: Int64(d ?? -1))) }
    }
    for (op, count) in model.opCounts { consume(op); consume(UInt64(count)) }

    var seed: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes { seed = (seed ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    let outputs: [String?] = [nil] + model.outputs.prefix(3).map { Optional($0.name) }
    for output in outputs {
        do {
            var session = try InferenceSession(model: model, output: output, maxBatch: 256)
            run(&session, seed: seed)
        } catch {
            consume(error.description)
        }
    }
    return true
}


/// Most floats the harness itself allocates for one run's input and output (64 MiB).
let harnessFloatBudget = 16 << 20

func run(_ session: inout InferenceSession, seed: UInt64) {
    consume(session.inputName)
    consume(session.outputName)
    let width = session.inputWidth, outWidth = session.outputWidth
    guard width > 0, outWidth > 0 else { violated("a planned session has input width \(width), output width \(outWidth)") }
    var rng = SplitMix64(seed: seed)
    let perRow = width + outWidth
    let more = session.chunkRows + 1 + Int(rng.next() % 3)
    var rows = 1 + Int(rng.next() % 4)
    if rng.next() % 2 == 0 && more * perRow <= harnessFloatBudget { rows = more }
    guard rows * perRow <= harnessFloatBudget else { return }

    var input = [Float](repeating: 0, count: rows * width)
    for i in input.indices {
        switch rng.next() % 32 {
        case 0: input[i] = .nan
        case 1: input[i] = .infinity
        case 2: input[i] = -.infinity
        case 3: input[i] = 3e38
        case 4...11: input[i] = 0
        case 12: input[i] = Float(rng.next() % 8)  // small whole numbers: label and gather indices
        default: input[i] = Float(Int(rng.next() % 2001) - 1000) / 250
        }
    }
    var dense = [Float](repeating: .nan, count: rows * outWidth)
    do {
        try input.withUnsafeBufferPointer { x in
            try dense.withUnsafeMutableBufferPointer { y in
                try session.run(rows: rows, input: x.baseAddress!, output: y.baseAddress!)
            }
        }
    } catch {
        consume("\(error)")
    }
    for v in dense { consume(v) }

    // The same rows as CSR (the featurize stage's hashed-text form).
    var rowStart: [UInt32] = [0]
    var columns: [UInt32] = []
    var values: [Float] = []
    for r in 0..<rows {
        for c in 0..<width where input[r * width + c] != 0 {
            columns.append(UInt32(c))
            values.append(input[r * width + c])
        }
        rowStart.append(UInt32(columns.count))
    }
    if columns.isEmpty {  // valid pointers, never read
        columns.append(0)
        values.append(0)
    }
    var sparse = [Float](repeating: .nan, count: rows * outWidth)
    do {
        try rowStart.withUnsafeBufferPointer { s in
            try columns.withUnsafeBufferPointer { c in
                try values.withUnsafeBufferPointer { v in
                    try sparse.withUnsafeMutableBufferPointer { y in
                        try session.runSparse(rows: rows, rowStart: s.baseAddress!, columns: c.baseAddress!,
                                              values: v.baseAddress!, output: y.baseAddress!)
                    }
                }
            }
        }
    } catch {
        consume("\(error)")
    }
    for v in sparse { consume(v) }
}
