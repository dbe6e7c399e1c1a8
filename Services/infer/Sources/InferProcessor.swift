import Config
import Messages

/// The infer stage: runs the model on each feature batch, reading the features in place from
/// the received frame and writing the scores in place into the outgoing one.
public struct InferProcessor: StageProcessor {
    public static let inputKind = FrameKind.features
    private var session: InferenceSession

    public init(config: PipelineConfig) throws {
        let model = try OnnxModel.load(path: config.model.path)
        session = try InferenceSession(model: model, input: config.model.input, output: config.model.output,
                                       maxBatch: config.pipeline.batchRows)
    }

    public var inputWidth: Int { session.inputWidth }
    public var outputWidth: Int { session.outputWidth }

    public mutating func process(_ frame: Frame, into out: FrameBuffer) throws {
        let batch = try FeatureBatchView.decode(frame)
        guard batch.dims == session.inputWidth else {
            throw ModelError(.invalidArgument, "features have \(batch.dims) columns, the model takes \(session.inputWidth)")
        }
        let rows = batch.rows
        try ScoreBatchView.encode(into: out, sequence: frame.header.sequence, envelope: batch.envelope, rows: rows,
                                  cols: session.outputWidth, stats: batch.stats, flags: frame.header.flags) { scores in
            guard rows > 0 else { return }
            switch batch.layout {
            case .dense:
                try session.run(rows: rows, input: batch.values.baseAddress!, output: scores)
            case .csr:
                // With no non-zeros, `columns`/`values` are empty views without an address; any valid
                // pointer serves, since nothing is read through it.
                try session.runSparse(rows: rows, rowStart: batch.rowStart.baseAddress!,
                                      columns: batch.columns.baseAddress ?? batch.rowStart.baseAddress!,
                                      values: batch.values.baseAddress ?? UnsafePointer(scores), output: scores)
            }
        }
    }
}
