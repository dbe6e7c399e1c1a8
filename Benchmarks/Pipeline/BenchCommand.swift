import PipelineSupervisor
import ControlCore
import Config
import Glibc
import Runtime

/// `pipeline bench`: measures the workloads side by side in one run and writes the report.
public enum BenchCommand {
    /// Runs `pipeline bench` with `options`: measures, prints the report and writes its files.
    ///
    /// - Throws: `PipelineError`: `.environment` when the repository's benchmark models are not
    ///   found, `.internalError` when a run fails or outputs that must agree differ.
    public static func run(_ options: BenchOptions) throws(PipelineError) -> ExitCode {
        do {
            return try measure(options)
        } catch let e as PipelineError {
            throw e
        } catch {
            throw PipelineError(.internalError, "bench: \(error)")
        }
    }

    /// The repository root: the current directory or the one two levels above the binary.
    static func findRoot(executable: String) -> String? {
        let cwd = ConfigFile.absolutePath(".")
        var candidates = [String(cwd.dropLast(2))]
        var exeDir = executable
        for _ in 0..<4 {
            exeDir = String(exeDir[..<(exeDir.lastIndex(of: "/") ?? exeDir.startIndex)])
            candidates.append(exeDir)
        }
        return candidates.first { Sys.access($0 + "/" + BenchFiles.models + "/tabular-mlp.onnx", R_OK) }
    }

    /// Writes each workload's pipeline.toml (reading its model in `root`/Benchmarks/models) and
    /// records to `directory`; returns the files written.
    static func writeData(_ options: BenchOptions, root: String, to directory: String) throws -> [String] {
        _ = try? Sys.mkdir(directory, mode: 0o755)
        var written: [String] = []
        for workload in options.workloads {
            let config = directory + "/\(workload.name).toml"
            let data = directory + "/\(workload.name).jsonl"
            try Sys.writeFile(config, workload.config(modelDirectory: root + "/" + BenchFiles.models))
            try workload.writeData(to: data, records: options.records ?? (options.smoke ? 2000 : workload.defaultRecords))
            written += [config, data]
        }
        return written
    }

    private static func measure(_ options: BenchOptions) throws -> ExitCode {
        guard let work = try? Sys.makeTemporaryDirectory(prefix: "/tmp/pipeline-bench-") else {
            throw PipelineError(.environment, "bench: cannot make a temporary directory")
        }
        defer { removeTree(work) }
        var runner = try BenchRunner(work: work, root: ".")
        guard let root = findRoot(executable: runner.executable) else {
            throw PipelineError(.environment, "bench: run it from the repository (\(BenchFiles.models)/ not found)")
        }
        if let directory = options.dataDirectory {
            for file in try writeData(options, root: root, to: ConfigFile.absolutePath(directory)) {
                try? Sys.writeAll(1, "wrote \(file)\n")
            }
            return .ok
        }
        runner = try BenchRunner(work: work, root: root)
        var report = BenchReport(options: options, machine: MachineInfo.current())
        let arguments = Array(CommandLine.arguments.drop { $0 != "bench" })
        report.command = (["pipeline"] + (arguments.isEmpty ? ["bench"] : arguments)).joined(separator: " ")
        let python = options.python && runner.pythonHas(["orjson", "numpy", "onnxruntime", "scipy", "sklearn", "onnx"])
        let ort = options.python && runner.pythonHas(["onnxruntime", "numpy"])
        if !python { report.notes.append("Python baselines skipped: python3 with orjson, numpy, scipy, scikit-learn, onnx and onnxruntime not found") }
        if !ort { report.notes.append("onnxruntime comparisons skipped: python3 with onnxruntime not found") }

        for workload in options.workloads {
            try measureWorkload(workload, runner: runner, options: options, python: python, into: &report)
        }
        if options.kernels {
            let seconds = options.smoke ? 0.2 : 1.0
            for (name, model, goal) in [("MLP 64→256→256→10", "tabular-mlp.onnx", 1.0),
                                        ("MLP int8 (quantize_dynamic)", "tabular-mlp-int8.onnx", 1.0),
                                        ("trees 100×depth 6", "tabular-trees.onnx", 2.0),
                                        ("logistic regression, 32 features", "kernel-lr.onnx", 1.0)] {
                let path = root + "/" + BenchFiles.models + "/" + model
                var ours: [Double] = [], theirs: [Double] = []
                var difference: Float?
                do {
                    for round in 0..<options.rounds {
                        let mine = try runner.ourEngine(model: path, batch: 256, seconds: seconds)
                        ours.append(mine.rate)
                        guard ort else { continue }
                        // The first round also checks that both compute the same on the same rows.
                        let check = round == 0 ? (input: mine.input, output: mine.output) : nil
                        guard let r = runner.onnxruntime(model: path, batch: 256, seconds: seconds, check: check) else { continue }
                        theirs.append(r.rate)
                        if let values = r.output {
                            difference = values.count == mine.values.count
                                ? zip(values, mine.values).map { abs($0 - $1) }.max() ?? 0 : .infinity
                        }
                    }
                    if let difference, !(difference <= 1e-5) {
                        report.mismatches.append("kernel \(name): outputs differ from onnxruntime's by up to \(difference)")
                    }
                    report.kernels.append(.init(name: name, ours: ours, onnxruntime: theirs, goal: goal, maxDifference: difference))
                } catch {
                    report.notes.append("kernel \(name) skipped: \(error)")
                }
            }
        }
        if options.autoscale {
            try measurePhased(runner: runner, root: root, options: options, into: &report)
        }
        if options.extras {
            try measureExtras(runner: runner, root: root, options: options, into: &report)
        }
        let text = report.text()
        try? Sys.writeAll(1, text)
        if let text = try? Sys.readFile(root + "/" + BenchFiles.analysis) { report.analysis = String(decoding: text, as: UTF8.self) }
        if let out = options.outDirectory ?? (options.smoke ? nil : root) {
            _ = try? Sys.mkdir(out, mode: 0o755)
            try Sys.writeFile(out + "/BENCHMARKS.md", report.markdown())
            _ = try? Sys.mkdir(out + "/docs", mode: 0o755)
            try Sys.writeFile(out + "/docs/benchmark.svg", report.svg())
            try? Sys.writeAll(1, "wrote \(out)/BENCHMARKS.md and \(out)/docs/benchmark.svg\n")
            if let chart = report.autoscaleSVG() {
                try Sys.writeFile(out + "/docs/autoscale.svg", chart)
                try? Sys.writeAll(1, "wrote \(out)/docs/autoscale.svg\n")
            }
        }
        guard report.mismatches.isEmpty else {
            throw PipelineError(.internalError, "bench: outputs that must agree differ:\n  " + report.mismatches.joined(separator: "\n  "))
        }
        return .ok
    }

