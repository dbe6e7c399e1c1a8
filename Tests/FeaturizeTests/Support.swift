import Config
import FeaturizeStage
import Messages
import TestSupport

/// A config with just what featurize reads: the schema, the features and the passthrough fields.
func makeConfig(fields: [FieldSpec], features: [FeatureSpec], passthrough: [String] = []) -> PipelineConfig {
    PipelineConfig(pipeline: PipelineSection(name: "test"), input: InputSpec(fields: fields), features: features,
                   model: ModelSpec(path: "/dev/null"), output: OutputSpec(passthrough: passthrough),
                   stages: [:], baseDirectory: "/tmp")
}


/// A feature batch decoded and copied out of its frame.
struct Features {
    var header: FrameHeader
    /// Bytes of the whole frame.
    var frameBytes: Int
    var layout: FeatureLayout
    var rows: Int
    var dims: Int
    var drift: DriftCounts
    /// Dense: rows × dims. CSR: the non-zeros.
    var values: [Float]
    var rowStart: [UInt32]
    var columns: [UInt32]
    var passthrough: [Column]
    var firstLine: UInt64
    var recordCount: UInt32
    var rejects: [Reject]

    /// Row `r` as (column, value) pairs of its non-zeros (NaN counts as non-zero), either layout.
    func nonZeros(_ r: Int) -> [(column: Int, value: Float)] {
        switch layout {
        case .dense:
            return (0..<dims).compactMap { j in
                let v = values[r * dims + j]
                return v != 0 ? (j, v) : nil
            }
        case .csr:
            return (Int(rowStart[r])..<Int(rowStart[r + 1])).map { (Int(columns[$0]), values[$0]) }
        }
    }

    /// Row `r` as a dense array (only for small dims).
    func row(_ r: Int) -> [Float] {
        precondition(dims <= 1 << 16)
        if layout == .dense { return Array(values[(r * dims)..<((r + 1) * dims)]) }
        var out = [Float](repeating: 0, count: dims)
        for (c, v) in nonZeros(r) { out[c] = v }
        return out
    }
}

/// Encodes `columns` as a record batch, runs `processor` on it, and decodes the feature batch.
func featurize(_ processor: inout FeaturizeProcessor, _ columns: [Column], sequence: UInt64 = 7,
               flags: FrameFlags = [], rejects: [Reject] = [], firstLine: UInt64 = 1) throws -> Features {
    let rows = columns.first?.count ?? 0
    let input = FrameBuffer()
    RecordBatchView.encode(into: input, sequence: sequence,
                           envelope: Envelope(firstLine: firstLine, byteOffset: 0,
                                              recordCount: UInt32(rows + rejects.count), rejects: rejects),
                           columns: columns, flags: flags)
    guard let (frame, _) = try FrameDecoder().decode(input.bytes) else { throw TestFailure("no input frame") }
    let output = FrameBuffer()
    try processor.process(frame, into: output)
    guard let (outFrame, consumed) = try FrameDecoder().decode(output.bytes), consumed == output.count else {
        throw TestFailure("expected exactly one output frame")
    }
    let f = try FeatureBatchView.decode(outFrame)
    return Features(header: outFrame.header, frameBytes: consumed, layout: f.layout, rows: f.rows, dims: f.dims,
                    drift: f.drift, values: Array(f.values), rowStart: Array(f.rowStart), columns: Array(f.columns),
                    passthrough: f.envelope.passthrough.map { $0.toColumn() }, firstLine: f.envelope.firstLine,
                    recordCount: f.envelope.recordCount, rejects: try f.envelope.rejects())
}

/// One feature over one field: the common shape of the per-kind tests.
func featurizeOne(_ kind: FeatureKind, type: FieldType, _ column: Column) throws -> Features {
    var p = try FeaturizeProcessor(config: makeConfig(fields: [FieldSpec(name: "x", type: type, required: false)],
                                                      features: [FeatureSpec(field: "x", kind: kind, line: 3)]))
    return try featurize(&p, [column])
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
