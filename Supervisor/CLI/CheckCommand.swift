import Messages
import PipelineSupervisor
import ControlCore
import Engine
import Runtime

/// `pipeline check`.
enum CheckCommand {
    static func run(_ target: Target) throws(PipelineError) -> ExitCode {
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
        try? Sys.writeAll(1, out)
        return .ok
    }
}
