import Config
import Foundation
import Messages

// What the stage benchmarks need to build their input frames; the same as the stages' own test
// targets have (Tests/AggregateTests, Tests/FeaturizeTests).

/// A config with just what featurize and aggregate read: the schema, the features and `[output]`.
func makeConfig(fields: [FieldSpec], features: [FeatureSpec] = [], format: OutputFormat = .jsonl,
                passthrough: [String] = [], labels: [String]? = nil,
                outputFields: [OutputField] = [.label, .score]) -> PipelineConfig {
    PipelineConfig(pipeline: PipelineSection(name: "test"), input: InputSpec(fields: fields), features: features,
                   model: ModelSpec(path: "/dev/null"),
                   output: OutputSpec(format: format, passthrough: passthrough, labels: labels, fields: outputFields),
                   stages: [:], baseDirectory: "/tmp")
}

func stringColumn(_ values: [String], missing: [Bool] = []) -> Column {
    var offsets: [UInt32] = [0]
    var bytes: [UInt8] = []
    for v in values {
        bytes += Array(v.utf8)
        offsets.append(UInt32(bytes.count))
    }
    return Column(.string(offsets: offsets, bytes: bytes), missing: missing)
}

/// A score batch frame of `scores` (rows × cols) with `passthrough` columns in its envelope.
func scoreFrame(_ scores: [Float], rows: Int, cols: Int, passthrough: [Column] = []) throws -> FrameBuffer {
    precondition(scores.count == rows * cols)
    // The envelope view is taken from an error batch that carries the same envelope.
    let carrier = FrameBuffer()
    ErrorBatchView.encode(into: carrier, sequence: 5,
                          envelope: Envelope(firstLine: 3, byteOffset: 10, recordCount: UInt32(rows),
                                             passthrough: passthrough))
    guard let (carrierFrame, _) = try FrameDecoder().decode(carrier.bytes) else { throw BenchmarkFailure("carrier") }
    let envelope = try ErrorBatchView.decode(carrierFrame).envelope
    let out = FrameBuffer()
    ScoreBatchView.encode(into: out, sequence: 5, envelope: envelope, rows: rows, cols: cols, stats: FeatureStats()) { p in
        for (i, x) in scores.enumerated() { p[i] = x }
    }
    return out
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A deterministic PRNG (SplitMix64): the same input every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// CPU time used by the calling thread: steadier than wall time on a machine shared with builds.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
