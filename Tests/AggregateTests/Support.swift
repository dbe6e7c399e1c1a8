import AggregateStage
import Config
import Foundation
import Messages
import TestSupport

/// A config with just what aggregate reads: the schema and `[output]`.
func makeConfig(fields: [FieldSpec] = [], format: OutputFormat = .jsonl, passthrough: [String] = [],
                labels: [ClassLabel]? = nil, outputFields: [OutputField] = [.label, .score]) -> PipelineConfig {
    PipelineConfig(pipeline: PipelineSection(name: "test"), input: InputSpec(fields: fields), features: [],
                   model: ModelSpec(path: "/dev/null"),
                   output: OutputSpec(format: format, passthrough: passthrough, labels: labels, fields: outputFields),
                   stages: [:], baseDirectory: "/tmp")
}


/// An output batch decoded and copied out of its frame.
struct Output {
    var header: FrameHeader
    var summary: BatchSummary
    var text: String
    var bytes: [UInt8]
    var recordCount: UInt32
    var rejects: [Reject]
    var lines: [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}

/// A score batch frame of `scores` (rows × cols) with `passthrough` columns in its envelope.
func scoreFrame(_ scores: [Float], rows: Int, cols: Int, passthrough: [Column] = [], drift: DriftCounts = DriftCounts(),
                rejects: [Reject] = [], sequence: UInt64 = 5, flags: FrameFlags = []) throws -> FrameBuffer {
    precondition(scores.count == rows * cols)
    // The envelope view is taken from an error batch that carries the same envelope.
    let carrier = FrameBuffer()
    ErrorBatchView.encode(into: carrier, sequence: sequence,
                          envelope: Envelope(firstLine: 3, byteOffset: 10, recordCount: UInt32(rows + rejects.count),
                                             rejects: rejects, passthrough: passthrough))
    guard let (carrierFrame, _) = try FrameDecoder().decode(carrier.bytes) else { throw TestFailure("carrier") }
    let envelope = try ErrorBatchView.decode(carrierFrame).envelope
    let out = FrameBuffer()
    ScoreBatchView.encode(into: out, sequence: sequence, envelope: envelope, rows: rows, cols: cols, drift: drift,
                          flags: flags) { p in
        for (i, x) in scores.enumerated() { p[i] = x }
    }
    return out
}

/// Runs `processor` on one score batch and decodes its output batch.
func aggregate(_ processor: inout AggregateProcessor, _ scores: [Float], rows: Int, cols: Int,
               passthrough: [Column] = [], drift: DriftCounts = DriftCounts(), rejects: [Reject] = [],
               sequence: UInt64 = 5, flags: FrameFlags = []) throws -> Output {
    let input = try scoreFrame(scores, rows: rows, cols: cols, passthrough: passthrough, drift: drift,
                               rejects: rejects, sequence: sequence, flags: flags)
    guard let (frame, _) = try FrameDecoder().decode(input.bytes) else { throw TestFailure("no input frame") }
    let output = FrameBuffer()
    try processor.process(frame, into: output)
    guard let (outFrame, consumed) = try FrameDecoder().decode(output.bytes), consumed == output.count else {
        throw TestFailure("expected exactly one output frame")
    }
    let batch = try OutputBatchView.decode(outFrame)
    return Output(header: outFrame.header, summary: batch.summary, text: String(decoding: batch.text, as: UTF8.self),
                  bytes: Array(batch.text), recordCount: batch.envelope.recordCount, rejects: try batch.envelope.rejects())
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}


/// Parses one JSON line with Foundation's strict parser (tests only).
enum JSONLine {
    static func parse(_ line: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        guard let dictionary = object as? [String: Any] else { throw TestFailure("not an object: \(line)") }
        return dictionary
    }
}

/// The shared generator, under this target's name for it.
typealias SplitMix = SplitMix64
