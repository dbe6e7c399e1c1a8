import Messages
import PipelineSource
import PipelineSupervisor

/// `pipeline rollout`'s command line (after the command word).
func parseRollout(_ rest: inout [String], command name: String) throws(PipelineError) -> Command {
    let target = try takeTarget(&rest, command: name)
    var path: String?
    var mode: Request.Rollout.Mode?
    var percent = 0.0
    func set(_ m: Request.Rollout.Mode, _ option: String) throws(PipelineError) {
        guard mode == nil else {
            throw PipelineError(.usage, "pipeline rollout: give one of --canary, --shadow, --promote and --abort (got \(option) too)")
        }
        mode = m
    }
    while !rest.isEmpty {
        var arg = rest.removeFirst()
        var value: String?
        if arg.hasPrefix("--canary=") {
            value = String(arg.dropFirst("--canary=".count))
            arg = "--canary"
        }
        switch arg {
        case "--canary":
            try set(.canary, arg)
            if value == nil {
                guard !rest.isEmpty else { throw missingValue(arg, command: name) }
                value = rest.removeFirst()
            }
            let text = value!.hasSuffix("%") ? String(value!.dropLast()) : value!
            guard let p = Double(text), p > 0, p < 100, (p * 100).rounded() == p * 100 || abs((p * 100).rounded() - p * 100) < 1e-9 else {
                throw PipelineError(.usage, "pipeline rollout: --canary takes a percentage above 0 and below 100 (at most two decimals), got `\(value!)`")
            }
            percent = p
        case "--shadow": try set(.shadow, arg)
        case "--promote": try set(.promote, arg)
        case "--abort": try set(.abort, arg)
        default:
            guard !arg.hasPrefix("-"), path == nil else { throw unexpected(arg, command: name) }
            path = arg
        }
    }
    let m = mode ?? .cutover
    switch m {
    case .promote, .abort:
        if let path { throw PipelineError(.usage, "pipeline rollout --\(m == .promote ? "promote" : "abort"): takes no NEW_CONFIG_OR_MODEL (got `\(path)`)") }
        return .rollout(target, Request.Rollout(mode: m))
    default:
        guard let path else {
            throw PipelineError(.usage, "pipeline rollout: give the new config (.toml) or ONNX model, e.g. `pipeline rollout models/v2.onnx`")
        }
        return .rollout(target, Request.Rollout(mode: m, path: ConfigFile.absolutePath(path), percent: percent))
    }
}
