import Config
import PipelineSupervisor

// The command line's shared pieces: targets, follow flags, stage counts and its error messages.

/// `logs` reads `-f` as `--follow` where it cannot be `-f FILE`: when nothing follows it, or an
/// option (`-…`), or a name `logs` takes (a stage, STAGE.N, `pipeline`, `events`). Returns the
/// arguments without those; `-f FILE` stays for `takeTarget`.
func takeFollow(_ args: [String], into options: inout LogsOptions) -> [String] {
    var kept: [String] = []
    var i = 0
    while i < args.count {
        let arg = args[i]
        let next = i + 1 < args.count ? args[i + 1] : nil
        switch arg {
        case "-f":
            if let next, !next.hasPrefix("-"), !LogTarget.isTargetShaped(next) {
                kept += [arg, next]
                i += 2
            } else {
                options.follow = true
                i += 1
            }
        case "--file", "--run-dir", "--tail":
            // Their values are not looked at here: `--run-dir -f` names a directory.
            kept.append(arg)
            if let next { kept.append(next) }
            i += next == nil ? 1 : 2
        default:
            kept.append(arg)
            i += 1
        }
    }
    return kept
}

/// Removes `-f FILE` / `--file FILE` and `--run-dir DIR` from `args`.
func takeTarget(_ args: inout [String], command: String) throws(PipelineError) -> Target {
    var target = Target()
    var kept: [String] = []
    var i = 0
    while i < args.count {
        let arg = args[i]
        switch arg {
        case "-f", "--file", "--run-dir":
            guard i + 1 < args.count else { throw missingValue(arg, command: command) }
            if arg == "--run-dir" {
                target.runDirectory = args[i + 1]
            } else {
                target.configPath = args[i + 1]
                target.configGiven = true
            }
            i += 2
        default:
            if arg.hasPrefix("--file=") || arg.hasPrefix("--run-dir=") {
                let value = String(arg.drop { $0 != "=" }.dropFirst())
                if arg.hasPrefix("--run-dir=") { target.runDirectory = value } else {
                    target.configPath = value
                    target.configGiven = true
                }
            } else {
                kept.append(arg)
            }
            i += 1
        }
    }
    args = kept
    return target
}

/// "infer=4" → ("infer", 4).
func parseScale(_ text: String) throws(PipelineError) -> (StageName, Int) {
    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
    guard parts.count == 2, let n = Int(parts[1]), (0...64).contains(n) else {
        throw PipelineError(.usage, "expected STAGE=N with N from 0 to 64, got `\(text)`")
    }
    _ = try StageKind.parse(parts[0])
    return (parts[0], n)
}

func unknownCommand(_ name: String) -> PipelineError {
    PipelineError(.usage, "unknown command `\(name)`; commands are up, scale, ps, ls, top, logs, down, check, profile, drift, rollout, export, bench (see `pipeline --help`)")
}

func missingValue(_ option: String, command: String) -> PipelineError {
    PipelineError(.usage, "pipeline \(command): \(option) needs a value")
}

func unexpected(_ arg: String, command: String) -> PipelineError {
    PipelineError(.usage, "pipeline \(command): unexpected argument `\(arg)` (see `pipeline \(command) --help`)")
}
