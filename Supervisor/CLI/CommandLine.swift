import Messages
import PipelineSource
/// The parsed `pipeline` command line.
public enum Command: Equatable, Sendable {
    case up(UpOptions)
    case scale(Target, [(StageName, Int)])
    case ps(Target, json: Bool)
    case top(TopOptions)
    case logs(Target, LogsOptions)
    case ls(json: Bool)
    case down(Target)
    /// `check`; `data`: a sample of records to score in float32 and the config's precision.
    case check(Target, data: String?)
    /// `profile`: a drift reference profile of training records.
    case profile(ProfileOptions)
    /// `drift`: the last drift windows of a running pipeline.
    case drift(Target, json: Bool)
    /// `rollout`: a model rollout step on a running pipeline.
    case rollout(Target, Request.Rollout)
    case bench(BenchOptions)
    /// `export kubernetes`: manifests from the config.
    case export(ExportOptions)
    case help(String)
    case version

    public static func == (a: Command, b: Command) -> Bool { "\(a)" == "\(b)" }
}

/// `pipeline profile`'s options.
public struct ProfileOptions: Equatable, Sendable {
    public var target = Target()
    /// `--input FILE` (default stdin).
    public var inputPath: String?
    /// `--output FILE` (default stdout).
    public var outputPath: String?
    public var bins = 10
    public var top = 20
    /// `--fields a,b`: the fields to profile (default: those a `[[feature]]` reads).
    public var fields: [String]?
    public var predictions = true
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
    /// `--autoscale`: the supervisor sizes the stages to the load.
    public var autoscale = false
    /// `--metrics HOST:PORT`: serve `/metrics` and `/healthz` there (over the config's `[metrics] listen`).
    public var metricsAddress: String?
    /// `--input FILE`: the records are read from FILE instead of stdin.
    public var inputPath: String?
    /// `--split I/N` (with `--input`): score only the I-th of N parts of the file.
    public var split: InputSplit?
    /// `--output FILE`: the scored records go to FILE (created or truncated) instead of stdout.
    public var outputPath: String?
    /// `-d`, `--detach`: run in the background; return once every stage is ready.
    public var detach = false
    /// This process is the background run `up -d` started (an internal option): it tells its
    /// starter on descriptor 3 where it runs and when it is ready.
    public var detachedChild = false
    /// The command line after `up`, without `-d`: what `up -d` runs again in the background.
    public var arguments: [String] = []
}

/// `pipeline logs`: which logs, and how.
public struct LogsOptions: Equatable, Sendable {
    /// What to show; empty: every replica and the supervisor.
    public var targets: [LogTarget] = []
    /// `--follow` (or `-f` where it cannot name a config file): print lines as they come until the run ends.
    public var follow = false
    /// `--tail N`: only the last N lines of each log (each replica's, the event log's, the supervisor's).
    public var tail: Int?
    /// `-t`, `--timestamps`: show each line's time.
    public var timestamps = false

    public init(targets: [LogTarget] = [], follow: Bool = false, tail: Int? = nil, timestamps: Bool = false) {
        self.targets = targets
        self.follow = follow
        self.tail = tail
        self.timestamps = timestamps
    }
}

/// A name `pipeline logs` takes: a stage, one replica, the supervisor, or the raw event log.
public enum LogTarget: Hashable, Sendable {
    /// Every replica of a stage (`infer`), and the supervisor's events about it.
    case stage(StageKind)
    /// One replica (`infer.2`), and the supervisor's events about it.
    case replica(StageKind, Int)
    /// The supervisor: its event log, and its own log when detached (`pipeline`).
    case pipeline
    /// The event log alone, as written: JSON lines without a prefix (`events`).
    case events

