/// The parsed `pipeline` command line.
public enum Command: Equatable, Sendable {
    case up(UpOptions)
    case scale(Target, [(StageName, Int)])
    case ps(Target, json: Bool)
    case top(TopOptions)
    case logs(Target, stage: StageName?)
    case down(Target)
    case check(Target)
    case bench(BenchOptions)
    case help(String)
    case version

    public static func == (a: Command, b: Command) -> Bool { "\(a)" == "\(b)" }
}

/// A stage name as typed (validated into `StageKind` where used).
public typealias StageName = String

/// Which pipeline a command is about: a config file and/or an explicit run directory.
public struct Target: Equatable, Sendable {
    public init(configPath: String = "compose/pipeline.toml", configGiven: Bool = false, runDirectory: String? = nil) {
        self.configPath = configPath
        self.configGiven = configGiven
        self.runDirectory = runDirectory
    }

    public var configPath: String = "compose/pipeline.toml"
    public var configGiven = false
    public var runDirectory: String?
}

public struct UpOptions: Equatable, Sendable {
    public var target = Target()
    public var scales: [String: Int] = [:]
    /// Where rejected records go (default stderr).
    public var errorsPath: String?
    /// Where to write the run's statistics as JSON at the end.
    public var statsPath: String?
    /// Where to write the event log too (it always goes to the run directory's logs).
    public var eventsPath: String?
    /// The progress line on stderr: `--progress` forces it, `--quiet` stops it.
    public var progress = ProgressMode.auto
    /// `--metrics HOST:PORT`: serve `/metrics` and `/healthz` there (over the config's `[metrics] listen`).
    public var metricsAddress: String?
}

public struct TopOptions: Equatable, Sendable {
    public var target = Target()
    /// Print one frame as plain text and exit.
    public var once = false
    /// Seconds between frames (0.1–3600).
    public var intervalSeconds = 1.0
}

