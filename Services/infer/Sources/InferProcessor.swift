import Config
import Engine
import Messages

/// The infer stage: runs the model on each feature batch, reading the features in place from
/// the received frame and writing the scores in place into the outgoing one.
public struct InferProcessor: StageProcessor {
    public static let inputKind = FrameKind.features
    private var session: InferenceSession

    /// Loads the config's model.
    ///
    /// - Parameter cacheDirectory: where the weights derived from the model are cached, to be
    ///   mapped read-only and shared by every replica (the run directory); nil keeps them private
    ///   to this process.
    public init(config: PipelineConfig, cacheDirectory: String? = nil) throws {
        if let cacheDirectory {
            session = try InferenceSession(modelPath: config.model.path, input: config.model.input,
                                           output: config.model.output, maxBatch: config.pipeline.batchRows,
                                           precision: config.model.linearPrecision, cacheDirectory: cacheDirectory)
            session.prefaultWeights()
        } else {
            let model = try OnnxModel.load(path: config.model.path)
            session = try InferenceSession(model: model, input: config.model.input, output: config.model.output,
                                           maxBatch: config.pipeline.batchRows, precision: config.model.linearPrecision)
        }
    }

    /// True when the weights are mapped from the shared cache rather than private.
    public var sharesWeights: Bool { session.sharesWeights }

    public var inputWidth: Int { session.inputWidth }
    public var outputWidth: Int { session.outputWidth }
    /// The model's output: its width and classes (what `[output]` may leave to the model).
    public var modelOutput: ModelOutput { ModelOutput(session) }

    public mutating func process(_ frame: Frame, into out: FrameBuffer) throws {
        let batch = try FeatureBatchView.decode(frame)
        guard batch.dims == session.inputWidth else {
            throw ModelError(.invalidArgument, "features have \(counted(batch.dims, "column")), the model takes \(session.inputWidth)")
        }
        let rows = batch.rows
        try ScoreBatchView.encode(into: out, sequence: frame.header.sequence, envelope: batch.envelope, rows: rows,
                                  cols: session.outputWidth, drift: batch.drift, flags: frame.header.flags) { scores in
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

extension ModelSpec {
    /// `precision` as the engine names it.
    public var linearPrecision: LinearPrecision {
        switch precision {
        case .float32: .float32
        case .int8: .int8
        case .bf16: .bf16
        }
    }
}