    /// True when `word` has the shape of a target (what makes `logs -f WORD` mean follow).
    static func isTargetShaped(_ word: String) -> Bool {
        if word == "pipeline" || word == "events" || StageKind(rawValue: word) != nil { return true }
        let parts = word.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && StageKind(rawValue: String(parts[0])) != nil && !parts[1].isEmpty && parts[1].allSatisfy(\.isNumber)
    }

    static func parse(_ word: String) throws(PipelineError) -> LogTarget {
        switch word {
        case "pipeline": return .pipeline
        case "events": return .events
        default: break
        }
        let parts = word.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else {
            do { return .stage(try StageKind.parse(word)) } catch {
                throw PipelineError(.usage, "pipeline logs: \(error.message), or STAGE.N for one replica, `pipeline` or `events`")
            }
        }
        let stage = try StageKind.parse(parts[0])
        guard let n = Int(parts[1]), n > 0, parts[1].allSatisfy(\.isNumber) else {
            throw PipelineError(.usage, "pipeline logs: `\(word)`: a replica is STAGE.N with N from 1, e.g. `\(stage.rawValue).2`")
        }
        return .replica(stage, n)
    }
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
        if options.target.configGiven { options.arguments += ["-f", options.target.configPath] }
        if let dir = options.target.runDirectory { options.arguments += ["--run-dir", dir] }
        let valued: Set<String> = ["--scale", "--errors", "--stats", "--events", "--metrics", "--input", "--output"]
        while !rest.isEmpty {
            var arg = rest.removeFirst()
            // --input=FILE is --input FILE.
            if let eq = arg.firstIndex(of: "="), valued.contains(String(arg[..<eq])) {
                rest.insert(String(arg[arg.index(after: eq)...]), at: 0)
                arg = String(arg[..<eq])
            }
            if arg == "-d" || arg == "--detach" {
                options.detach = true
                continue
            }
            options.arguments.append(arg)
            if valued.contains(arg), let value = rest.first { options.arguments.append(value) }
            switch arg {
            case "--scale":
                guard !rest.isEmpty else { throw missingValue(arg, command: name) }
                let (stage, n) = try parseScale(rest.removeFirst())
                guard n > 0 else {
                    throw PipelineError(.usage, "pipeline up: --scale \(stage)=0: every stage needs a replica to start "
                                        + "(to pause a running pipeline's \(stage), use `pipeline scale \(stage)=0`)")
                }
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
            case "--input":
                guard !rest.isEmpty else { throw missingValue(arg, command: name) }
                options.inputPath = rest.removeFirst()
            case "--split":
                guard !rest.isEmpty else { throw missingValue(arg, command: name) }
                let text = rest.removeFirst()
                guard let split = InputSplit(text) else {
                    throw PipelineError(.usage, "pipeline up: --split takes I/N with 0 ≤ I < N (N at most 100000), e.g. --split 0/3; got `\(text)`")
                }
                options.split = split
            case "--output":
                guard !rest.isEmpty else { throw missingValue(arg, command: name) }
                options.outputPath = rest.removeFirst()
            case "--detached-child":
                options.detachedChild = true
            case "--autoscale":
                options.autoscale = true
            case "--progress":
                options.progress = .on
            case "--quiet", "-q":
                options.progress = .off
            default: throw unexpected(arg, command: name)
            }
        }
        if options.split != nil && options.inputPath == nil {
            throw PipelineError(.usage, "pipeline up: --split needs --input FILE (a split is a byte range of a file)")
        }
        if options.detach && (options.inputPath == nil || options.outputPath == nil) {
            throw PipelineError(.usage, "pipeline up -d: a detached run needs --input FILE and --output FILE "
                                + "(in the background it has no terminal to read or write)")
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
        var options = LogsOptions()
        rest = takeFollow(rest, into: &options)
        let target = try takeTarget(&rest, command: name)
        while !rest.isEmpty {
            var arg = rest.removeFirst()
            if arg.hasPrefix("--tail=") {
                rest.insert(String(arg.dropFirst("--tail=".count)), at: 0)
                arg = "--tail"
            }
            switch arg {
            case "--follow": options.follow = true
            case "-t", "--timestamps": options.timestamps = true
            case "--tail":
                guard !rest.isEmpty else { throw missingValue(arg, command: name) }
                let value = rest.removeFirst()
                if value == "all" {
                    options.tail = nil
                } else {
                    guard let n = Int(value), n >= 0 else {
                        throw PipelineError(.usage, "pipeline logs: --tail takes a number of lines (0 or more) or `all`, got `\(value)`")
                    }
                    options.tail = n
                }
            default:
                guard !arg.hasPrefix("-") else { throw unexpected(arg, command: name) }
                let target = try LogTarget.parse(arg)
                if !options.targets.contains(target) { options.targets.append(target) }
            }
        }
        if options.targets.contains(.events) && options.targets.count > 1 {
            throw PipelineError(.usage, "pipeline logs: `events` prints the event log alone, as written; "
                                + "`pipeline` shows the supervisor's events among other logs")
        }
        return .logs(target, options)
    case "ls":
        var json = false
        for arg in rest {
            guard arg == "--json" else { throw unexpected(arg, command: name) }
            json = true
        }
        return .ls(json: json)
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
            case "--no-autoscale": options.autoscale = false
            case "--write-data": options.dataDirectory = try value()
            default: throw unexpected(arg, command: name)
            }
        }
        if !picked.isEmpty { options.workloads = picked }
        return .bench(options)
    case "down":
        let target = try takeTarget(&rest, command: name)
        if let arg = rest.first { throw unexpected(arg, command: name) }
        return .down(target)
    case "profile":
        var options = ProfileOptions(target: try takeTarget(&rest, command: name))
        while !rest.isEmpty {
            let arg = rest.removeFirst()
            func value() throws(PipelineError) -> String {
                guard !rest.isEmpty else { throw missingValue(arg, command: name) }
                return rest.removeFirst()
            }
            func number(_ range: ClosedRange<Int>) throws(PipelineError) -> Int {
                let text = try value()
                guard let n = Int(text), range.contains(n) else {
                    throw PipelineError(.usage, "\(name): \(arg) takes a whole number from \(range.lowerBound) to \(range.upperBound), not `\(text)`")
                }
                return n
            }
            switch arg {
            case "--input": options.inputPath = try value()
            case "--output", "-o": options.outputPath = try value()
            case "--bins": options.bins = try number(2...100)
            case "--top": options.top = try number(1...1000)
            case "--fields":
                let names = try value().split(separator: ",", omittingEmptySubsequences: true).map(String.init)
                guard !names.isEmpty else { throw PipelineError(.usage, "\(name): --fields takes field names separated by commas") }
                options.fields = names
            case "--no-predictions": options.predictions = false
            default: throw unexpected(arg, command: name)
            }
        }
        return .profile(options)
    case "rollout":
        return try parseRollout(&rest, command: name)
    case "drift":
        let target = try takeTarget(&rest, command: name)
        var json = false
        for arg in rest {
            guard arg == "--json" else { throw unexpected(arg, command: name) }
            json = true
        }
        return .drift(target, json: json)
    case "export":
        let target = try takeTarget(&rest, command: name)
        return try parseExport(rest, target: target)
    case "check":
        let target = try takeTarget(&rest, command: name)
        var data: String?
        var i = 0
        while i < rest.count {
            let arg = rest[i]
            if arg == "--data" {
                guard i + 1 < rest.count else { throw missingValue(arg, command: name) }
                data = rest[i + 1]
                i += 2
            } else if arg.hasPrefix("--data=") {
                data = String(arg.dropFirst("--data=".count))
                i += 1
            } else {
                throw unexpected(arg, command: name)
            }
        }
        return .check(target, data: data)
    default:
        throw unknownCommand(name)
    }
}

import Bench
import PipelineSupervisor
import Config