    private static func measureWorkload(_ workload: BenchWorkload, runner: BenchRunner, options: BenchOptions, python: Bool,
                                        into report: inout BenchReport) throws {
        let records = options.records ?? (options.smoke ? 2000 : workload.defaultRecords)
        let configPath = runner.work + "/\(workload.name).toml"
        let configText = workload.config(modelDirectory: runner.root + "/" + BenchFiles.models)
        try Sys.writeFile(configPath, configText)
        let config: PipelineConfig
        do {
            config = try PipelineConfig.parse(text: configText, path: configPath)
            _ = try Preflight.check(config)
        } catch {
            report.notes.append("\(workload.name) skipped: \(error)")
            return
        }
        let data = runner.work + "/\(workload.name).jsonl"
        try workload.writeData(to: data, records: records)
        let size = Int(try Sys.stat(data)?.st_size ?? 0)
        var result = BenchReport.Workload(workload: workload, records: records, bytes: size)

        // A first fused run finds the stages that cost most; the replica configurations tried
        // give those stages a second replica.
        let probe = try runner.fused(config: config, input: data, keepOutput: true)
        let ranked = StageKind.allCases.indices.sorted { probe.stageCPU[$0] > probe.stageCPU[$1] }.map { StageKind.allCases[$0] }
        // The last: 1/1/1/1 with the shared-memory rings off, what they save side by side.
        let candidates: [[String]] = options.smoke ? [[]]
            : [[], ["\(ranked[0].rawValue)=2"], ["\(ranked[0].rawValue)=2", "\(ranked[1].rawValue)=2"], [BenchReport.socketsOnly]]
        let reference = probe.output
        for round in 0..<options.rounds {
            // Alternate: each round runs every configuration, starting one later than the last round.
            // After the fused run: two fused runs at once (both cores busy, as the processes keep
            // them), a measure of what the machine charges for that (not in a smoke run).
            let sideBySide = options.smoke ? 0 : 1
            let slots = candidates.count + 1 + sideBySide + result.baselines.count
            let order = (0..<slots).map { ($0 + round) % slots }
            for k in order {
                switch k {
                case candidates.count:
                    let fused = try runner.fused(config: config, input: data)
                    result.fused.append(fused.seconds)
                    result.fusedStageCPU.append(fused.stageCPU)
                    result.fusedCPU.append(fused.cpu)
                    result.fusedIOCPU.append(fused.ioCPU)
                case candidates.count + 1 where sideBySide == 1:
                    result.fusedSideBySideCPU += try runner.fusedSideBySide(config: config, input: data)
                case candidates.count + 1 + sideBySide ..< slots:
                    guard python else { continue }
                    let i = k - candidates.count - 1 - sideBySide
                    let script = result.baselines[i].script
                    let out = runner.work + "/python.out"
                    guard let seconds = runner.python(script, config: configPath, input: data, output: out) else {
                        report.notes.append("\(workload.name): the \(result.baselines[i].name) Python baseline failed (see \(script))")
                        continue
                    }
                    result.baselines[i].seconds.append(seconds)
                    if result.baselines[i].agreement == nil, !reference.isEmpty, let theirs = try? Sys.readFile(out, limit: 1 << 40) {
                        result.baselines[i].agreement = Agreement.compare(reference, theirs)
                    }
                default:
                    let out = runner.work + "/processes.out"
                    let socketsOnly = candidates[k] == [BenchReport.socketsOnly]
                    let run = try runner.processes(config: configPath, input: data, output: out, scales: socketsOnly ? [] : candidates[k],
                                                   environment: socketsOnly ? ["PIPELINE_SHARED_MEMORY_MB": "0"] : [:])
                    result.processes[candidates[k].joined(separator: " "), default: []].append(run)
                    if !reference.isEmpty, round == 0, (try? Sys.readFile(out, limit: 1 << 40)) != reference {
                        report.mismatches.append("\(workload.name): processes \(candidates[k]) output DIFFERS from the fused run")
                    }
                }
            }
        }
        if options.autoscale, let best = result.best {
            try measureAutoscale(workload, best: best, scales: candidates.first { $0.joined(separator: " ") == best } ?? [],
                                 data: data, configPath: configPath, runner: runner, options: options, into: &result)
            if result.autoscaleMismatch {
                report.mismatches.append("\(workload.name): the autoscaled run's output DIFFERS from the fixed run's (\(best.isEmpty ? "1/1/1/1" : best))")
            }
        }
        report.workloads.append(result)
    }

