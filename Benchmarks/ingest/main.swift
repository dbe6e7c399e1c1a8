// Ingest throughput benchmark (not a test). Build and run with ./run.sh (release, this machine).
//
// Records like the pipeline's target load: an int id and 64 float fields, ~900 bytes per JSON
// line. They are cut into chunks of 256 records (the default batch_rows), encoded as raw-chunk
// frames up front; the timed loop is IngestProcessor.process over every frame, output included.
// Times are thread CPU time, best of 10 rounds. The machine is shared and drifts, so JSON lines
// are also parsed by a minimal hand-written C parser (baseline.c) in alternate rounds: the ratio
// is the figure to compare across runs.
import Config
import Glibc
import IngestStage
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

func makeLines(csv: Bool, shortest: Bool) -> [[UInt8]] {
    var rng = SplitMix(state: 1)
    return (0..<records).map { id in
        var line = csv ? "\(id)" : "{\"id\":\(id)"
        for f in 0..<floatFields {
            line += csv ? ",\(value(&rng, shortest: shortest))" : ",\"f\(f)\":\(value(&rng, shortest: shortest))"
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

func measure(_ name: String, format: InputFormat, shortest: Bool = false) throws {
    let lines = makeLines(csv: format == .csv, shortest: shortest)
    let header = format == .csv ? Array((["id"] + (0..<floatFields).map { "f\($0)" }).joined(separator: ",").utf8) : []
    let input = frames(lines, header: header)
    let bytes = lines.reduce(0) { $0 + $1.count }
    let fields = [FieldSpec(name: "id", type: .int)] + (0..<floatFields).map { FieldSpec(name: "f\($0)", type: .float) }
    let config = PipelineConfig(pipeline: PipelineSection(name: "bench"), input: InputSpec(format: format, fields: fields),
                                features: [], model: ModelSpec(path: "/dev/null"), output: OutputSpec(), stages: [:],
                                baseDirectory: "/")
    var processor = try IngestProcessor(config: config)
    let out = FrameBuffer(capacity: 1 << 20)
    let decoder = FrameDecoder()
    let text = lines.flatMap { $0 }
    var best = 1e9, bestC = 1e9
    for _ in 0..<10 {
        let start = cpuSeconds()
        for frame in input {
            guard let (f, _) = try decoder.decode(frame.bytes) else { fatalError("bad frame") }
            out.removeAll()
            try processor.process(f, into: out)
        }
        best = min(best, cpuSeconds() - start)
        if format == .jsonl && !shortest {
            bestC = min(bestC, text.withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { c_baseline_parse($0.baseAddress!, $0.count) }
            })
        }
    }
    // Check that the batches came out whole (from the last round).
    for frame in input {
        guard let (f, _) = try decoder.decode(frame.bytes) else { fatalError("bad frame") }
        out.removeAll()
        try processor.process(f, into: out)
        guard let (result, _) = try decoder.decode(out.bytes) else { fatalError("no output") }
        let batch = try RecordBatchView.decode(result)
        if let reject = try batch.envelope.rejects().first {
            fatalError("\(name): line \(reject.line): \(reject.message): \(String(decoding: reject.input, as: UTF8.self))")
        }
    }
    print("\(name): \(records) records, \(bytes / records) B/record: \(Int(Double(records) / best / 1000))k records/s, "
          + "\(Int(Double(bytes) / best / 1e6)) MB/s")
    if bestC < 1e9 {
        print("  C baseline on the same bytes: \(Int(Double(records) / bestC / 1000))k records/s; "
              + "ingest runs at \(Int(100 * bestC / best))% of its speed")
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

// Optional first argument: which measurements to run (jsonl, csv, full, encode, all); default all.
let only = CommandLine.arguments.dropFirst().first.flatMap { $0 == "all" ? nil : $0 }
if only == nil || only == "jsonl" { try measure("JSONL, 64 floats + id", format: .jsonl) }
if only == nil || only == "csv" { try measure("CSV,   64 floats + id", format: .csv) }
if only == nil || only == "full" {
    try measure("JSONL, 64 full-precision doubles + id", format: .jsonl, shortest: true)
    try measure("CSV,   64 full-precision doubles + id", format: .csv, shortest: true)
}
if only == nil || only == "encode" { measureEncode() }
