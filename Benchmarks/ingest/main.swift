// Ingest throughput benchmark (not a test). Build and run with ./run.sh (release, this machine).
//
// Records like the pipeline's target load: an int id and 64 float fields, ~900 bytes per JSON
// line. They are cut into chunks of 256 records (the default batch_rows), encoded as raw-chunk
// frames up front; the timed loop is IngestProcessor.process over every frame, output included.
// Times are thread CPU time, best of 10 rounds. The machine is shared and drifts, so the general
// path alone (old: ingest before the JSON fast path) and the fast path (new) run in alternate
// rounds, and JSON lines are also parsed by a minimal hand-written C parser (baseline.c): the
// ratios are the figures to compare across runs.
import Config
import Glibc
@_spi(Benchmarks) import IngestStage
import Messages

/// CPU time of this thread, in seconds: the machine is shared, so wall time would count the
/// time other processes held the core.
func cpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// Optional second argument: the record count (e.g. small, under valgrind).
let records = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 200_000 : 200_000
let batchRows = 256
let floatFields = 64

func value(_ rng: inout SplitMix, shortest: Bool) -> String {
    // Four decimals (e.g. -52.1234) make ~900-byte lines; "shortest" gives 15-17 digit doubles
    // (Swift's shortest round-trip text, like Python's repr), which miss the fast paths.
    shortest ? "\(Double.random(in: -100...100, using: &rng))"
        : "\(Double(Int.random(in: -999_999...999_999, using: &rng)) / 10_000)"
}

/// The bench's JSON lines: `{"id":1,"f0":…}` compact, or with one space after each ':' and
/// ',' as Python's `json.dumps` writes them (`spaced`).
func makeLines(csv: Bool, shortest: Bool, spaced: Bool = false) -> [[UInt8]] {
    var rng = SplitMix(state: 1)
    let colon = spaced ? ": " : ":", comma = spaced ? ", " : ","
    return (0..<records).map { id in
        var line = csv ? "\(id)" : "{\"id\"\(colon)\(id)"
        for f in 0..<floatFields {
            line += csv ? ",\(value(&rng, shortest: shortest))" : "\(comma)\"f\(f)\"\(colon)\(value(&rng, shortest: shortest))"
        }
        line += csv ? "\n" : "}\n"
        return Array(line.utf8)
    }
}

func frames(_ lines: [[UInt8]], header: [UInt8]) -> [FrameBuffer] {
    var result: [FrameBuffer] = []
    var offset: UInt64 = 0
    var first = 0
    while first < lines.count {
        let batch = lines[first..<min(first + batchRows, lines.count)]
        let body = batch.flatMap { $0 }
        let out = FrameBuffer(capacity: body.count + 4096)
        header.withUnsafeBytes { h in
            body.withUnsafeBytes { b in
                RawChunkView.encode(into: out, sequence: UInt64(result.count), firstLine: UInt64(first + 2),
                                    byteOffset: offset, recordCount: batch.count, headerLine: h, body: b)
            }
        }
        result.append(out)
        offset += UInt64(body.count)
        first += batchRows
    }
    return result
}

/// `x` with `digits` decimals (no Foundation here).
func fixed(_ x: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let n = Int((x * scale).rounded())
    let fraction = String(n % Int(scale))
    return "\(n / Int(scale)).\(String(repeating: "0", count: digits - fraction.count))\(fraction)"
}

/// Seconds of CPU time for one pass of `processor` over every frame, output included.
func pass(_ processor: inout IngestProcessor, _ input: [FrameBuffer], _ decoder: FrameDecoder, _ out: FrameBuffer) throws -> Double {
    let start = cpuSeconds()
    for frame in input {
        guard let (f, _) = try decoder.decode(frame.bytes) else { fatalError("bad frame") }
        out.removeAll()
        try processor.process(f, into: out)
    }
    return cpuSeconds() - start
}

/// The output frames of one pass, checked to hold no rejects.
func outputs(_ name: String, _ processor: inout IngestProcessor, _ input: [FrameBuffer], _ decoder: FrameDecoder) throws -> [[UInt8]] {
    let out = FrameBuffer(capacity: 1 << 20)
    return try input.map { frame in
        guard let (f, _) = try decoder.decode(frame.bytes) else { fatalError("bad frame") }
        out.removeAll()
        try processor.process(f, into: out)
        guard let (result, _) = try decoder.decode(out.bytes) else { fatalError("no output") }
        let batch = try RecordBatchView.decode(result)
        if let reject = try batch.envelope.rejects().first {
            fatalError("\(name): line \(reject.line): \(reject.message): \(String(decoding: reject.input, as: UTF8.self))")
        }
        return Array(out.bytes)
    }
}

