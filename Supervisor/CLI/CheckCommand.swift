import Bench
import Config
import Messages
import PipelineSupervisor
import ControlCore
import Engine
import Runtime

/// `pipeline check`.
enum CheckCommand {
    static func run(_ target: Target, data: String? = nil) throws(PipelineError) -> ExitCode {
        let file = try ConfigFile.load(target.configPath)
        let report = try Preflight.check(file.config)
        let checked = try file.checked(against: report)
        func shape(_ dims: [Int?]) -> String { "[" + dims.map { $0.map(String.init) ?? "N" }.joined(separator: ", ") + "]" }
        var out = "\(target.configPath): ok\n"
        out += "features: \(file.config.features.count) making \(counted(report.featureWidth, "column"))\n"
        out += "model: \(file.config.model.path)\n"
        for i in report.model.inputs {
            out += "  input  \(i.name): \(i.typeName) \(shape(i.shape))\(i.name == report.inputName ? "  (fed)" : "")\n"
        }
        for o in report.model.outputs {
            out += "  output \(o.name): \(o.typeName) \(shape(o.shape))\(o.name == report.outputName ? "  (read: \(counted(report.outputWidth, "column")))" : "")\n"
        }
        out += "  operators: " + report.model.opCounts.map { "\($0.op)×\($0.count)" }.joined(separator: ", ") + "\n"
        if let labels = checked.output.labels {
            // As the output writes them: integers as numbers, strings quoted.
            let shown = labels.map { $0.isInteger ? $0.description : "\"\($0)\"" }.joined(separator: ", ")
            out += "labels: \(shown) (" + (file.config.output.labels == nil ? "the model's classes" : "output.labels") + ")\n"
        }
        out += "precision: \(file.config.model.precision.rawValue)\n"
        if let spec = checked.drift, let profile = try DriftReference.load(checked, outputWidth: report.outputWidth) {
            let watched = profile.fields.map(\.bins.name) + profile.predictions.map { "prediction." + $0.bins.name }
            out += "drift: reference \(spec.reference) (\(counted(Int(profile.records), "record"))), window \(spec.window) records; "
                + "watching " + watched.joined(separator: ", ") + "\n"
        }
        if let data {
            out += try compare(checked, data: data)
        }
        try? Sys.writeAll(1, out)
        return .ok
    }

    /// `--data`: the sample scored in float32 and the config's precision, compared.
    static func compare(_ config: PipelineConfig, data path: String) throws(PipelineError) -> String {
        let file: MappedFile?
        do {
            file = try Sys.mapFile(path)
        } catch {
            throw PipelineError(.usage, "--data \(path): \(error)")
        }
        guard let file else { throw PipelineError(.usage, "--data \(path): not a regular file") }
        let agreement: PrecisionAgreement
        do {
            agreement = try PrecisionCheck.compare(config: config, data: file.bytes)
        } catch {
            throw PipelineError(.model, "--data \(path): \(error)")
        }
        let precision = config.model.precision
        var out = "data: \(path): \(counted(agreement.records, "record")) scored"
            + (agreement.rejected > 0 ? ", \(counted(agreement.rejected, "record")) rejected before the model" : "") + "\n"
        guard agreement.records > 0 else {
            throw PipelineError(.inputMismatch, "--data \(path): no record reached the model (\(counted(agreement.rejected, "record")) rejected)")
        }
        if precision == .float32 {
            out += "  the model runs as written; set `[model] precision` to \"int8\" or \"bf16\" to measure what it costs\n"
            return out
        }
        return out + agreement.report(precision: precision.rawValue)
    }
}