    /// `up --autoscale` from 1/1/1/1 against the best fixed configuration of the sweep, on the
    /// same stream, alternately: the workload's records repeated until the best configuration
    /// would need 15 s at the sweep's rate, at most 3 GB (8–10 s in practice: long runs go
    /// faster than the sweep's short ones; the autoscaler's windows are seconds long, a 0.2 s
    /// stream would measure only its start). Both runs are sampled from `/metrics`
    /// every 250 ms, so that the rate once the autoscaler has settled is measured too, over the
    /// same seconds of both runs.
    private static func measureAutoscale(_ workload: BenchWorkload, best: String, scales: [String], data: String, configPath: String,
                                         runner: BenchRunner, options: BenchOptions, into result: inout BenchReport.Workload) throws {
        let bestRate = median(result.rates(best))
        let bytes = try Sys.readFile(data, limit: 1 << 40)
        let copies = options.smoke ? 1 : max(1, min(Int((15 * bestRate / Double(result.records)).rounded(.up)), (3 << 30) / max(bytes.count, 1)))
        let long = runner.work + "/autoscale.jsonl"
        let fd = try Sys.open(long, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        for _ in 0..<copies { try bytes.withUnsafeBytes { try Sys.writeAll(fd, $0) } }
        Sys.close(fd)
        defer { try? Sys.unlink(long) }
        var a = BenchReport.Autoscale(records: result.records * copies, copies: copies, best: best)
        let events = runner.work + "/autoscale-events.jsonl"
        let fixedOut = runner.work + "/autoscale-fixed.out", scaledOut = runner.work + "/autoscale.out"
        defer {
            try? Sys.unlink(fixedOut)
            try? Sys.unlink(scaledOut)
        }
        for round in 0..<options.rounds {
            var samples: [Bool: (seconds: Double, samples: [PhasedRun.Sample])] = [:]
            var settledAt = 0.0
            for autoscaled in round % 2 == 0 ? [false, true] : [true, false] {
                try? Sys.unlink(events)
                let sampler = MetricsSampler(errors: runner.work + "/up.err", start: BenchRunner.now())
                let run = try runner.processes(config: configPath, input: long, output: autoscaled ? scaledOut : fixedOut,
                                               scales: autoscaled ? [] : scales,
                                               options: ["--metrics", "127.0.0.1:0"] + (autoscaled ? ["--autoscale", "--events", events] : [])) { _ in
                    sampler.run()
                }
                samples[autoscaled] = (run.seconds, sampler.samples)
                guard autoscaled else {
                    a.fixed.append(run.seconds)
                    continue
                }
                a.autoscaled.append(run.seconds)
                let changes = PhasedRun.changes(inEventLog: events)
                var counts: [StageKind: Int] = [:]
                for c in changes { counts[c.stage] = c.to }
                a.settled.append(counts)
                a.lastChange.append(changes.last?.t)
                settledAt = changes.last?.t ?? 0
            }
            // Settled: from a second after the last change (the new replica ready, the pipeline
            // refilled) to half a second before the shorter run's end.
            if let f = samples[false], let s = samples[true] {
                let from = settledAt + 1, to = min(f.seconds, s.seconds) - 0.5
                if let x = PhasedRun.rate(f.samples, from: from, to: to), let y = PhasedRun.rate(s.samples, from: from, to: to) {
                    a.steadyFixed.append(x)
                    a.steadyScaled.append(y)
                    a.steadyFrom.append(from)
                }
            }
            if round == 0 && !BenchRunner.sameFiles(fixedOut, scaledOut) {
                result.autoscaleMismatch = true
            }
        }
        result.autoscale = a
    }

    private static func measureExtras(runner: BenchRunner, root: String, options: BenchOptions, into report: inout BenchReport) throws {
        let workload = BenchWorkload.tabularMLP
        let configPath = runner.work + "/latency.toml"
        try Sys.writeFile(configPath, workload.config(modelDirectory: root + "/" + BenchFiles.models))
        let latencies = try runner.latency(config: configPath, workload: workload, count: options.smoke ? 20 : 300, interval: 0.010)
        report.latency = latencies
        var starts: [Double] = []
        var idle: [StageKind: Int] = [:]
        for _ in 0..<(options.smoke ? 1 : 5) {
            let s = try runner.startup(config: configPath, workload: workload)
            starts.append(s.firstOutput)
            for (k, v) in s.idleRSS { idle[k] = max(idle[k] ?? 0, v) }
        }
        report.startup = starts
        report.idleRSS = idle
        report.modelBytes = Int((try? Sys.lstat(root + "/" + BenchFiles.models + "/" + workload.model))?.st_size ?? 0)

        report.metricsCost = try measureMetricsCost(runner: runner, configPath: configPath, workload: workload, options: options)

        let sizes = options.smoke ? [1_000, 4_000] : (options.long ? [10_000, 100_000, 1_000_000, 10_000_000] : [10_000, 100_000, 1_000_000])
        for n in sizes {
            let data = runner.work + "/linear.jsonl"
            try workload.writeData(to: data, records: n)
            let run = try runner.processes(config: configPath, input: data, output: "/dev/null", scales: [])
            report.linear.append(.init(records: n, seconds: run.seconds,
                                       peakRSS: max(run.supervisorRSS, run.stageRSS.values.max() ?? 0)))
            try? Sys.unlink(data)
        }
    }

    /// The phased stream (`PhasedStream`), on the text workload's config with `[autoscale]`.
    private static func measurePhased(runner: BenchRunner, root: String, options: BenchOptions, into report: inout BenchReport) throws {
        let (interval, up, down) = PhasedStream.settings(smoke: options.smoke)
        let config = runner.work + "/phased.toml", fixed = runner.work + "/phased-fixed.toml"
        let plain = BenchWorkload.textLinear.config(modelDirectory: root + "/" + BenchFiles.models)
        try Sys.writeFile(fixed, plain)
        try Sys.writeFile(config, plain + "\n[autoscale]\ninterval_s = \(interval)\nscale_up_after_s = \(up)\nscale_down_after_s = \(down)\n")
        var run = try runner.phased(config: config, fixedConfig: fixed, phases: PhasedStream.phases(smoke: options.smoke))
        run.settings = (interval, up, down)
        run.cores = Sys.processorCount()
        if !run.identical { report.mismatches.append("phased autoscale run: the output DIFFERS from a fixed 1/1/1/1 run's over the same bytes") }
        report.phased = run
    }

    /// `pipeline up` without metrics and with `--metrics` scraped every 100 ms (ten times as
    /// often as Prometheus is usually set to), alternately, on the same input.
    private static func measureMetricsCost(runner: BenchRunner, configPath: String, workload: BenchWorkload,
                                           options: BenchOptions) throws -> BenchReport.MetricsCost {
        let data = runner.work + "/metrics.jsonl"
        let records = options.smoke ? 2_000 : 1_000_000
        try workload.writeData(to: data, records: records)
        defer { try? Sys.unlink(data) }
        var cost = BenchReport.MetricsCost(records: records)
        for round in 0..<(options.smoke ? 1 : max(options.rounds, 5)) {
            for scraped in round % 2 == 0 ? [false, true] : [true, false] {
                if !scraped {
                    let run = try runner.processes(config: configPath, input: data, output: "/dev/null", scales: [])
                    cost.off.append(run.seconds)
                    cost.offSupervisorCPU.append(run.supervisorCPU)
                    continue
                }
                let counter = ScrapeCounter()
                let run = try runner.processes(config: configPath, input: data, output: "/dev/null", scales: [],
                                               options: ["--metrics", "127.0.0.1:0"]) { errors in counter.scrape(announcedIn: errors) }
                cost.on.append(run.seconds)
                cost.onSupervisorCPU.append(run.supervisorCPU)
                cost.scrapes += counter.count
            }
        }
        return cost
    }

    private static func removeTree(_ path: String) {
        for name in (try? Sys.listDirectory(path)) ?? [] {
            let full = path + "/" + name
            if let st = try? Sys.lstat(full), st.st_mode & S_IFMT == S_IFDIR { removeTree(full) } else { try? Sys.unlink(full) }
        }
        try? Sys.rmdir(path)
    }
}

/// `pipeline bench` options.
public struct BenchOptions: Equatable, Sendable {
    public var workloads = BenchWorkload.all
    public var records: Int?
    public var rounds = 3
    public var outDirectory: String?
    public var smoke = false
    public var python = true
    public var long = false
    public var kernels = true
    public var extras = true
    /// Autoscale against the best fixed configuration, and the phased stream.
    public var autoscale = true
    /// `--write-data DIR`: write the workloads' configs and records there, measure nothing.
    public var dataDirectory: String?

