import AggregateStage
import Config
import Engine
import FeaturizeStage
import InferStage
import Messages

/// Checks the whole chain before any process starts: the features' width against the model's
/// input, the model's output against the labels, and that the model loads and is supported.
public enum Preflight {
    /// What the checks found: the features' width and the model's fed input and read output.
    public struct Report {
        public var featureWidth: Int
        public var model: OnnxModel
        public var inputName: String
        public var outputName: String
        public var outputWidth: Int
        /// What the config may leave to the model: its output's width and its classes.
        public var modelOutput: ModelOutput

        /// The CSV header the sink prints first, when the output is CSV.
        public func csvHeader(_ config: PipelineConfig) throws(PipelineError) -> String? {
            guard config.output.format == .csv else { return nil }
            do {
                return try AggregateProcessor.csvHeader(config: config, classes: outputWidth)
            } catch {
                throw PipelineError(.config, "\(error)")
            }
        }
    }

    /// Checks `config` and its model.
    ///
    /// - Parameter cacheDirectory: the run directory: the weights derived from the model are
    ///   built there once, for every infer replica to map (nil: checked privately, as `check` does).
    /// - Throws: `PipelineError` with code `.model` when the model does not load, `.config` when
    ///   the features, the model and the labels do not fit together.
    public static func check(_ config: PipelineConfig, cacheDirectory: String? = nil) throws(PipelineError) -> Report {
        let width = FeaturizeProcessor.width(of: config)
        let model: OnnxModel
        let session: InferenceSession
        do {
            if let cacheDirectory {
                session = try InferenceSession(modelPath: config.model.path, input: config.model.input,
                                               output: config.model.output, maxBatch: 1,
                                               precision: config.model.linearPrecision, cacheDirectory: cacheDirectory)
                model = session.model
            } else {
                model = try OnnxModel.load(path: config.model.path)
                session = try InferenceSession(model: model, input: config.model.input, output: config.model.output,
                                               maxBatch: 1, precision: config.model.linearPrecision)
            }
        } catch {
            // The engine's errors name the file already; said once.
            throw PipelineError(.model, error.kind == .notAModel ? "\(error)" : "model \(config.model.path): \(error.detail)")
        }
        guard session.inputWidth == width else {
            let parts = config.features.map { "\($0.field)→\($0.width)" }.joined(separator: " + ")
            throw PipelineError(.config, "the features make \(counted(width, "column")) per record (\(parts)) but the model's input `\(session.inputName)` takes \(session.inputWidth)")
        }
        if let labels = config.output.labels, labels.count != session.outputWidth {
            throw PipelineError(.config, "output.labels has \(counted(labels.count, "name")) but the model's output `\(session.outputName)` has \(counted(session.outputWidth, "column")) per record")
        }
        return Report(featureWidth: width, model: model, inputName: session.inputName, outputName: session.outputName,
                      outputWidth: session.outputWidth, modelOutput: ModelOutput(session))
    }
}
