import Config
import Foundation
import Messages
import TestSupport

// What the stage benchmarks need to build their input frames; the same as the stages' own test
// targets have (Tests/AggregateTests, Tests/FeaturizeTests).

/// A config with just what featurize and aggregate read: the schema, the features and `[output]`.
func makeConfig(fields: [FieldSpec], features: [FeatureSpec] = [], format: OutputFormat = .jsonl,
                passthrough: [String] = [], labels: [ClassLabel]? = nil,
                outputFields: [OutputField] = [.label, .score]) -> PipelineConfig {
    PipelineConfig(pipeline: PipelineSection(name: "test"), input: InputSpec(fields: fields), features: features,
                   model: ModelSpec(path: "/dev/null"),
                   output: OutputSpec(format: format, passthrough: passthrough, labels: labels, fields: outputFields),
                   stages: [:], baseDirectory: "/tmp")
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
    ScoreBatchView.encode(into: out, sequence: 5, envelope: envelope, rows: rows, cols: cols, drift: DriftCounts()) { p in
        for (i, x) in scores.enumerated() { p[i] = x }
    }
    return out
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}


/// CPU time used by the calling thread: steadier than wall time on a machine shared with builds.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// The shared generator, under this target's name for it.
typealias SplitMix = SplitMix64