/// Times the fast path (new) and the general path alone (old, what ingest was before the fast
/// path) in alternate rounds, and for the JSON lines of four decimals the C baseline too; best
/// of 10 rounds each. Their output frames must be the same bytes.
func measure(_ name: String, format: InputFormat, shortest: Bool = false, spaced: Bool = false) throws {
    let lines = makeLines(csv: format == .csv, shortest: shortest, spaced: spaced)
    let header = format == .csv ? Array((["id"] + (0..<floatFields).map { "f\($0)" }).joined(separator: ",").utf8) : []
    let input = frames(lines, header: header)
    let bytes = lines.reduce(0) { $0 + $1.count }
    let fields = [FieldSpec(name: "id", type: .int)] + (0..<floatFields).map { FieldSpec(name: "f\($0)", type: .float) }
    let config = PipelineConfig(pipeline: PipelineSection(name: "bench"), input: InputSpec(format: format, fields: fields),
                                features: [], model: ModelSpec(path: "/dev/null"), output: OutputSpec(), stages: [:],
                                baseDirectory: "/")
    var new = try IngestProcessor(config: config)
    var old = try IngestProcessor(config: config, fastPath: false)
    let out = FrameBuffer(capacity: 1 << 20)
    let decoder = FrameDecoder()
    let text = lines.flatMap { $0 }
    let withC = format == .jsonl && !shortest && !spaced  // the C parser knows no whitespace
    var best = 1e9, bestOld = 1e9, bestC = 1e9
    for _ in 0..<10 {
        bestOld = min(bestOld, try pass(&old, input, decoder, out))
        best = min(best, try pass(&new, input, decoder, out))
        if withC {
            bestC = min(bestC, text.withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { c_baseline_parse($0.baseAddress!, $0.count) }
            })
        }
    }
    guard try outputs(name, &new, input, decoder) == outputs(name, &old, input, decoder) else {
        fatalError("\(name): the fast path's output differs from the general path's")
    }
    func rate(_ seconds: Double) -> String {
        "\(Int(Double(records) / seconds / 1000))k records/s (\(fixed(seconds / Double(records) * 1e6, 3)) µs/record)"
    }
    print("\(name): \(records) records, \(bytes / records) B/record, \(Int(Double(bytes) / best / 1e6)) MB/s")
    print("  old (general path): \(rate(bestOld))")
    // CSV has no fast path: its two lines run the same code (how far apart they come out is the noise).
    print("  new (fast path):    \(rate(best)); \(fixed(bestOld / best, 2))x old\(format == .csv ? " (the same code for CSV)" : "")")
    if bestC < 1e9 {
        print("  C baseline on the same bytes: \(rate(bestC)); ingest runs at \(Int(100 * bestC / best))% of its speed")
    }
}

/// The output side alone: encoding a 256-row batch of 65 columns into a records frame.
func measureEncode() {
    let columns = [Column(.int((0..<Int64(batchRows)).map { $0 }))]
        + (0..<floatFields).map { _ in Column(.float((0..<batchRows).map { Double($0) * 0.5 })) }
    let out = FrameBuffer(capacity: 1 << 20)
    let batches = records / batchRows
    var best = 1e9
    for _ in 0..<10 {
        let start = cpuSeconds()
        for s in 0..<batches {
            out.removeAll()
            RecordBatchView.encode(into: out, sequence: UInt64(s), envelope: Envelope(firstLine: 1, byteOffset: 0,
                                   recordCount: UInt32(batchRows)), columns: columns)
        }
        best = min(best, cpuSeconds() - start)
    }
    print("RecordBatchView.encode alone (65 columns x 256 rows): \(Int(Double(batches * batchRows) / best / 1000))k records/s")
}

// Optional first argument: which measurements to run (jsonl, jsonl-spaced, csv, full, encode, all);
// default all.
let only = CommandLine.arguments.dropFirst().first.flatMap { $0 == "all" ? nil : $0 }
if only == nil || only == "jsonl" { try measure("JSONL, 64 floats + id", format: .jsonl) }
if only == nil || only == "jsonl-spaced" { try measure("JSONL spaced (json.dumps), 64 floats + id", format: .jsonl, spaced: true) }
if only == nil || only == "csv" { try measure("CSV,   64 floats + id", format: .csv) }
if only == nil || only == "full" {
    try measure("JSONL, 64 full-precision doubles + id", format: .jsonl, shortest: true)
    try measure("CSV,   64 full-precision doubles + id", format: .csv, shortest: true)
}
if only == nil || only == "encode" { measureEncode() }
