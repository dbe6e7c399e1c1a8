import PipelineSupervisor
import ControlCore
import AggregateStage
import Config
import Engine
import FeaturizeStage
import InferStage

/// Checks the whole chain before any process starts: the features' width against the model's
/// input, the model's output against the labels, and that the model loads and is supported.
enum Preflight {
    struct Report {
        var featureWidth: Int
        var model: OnnxModel
        var inputName: String
        var outputName: String
        var outputWidth: Int

        /// The CSV header the sink prints first, when the output is CSV.
        func csvHeader(_ config: PipelineConfig) throws(PipelineError) -> String? {
            guard config.output.format == .csv else { return nil }
            do {
                return try AggregateProcessor.csvHeader(config: config, classes: outputWidth)
            } catch {
                throw PipelineError(.config, "\(error)")
            }
        }
    }

    /// - Parameter cacheDirectory: the run directory: the weights derived from the model are
    ///   built there once, for every infer replica to map (nil: checked privately, as `check` does).
    static func check(_ config: PipelineConfig, cacheDirectory: String? = nil) throws(PipelineError) -> Report {
        let width = FeaturizeProcessor.width(of: config)
        let model: OnnxModel
        let session: InferenceSession
        do {
            if let cacheDirectory {
                session = try InferenceSession(modelPath: config.model.path, input: config.model.input,
                                               output: config.model.output, maxBatch: 1, cacheDirectory: cacheDirectory)
                model = session.model
            } else {
                model = try OnnxModel.load(path: config.model.path)
                session = try InferenceSession(model: model, input: config.model.input, output: config.model.output,
                                               maxBatch: 1)
            }
        } catch {
            throw PipelineError(.model, "model \(config.model.path): \(error)")
        }
        guard session.inputWidth == width else {
            let parts = config.features.map { "\($0.field)→\($0.width)" }.joined(separator: " + ")
            throw PipelineError(.config, "the features make \(width) columns per record (\(parts)) but the model's input `\(session.inputName)` takes \(session.inputWidth)")
        }
        if let labels = config.output.labels, labels.count != session.outputWidth {
            throw PipelineError(.config, "output.labels has \(labels.count) names but the model's output `\(session.outputName)` has \(session.outputWidth) columns per record")
        }
        return Report(featureWidth: width, model: model, inputName: session.inputName, outputName: session.outputName,
                      outputWidth: session.outputWidth)
    }
}

/// `pipeline check`.
enum CheckCommand {
    static func run(_ target: Target) throws(PipelineError) -> ExitCode {
        let file = try ConfigFile.load(target.configPath)
        let report = try Preflight.check(file.config)
        func shape(_ dims: [Int?]) -> String { "[" + dims.map { $0.map(String.init) ?? "N" }.joined(separator: ", ") + "]" }
        var out = "\(target.configPath): ok\n"
        out += "features: \(file.config.features.count) making \(report.featureWidth) columns\n"
        out += "model: \(file.config.model.path)\n"
        for i in report.model.inputs {
            out += "  input  \(i.name): \(i.typeName) \(shape(i.shape))\(i.name == report.inputName ? "  (fed)" : "")\n"
        }
        for o in report.model.outputs {
            out += "  output \(o.name): \(o.typeName) \(shape(o.shape))\(o.name == report.outputName ? "  (read: \(report.outputWidth) columns)" : "")\n"
        }
        out += "  operators: " + report.model.opCounts.map { "\($0.op)×\($0.count)" }.joined(separator: ", ") + "\n"
        try? Runtime.Sys.writeAll(1, out)
        return .ok
    }
}

import Runtime