    public init() {}

    public static func == (a: BenchOptions, b: BenchOptions) -> Bool {
        a.workloads.map(\.name) == b.workloads.map(\.name) && a.records == b.records && a.rounds == b.rounds
            && a.outDirectory == b.outDirectory && a.smoke == b.smoke && a.python == b.python && a.long == b.long
            && a.kernels == b.kernels && a.extras == b.extras && a.autoscale == b.autoscale && a.dataDirectory == b.dataDirectory
    }
}

/// How many output records carry the same prediction in two outputs (ours and the baseline's).
struct Agreement: Equatable {
    var same: Int
    var total: Int

    /// Compares line by line: the `"label":` values exactly, else the `"score":` values to 1e-5.
    static func compare(_ a: [UInt8], _ b: [UInt8]) -> Agreement {
        let x = a.split(separator: 10), y = b.split(separator: 10)
        var same = 0
        for (l, r) in zip(x, y) where agree(String(decoding: l, as: UTF8.self), String(decoding: r, as: UTF8.self)) { same += 1 }
        return Agreement(same: same, total: max(x.count, y.count))
    }

    private static func agree(_ a: String, _ b: String) -> Bool {
        if let x = field(a, "label"), let y = field(b, "label") { return x == y }
        if let x = field(a, "score").flatMap(Double.init), let y = field(b, "score").flatMap(Double.init) {
            return abs(x - y) <= 1e-5
        }
        return a == b
    }

    private static func field(_ line: String, _ key: String) -> Substring? {
        guard let r = line.firstRange(of: "\"\(key)\":") else { return nil }
        return line[r.upperBound...].prefix { $0 != "," && $0 != "}" }
    }
}

/// Scrapes a running `pipeline up`'s `/metrics` every 100 ms, from when its stderr names the
/// address until the server is gone.
final class ScrapeCounter: @unchecked Sendable {
    /// Successful scrapes (read only after the thread is joined).
    private(set) var count = 0

    func scrape(announcedIn errors: String) {
        guard let address = Self.address(announcedIn: errors) else { return }
        while let response = try? HTTPClient.get(address, "/metrics", timeoutNanos: 2_000_000_000), response.status == 200 {
            count += 1
            Sys.sleep(seconds: 0.1)
        }
    }

    /// The metrics address a starting `pipeline up` names on its stderr (the file `errors`),
    /// waited for up to 10 s.
    static func address(announcedIn errors: String) -> String? {
        for _ in 0..<1000 {
            let text = (try? Sys.readFile(errors)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            if let match = text.firstMatch(of: #/metrics on http://([^/]+)/#) { return String(match.1) }
            Sys.sleep(seconds: 0.01)
        }
        return nil
    }
}