/// Parses `arguments` (without argv[0]).
public func parseCommandLine(_ arguments: [String]) throws(PipelineError) -> Command {
    guard let name = arguments.first else { return .help(Help.main) }
    var rest = Array(arguments.dropFirst())
    if rest.contains("--help") || rest.contains("-h") {
        guard let text = Help.command[name] else { throw unknownCommand(name) }
        return .help(text)
    }
    switch name {
    case "--help", "-h", "help":
        if let topic = rest.first, let text = Help.command[topic] { return .help(text) }
        return .help(Help.main)
    case "--version", "version": return .version
    case "up":
        var options = UpOptions()
        options.target = try takeTarget(&rest, command: name)
        while !rest.isEmpty {
            let arg = rest.removeFirst()
            switch arg {
            case "--scale":
                guard !rest.isEmpty else { throw missingValue(arg, command: name) }
                let (stage, n) = try parseScale(rest.removeFirst())
                options.scales[stage] = n
            case "--errors":
                guard !rest.isEmpty else { throw missingValue(arg, command: name) }
                options.errorsPath = rest.removeFirst()
            case "--stats":
                guard !rest.isEmpty else { throw missingValue(arg, command: name) }
                options.statsPath = rest.removeFirst()
            case "--events":
                guard !rest.isEmpty else { throw missingValue(arg, command: name) }
                options.eventsPath = rest.removeFirst()
            case "--metrics":
                guard !rest.isEmpty else { throw missingValue(arg, command: name) }
                let address = rest.removeFirst()
                if let problem = ListenAddress.problem(address) { throw PipelineError(.usage, "pipeline up: --metrics: \(problem)") }
                options.metricsAddress = address
            case "--progress":
                options.progress = .on
            case "--quiet", "-q":
                options.progress = .off
            default: throw unexpected(arg, command: name)
            }
        }
        return .up(options)
    case "scale":
        let target = try takeTarget(&rest, command: name)
        guard !rest.isEmpty else { throw PipelineError(.usage, "pipeline scale: give at least one STAGE=N, e.g. `pipeline scale infer=4`") }
        var scales: [(StageName, Int)] = []
        for arg in rest {
            guard !arg.hasPrefix("-") else { throw unexpected(arg, command: name) }
            scales.append(try parseScale(arg))
        }
        return .scale(target, scales)
    case "ps":
        let target = try takeTarget(&rest, command: name)
        var json = false
        for arg in rest {
            guard arg == "--json" else { throw unexpected(arg, command: name) }
            json = true
        }
        return .ps(target, json: json)
    case "top":
        var options = TopOptions()
        options.target = try takeTarget(&rest, command: name)
        while !rest.isEmpty {
            var arg = rest.removeFirst()
            var value: String?
            if arg.hasPrefix("--interval=") {
                value = String(arg.dropFirst("--interval=".count))
                arg = "--interval"
            }
            switch arg {
            case "--once": options.once = true
            case "--interval":
                if value == nil {
                    guard !rest.isEmpty else { throw missingValue(arg, command: name) }
                    value = rest.removeFirst()
                }
                guard let seconds = Double(value!), (0.1...3600).contains(seconds) else {
                    throw PipelineError(.usage, "pipeline top: --interval takes seconds from 0.1 to 3600, got `\(value!)`")
                }
                options.intervalSeconds = seconds
            default: throw unexpected(arg, command: name)
            }
        }
        return .top(options)
    case "logs":
        let target = try takeTarget(&rest, command: name)
        guard rest.count <= 1, !(rest.first?.hasPrefix("-") ?? false) else { throw unexpected(rest.last!, command: name) }
        return .logs(target, stage: rest.first)
    case "bench":
        var options = BenchOptions()
        var picked: [BenchWorkload] = []
        while !rest.isEmpty {
            let arg = rest.removeFirst()
            func value() throws(PipelineError) -> String {
                guard !rest.isEmpty else { throw missingValue(arg, command: name) }
                return rest.removeFirst()
            }
            switch arg {
            case "--workload":
                let w = try value()
                if w == "all" { picked = BenchWorkload.all; continue }
                guard let workload = BenchWorkload.named(w) else {
                    throw PipelineError(.usage, "pipeline bench: unknown workload `\(w)`; workloads are \(BenchWorkload.all.map(\.name).joined(separator: ", ")), all")
                }
                picked.append(workload)
            case "--records":
                guard let n = Int(try value()), n > 0 else { throw PipelineError(.usage, "pipeline bench: --records takes a positive number") }
                options.records = n
            case "--rounds":
                guard let n = Int(try value()), n > 0 else { throw PipelineError(.usage, "pipeline bench: --rounds takes a positive number") }
                options.rounds = n
            case "--out": options.outDirectory = try value()
            case "--smoke":
                options.smoke = true
                options.rounds = 1
            case "--no-python": options.python = false
            case "--long": options.long = true
            case "--no-kernels": options.kernels = false
            case "--no-extras": options.extras = false
            case "--write-data": options.dataDirectory = try value()
            default: throw unexpected(arg, command: name)
            }
        }
        if !picked.isEmpty { options.workloads = picked }
        return .bench(options)
    case "down", "check":
        let target = try takeTarget(&rest, command: name)
        if let arg = rest.first { throw unexpected(arg, command: name) }
        return name == "down" ? .down(target) : .check(target)
    default:
        throw unknownCommand(name)
    }
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

private func unknownCommand(_ name: String) -> PipelineError {
    PipelineError(.usage, "unknown command `\(name)`; commands are up, scale, ps, top, logs, down, check, bench (see `pipeline --help`)")
}

private func missingValue(_ option: String, command: String) -> PipelineError {
    PipelineError(.usage, "pipeline \(command): \(option) needs a value")
}

private func unexpected(_ arg: String, command: String) -> PipelineError {
    PipelineError(.usage, "pipeline \(command): unexpected argument `\(arg)` (see `pipeline \(command) --help`)")
}

import Bench
import PipelineSupervisor
import Config
