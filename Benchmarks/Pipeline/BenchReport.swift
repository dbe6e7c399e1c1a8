import PipelineSupervisor
import Config
import Glibc
import Messages
import Runtime

/// What `pipeline bench` measured, and its text, Markdown and SVG forms.
struct BenchReport {
    struct Workload {
        var workload: BenchWorkload
        var records: Int
        var bytes: Int
        var fused: [Double] = []
        var fusedStageCPU: [[Double]] = []
        /// CPU seconds of each fused run, all of it (cutting the input included).
        var fusedCPU: [Double] = []
        /// Of `fusedCPU`: reading the input file and writing the output file (what `up` does with
        /// stdin and stdout).
        var fusedIOCPU: [Double] = []
        /// CPU seconds of fused runs made two at a time (both cores busy).
        var fusedSideBySideCPU: [Double] = []
        var processes: [String: [BenchRunner.ProcessRun]] = [:]
        /// The Python baselines, the headline first: seconds per run, predictions compared once.
        var baselines = [Baseline(name: "vectorized", script: BenchFiles.vectorizedBaseline, headline: true),
                         Baseline(name: "generic", script: BenchFiles.pythonBaseline, headline: false)]
        /// `up --autoscale` from 1/1/1/1 against the best fixed configuration, on a longer stream.
        var autoscale: Autoscale?
        var autoscaleMismatch = false

        func rate(_ seconds: Double) -> Double { Double(records) / seconds }
        var fusedRates: [Double] { fused.map(rate) }
        func rates(_ b: Baseline) -> [Double] { b.seconds.map(rate) }
        func rates(_ key: String) -> [Double] { (processes[key] ?? []).map { rate($0.seconds) } }
        /// The replica configuration with the best median records/s.
        var best: String? { processes.keys.filter { $0 != socketsOnly }.max { median(rates($0)) < median(rates($1)) } }
        /// CPU µs per record of each stage in the fused run (median over rounds), in stage order.
        var fusedMicros: [Double] {
            (0..<4).map { i in median(fusedStageCPU.map { $0[i] }) * 1e6 / Double(records) }
        }
    }

    /// `up --autoscale` from 1/1/1/1 and the best fixed configuration `best`, alternately, on
    /// the workload's records repeated `copies` times: seconds per run, and per autoscaled run
    /// the counts it ended with and when it made its last change (seconds into the run).
    struct Autoscale {
        var records: Int
        var copies: Int
        var best: String
        var fixed: [Double] = []
        var autoscaled: [Double] = []
        var settled: [[StageKind: Int]] = []
        var lastChange: [Double?] = []
        /// Per round, output records/s of both runs over the same seconds, from a second after
        /// the autoscaler's last change (`steadyFrom`) to near the end.
        var steadyFixed: [Double] = []
        var steadyScaled: [Double] = []
        var steadyFrom: [Double] = []

        func rate(_ seconds: Double) -> Double { Double(records) / seconds }
        var ratio: Double { median(autoscaled.map(rate)) / median(fixed.map(rate)) }
        /// The median over rounds of each round's settled ratio.
        var steadyRatio: Double? { steadyFixed.isEmpty ? nil : median(zip(steadyScaled, steadyFixed).map { $0 / $1 }) }
    }

    /// One Python pipeline (`script`) the bench runs beside ours.
    struct Baseline {
        let name: String
        let script: String
        let headline: Bool
        var seconds: [Double] = []
        var agreement: Agreement?
    }

    struct Kernel {
        var name: String
        var ours: [Double]
        var onnxruntime: [Double]
        var goal: Double
        /// The largest |ours − onnxruntime's| on the same batch, when onnxruntime ran.
        var maxDifference: Float?
    }

    struct Linear {
        var records: Int
        var seconds: Double
        var peakRSS: Int
    }

    let options: BenchOptions
    let machine: MachineInfo
    var workloads: [Workload] = []
    var kernels: [Kernel] = []
    var latency: [Double] = []
    var startup: [Double] = []
    var idleRSS: [StageKind: Int] = [:]
    var modelBytes = 0
    var linear: [Linear] = []
    /// `up` without and with `/metrics` scraped: seconds per run.
    struct MetricsCost {
        var records: Int
        var off: [Double] = []
        var on: [Double] = []
        var scrapes = 0
        /// The supervisor's CPU seconds per run.
        var offSupervisorCPU: [Double] = []
        var onSupervisorCPU: [Double] = []
    }
    var metricsCost: MetricsCost?
    /// The phased autoscale run.
    var phased: PhasedRun?
    var notes: [String] = []
    /// Outputs that had to agree and did not (a bug): listed in the report, and the command fails.
    var mismatches: [String] = []
    /// The command as run (`pipeline bench` and its arguments), for the report.
    var command = "pipeline bench"
    /// The hand-written analysis (Benchmarks/ANALYSIS.md) appended to BENCHMARKS.md: where the time goes.
    var analysis: String?

    init(options: BenchOptions, machine: MachineInfo) {
        self.options = options
        self.machine = machine
    }

    // MARK: Derived figures

    /// Records/s a perfect scale-out would reach: cores ÷ the stages' CPU time per record.
    func ideal(_ w: Workload) -> Double { Double(machine.cores) / (w.fusedMicros.reduce(0, +) / 1e6) }

    /// Extra CPU per record per hop in the multi-process run, over the fused run's.
    /// The key of the 1/1/1/1 run with the shared-memory rings off (`PIPELINE_SHARED_MEMORY_MB=0`).
    static let socketsOnly = "sockets only"

    func hopOverhead(_ w: Workload, _ key: String) -> Double? {
        guard let runs = w.processes[key], !runs.isEmpty, !w.fused.isEmpty else { return nil }
        let processCPU = median(runs.map(\.totalCPU)) / Double(w.records)
        let fusedCPU = median(w.fusedCPU) / Double(w.records)
        return (processCPU - fusedCPU) * 1e6 / 5
    }

    // MARK: Text

    func text() -> String {
        var out = "pipeline bench — \(machine.description)\n"
        out += "\(counted(options.rounds, "round")) per configuration, run alternately (A B C … A B C …)\n"
        for w in workloads {
            out += "\n== \(w.workload.name): \(w.workload.summary)\n"
            out += "   \(counted(w.records, "record")), \(format(Double(w.bytes) / 1e6, 1)) MB\n"
            for row in workloadRows(w) { out += "   " + row.joined(separator: "  ") + "\n" }
            for line in ratioLines(w) { out += "   " + line + "\n" }
        }
        if !kernels.isEmpty {
            out += "\n== kernels: one thread, batch 256, rows/s (median)\n"
            for row in kernelRows() { out += "   " + row.joined(separator: "  ") + "\n" }
            if let line = int8Line() { out += "   " + line + "\n" }
        }
        for line in phasedLines() { out += line + "\n" }
        for line in extraLines() { out += line + "\n" }
        for n in notes { out += "note: \(n)\n" }
        for m in mismatches { out += "MISMATCH: \(m)\n" }
        return out
    }

    func workloadRows(_ w: Workload) -> [[String]] {
        var rows: [[String]] = [["configuration".padding(24), "records/s median (min–max)".padding(32), "CPU µs/record: ingest featurize infer aggregate supervisor", "peak RSS MB"]]
        let fm = w.fusedMicros
        rows.append(["fused, 1 process".padding(24), spread(w.fusedRates).padding(32),
                     fm.map { format($0, 2) }.joined(separator: " ") + " –", "–"])
        for key in w.processes.keys.sorted(by: { ($0 == Self.socketsOnly ? 1 : 0, $0) < ($1 == Self.socketsOnly ? 1 : 0, $1) }) {
            let runs = w.processes[key]!
            let cpu = StageKind.allCases.map { s in median(runs.map { $0.stageCPU[s] ?? 0 }) * 1e6 / Double(w.records) }
                + [median(runs.map(\.supervisorCPU)) * 1e6 / Double(w.records)]
            let rss = StageKind.allCases.map { s in runs.map { $0.stageRSS[s] ?? 0 }.max() ?? 0 } + [runs.map(\.supervisorRSS).max() ?? 0]
            let label = "processes " + (key.isEmpty ? "1/1/1/1" : key == Self.socketsOnly ? "1/1/1/1, sockets only" : key) + (key == w.best ? " *" : "")
            rows.append([label.padding(24), spread(w.rates(key)).padding(32), cpu.map { format($0, 2) }.joined(separator: " "),
                         rss.map { format(Double($0) / 1_048_576, 0) }.joined(separator: "/")])
        }
        for b in w.baselines where !b.seconds.isEmpty {
            rows.append(["python, \(b.name)".padding(24), spread(w.rates(b)).padding(32), "", ""])
        }
        return rows
    }

    func ratioLines(_ w: Workload) -> [String] {
        var lines: [String] = []
        guard let best = w.best else { return lines }
        let bestRate = median(w.rates(best))
        for b in w.baselines where !b.seconds.isEmpty {
            let agree = b.agreement.map { "\($0.same)/\($0.total) same predictions" } ?? "predictions not compared"
            lines.append("best / python, \(b.name)\(b.headline ? " (the headline)" : ""): \(format(bestRate / median(w.rates(b)), 2))× (\(agree))")
        }
        lines.append("scale-out efficiency: \(format(bestRate, 0)) of an ideal \(format(ideal(w), 0)) records/s = \(format(100 * bestRate / ideal(w), 1))% (ideal: \(machine.cores) cores ÷ \(format(w.fusedMicros.reduce(0, +), 2)) µs of stage CPU per record, fused)")
        if let hop = hopOverhead(w, "") {
            lines.append("per-hop overhead (1/1/1/1, 5 hops): \(format(hop, 2)) µs of CPU per record per hop")
            let fused = median(w.fusedCPU) / Double(w.records) * 1e6
            let extra = 100 * hop * 5 / fused
            lines.append("processes (1/1/1/1) against the fused stages: \(format(fused + hop * 5, 2)) vs \(format(fused, 2)) µs of CPU "
                         + "per record, \(format(extra, 0))% more (goal ≤ 25%: \(extra <= 25 ? "met" : "NOT met"))")
            if !w.fusedIOCPU.isEmpty {
                let io = median(w.fusedIOCPU) / Double(w.records) * 1e6
                lines.append("of the fused run's \(format(fused, 2)) µs: \(format(io, 2)) reading the input file and writing the output file "
                             + "(read(2), write(2)), as `up` does with stdin and stdout; without them, processes would be "
                             + "\(format(100 * (hop * 5 + io) / (fused - io), 0))% more")
            }
            if !w.fusedSideBySideCPU.isEmpty {
                let both = median(w.fusedSideBySideCPU) / Double(w.records) * 1e6
                let processes = fused + hop * 5
                let tax = 100 * (both - fused) / fused
                lines.append("fused runs two at a time (both cores busy, as the processes keep them): \(format(both, 2)) µs of CPU per record, "
                             + "\(format(abs(tax), 0))% \(tax >= 0 ? "more" : "less") than alone; the processes are "
                             + "\(format(100 * (processes - both) / both, 0))% more than that")
            }
            if let socketHop = hopOverhead(w, Self.socketsOnly) {
                let withRings = fused + hop * 5, sockets = fused + socketHop * 5
                let saved = 100 * (sockets - withRings) / sockets
                lines.append("shared-memory rings (1/1/1/1): \(format(withRings, 2)) vs \(format(sockets, 2)) µs of CPU per record over the "
                             + "sockets only (PIPELINE_SHARED_MEMORY_MB=0), \(format(abs(saved), 1))% \(saved >= 0 ? "less" : "more"); "
                             + "\(format(100 * socketHop * 5 / fused, 0))% more than fused without them")
            }
        }
        if let runs = w.processes[best], !runs.isEmpty {
            let system = StageKind.allCases.map { s in median(runs.map { $0.stageSystem[s] ?? 0 }) * 1e6 / Double(w.records) }
                + [median(runs.map(\.supervisorSystem)) * 1e6 / Double(w.records)]
            lines.append("of the best run's CPU µs/record, in the kernel (system calls): " + system.map { format($0, 2) }.joined(separator: " "))
        }
        lines.append("fused (one core) / best: \(format(median(w.fusedRates) / bestRate, 2))")
        if let a = w.autoscale, !a.autoscaled.isEmpty, !a.fixed.isEmpty {
            let name = a.best.isEmpty ? "1/1/1/1" : a.best
            lines.append("autoscale from 1/1/1/1 on \(counted(a.records, "record")) (the records \(a.copies)×, "
                         + "\(format(median(a.fixed), 1)) s for the best fixed), whole runs: "
                         + "\(spread(a.autoscaled.map(a.rate))) records/s against \(spread(a.fixed.map(a.rate))) for the best fixed "
                         + "(\(name)) = \(format(100 * a.ratio, 1))%, its first seconds at fewer replicas included")
            if let steady = a.steadyRatio {
                // A round without a settled window (its last change too late) fails the goal.
                let all = a.steadyFixed.count == a.fixed.count
                lines.append("autoscale once settled (from \(format(median(a.steadyFrom), 1)) s to the end, both runs over the same seconds): "
                             + "\(spread(a.steadyScaled)) records/s against \(spread(a.steadyFixed)) = \(format(100 * steady, 1))% "
                             + "(median of the rounds' ratios, \(a.steadyFixed.count) of \(counted(a.fixed.count, "round")) settled; "
                             + "goal ≥ 90% in every round's median: \(steady >= 0.9 && all ? "met" : "NOT met"))")
            } else {
                lines.append("autoscale once settled: not measured (the runs end too soon after its last change)")
            }
            let runs = zip(a.settled, a.lastChange).map { counts, last in
                let settled = StageKind.allCases.map { "\(counts[$0] ?? 1)" }.joined(separator: "/")
                return settled + (last.map { " by \(format($0, 1)) s" } ?? " (no change)")
            }
            lines.append("autoscale settled on (ingest/featurize/infer/aggregate, when): " + runs.joined(separator: "; "))
        }
        return lines
    }

    func kernelRows() -> [[String]] {
        var rows = [["model".padding(34), "ours".padding(12), "onnxruntime".padding(12), "ratio (goal)".padding(16), "max |diff|"]]
        for k in kernels {
            let ours = median(k.ours), theirs = k.onnxruntime.isEmpty ? nil : median(k.onnxruntime)
            rows.append([k.name.padding(34), format(ours, 0).padding(12), (theirs.map { format($0, 0) } ?? "–").padding(12),
                         (theirs.map { "\(format(ours / $0, 2))× (≥ \(format(k.goal, 1))×)" } ?? "–").padding(16),
                         k.maxDifference.map { "\($0)" } ?? "–"])
        }
        return rows
    }

    /// Our int8 MLP against our float32 MLP, both from the kernel rows.
    func int8Line() -> String? {
        guard let float = kernels.first(where: { $0.name.hasPrefix("MLP 64") }),
              let int8 = kernels.first(where: { $0.name.hasPrefix("MLP int8") }),
              !float.ours.isEmpty, !int8.ours.isEmpty else { return nil }
        let ratio = median(int8.ours) / median(float.ours)
        return "int8 MLP / float32 MLP (ours): \(format(ratio, 2))× (goal ≥ 1.8×: \(ratio >= 1.8 ? "met" : "NOT met"))"
    }

    func extraLines() -> [String] {
        var lines: [String] = []
        if !latency.isEmpty {
            let sorted = latency.sorted()
            let p99 = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
            lines.append("\n== latency, tabular-mlp, one record every 10 ms (\(counted(latency.count, "record")))")
            lines.append("   median \(format(median(latency), 3)) ms (goal < 1), p99 \(format(p99, 3)) ms (goal < 5), max \(format(sorted.last!, 3)) ms")
        }
        if !startup.isEmpty {
            lines.append("\n== footprint, tabular-mlp, one replica per stage")
            lines.append("   pipeline up → first output: median \(format(median(startup), 1)) ms (goal < 150) over \(startup.count) starts")
            let idle = StageKind.allCases.map { "\($0.rawValue) \(format(Double(idleRSS[$0] ?? 0) / 1_048_576, 1))" }.joined(separator: ", ")
            lines.append("   idle replica RSS MB: \(idle) (goal < 20 + the model: \(format(Double(modelBytes) / 1_048_576, 2)) MB)")
        }
        if !linear.isEmpty {
            lines.append("\n== cost versus input size, tabular-mlp, 1/1/1/1")
            // The start-up (time to first output, measured above) is paid once per run; without
            // it, the rate is what the stream itself sustains.
            let start = startup.isEmpty ? 0 : median(startup) / 1000
            for l in linear {
                var line = "   \(String(l.records).padding(9)) records: \(format(Double(l.records) / l.seconds, 0)) records/s"
                if start > 0 && l.seconds > start {
                    line += " (\(format(Double(l.records) / (l.seconds - start), 0)) without the \(format(start * 1000, 0)) ms start-up)"
                }
                lines.append(line + ", peak RSS \(format(Double(l.peakRSS) / 1_048_576, 1)) MB")
            }
        }
        if let m = metricsCost, !m.off.isEmpty, !m.on.isEmpty {
            let off = median(m.off), on = median(m.on)
            lines.append("\n== metrics cost, tabular-mlp, \(counted(m.records, "record")), 1/1/1/1, \(counted(m.off.count, "run")) each, alternating")
            lines.append("   without --metrics: median \(format(off, 3)) s; with --metrics scraped every 100 ms (\(m.scrapes) scrapes): "
                         + "median \(format(on, 3)) s; cost \(format((on / off - 1) * 100, 2))% (goal < 1%)")
            // Per run, not per scrape: a scrape's fraction of a millisecond is lost in the run-to-run
            // spread of the supervisor's CPU time (README "Monitoring" has it, measured on an idle run).
            lines.append("   supervisor CPU per run: median \(format(median(m.offSupervisorCPU), 3)) s without, "
                         + "\(format(median(m.onSupervisorCPU), 3)) s with; runs vary by ±10% on a shared 2-core machine")
        }
        return lines
    }
}

/// The machine a report was measured on.
struct MachineInfo {
    var cpu: String
    var cores: Int
    var date: String

    static func current() -> MachineInfo {
        let info = (try? Sys.readFile("/proc/cpuinfo", limit: 1 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let model = info.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last
        let flags = info.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let simd = flags.contains("avx512f") ? "AVX-512" : flags.contains("avx2") ? "AVX2" : "no AVX2"
        var t = time_t(Sys.wallSeconds())
        var tmv = tm()
        gmtime_r(&t, &tmv)
        let date = "\(tmv.tm_year + 1900)-\(two(Int(tmv.tm_mon) + 1))-\(two(Int(tmv.tm_mday))) \(two(Int(tmv.tm_hour))):\(two(Int(tmv.tm_min))) UTC"
        return MachineInfo(cpu: (model.map { String($0).trimmingSpaces() } ?? "unknown CPU") + ", " + simd,
                           cores: Sys.processorCount(), date: date)
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    var description: String { "\(date), \(cpu), \(counted(cores, "core"))" }
}

func median(_ xs: [Double]) -> Double {
    guard !xs.isEmpty else { return .nan }
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// "median (min–max)".
func spread(_ xs: [Double]) -> String {
    guard let lo = xs.min(), let hi = xs.max() else { return "–" }
    return "\(format(median(xs), 0)) (\(format(lo, 0))–\(format(hi, 0)))"
}

/// `x` with `decimals` digits after the point.
func format(_ x: Double, _ decimals: Int) -> String {
    guard x.isFinite else { return "–" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let v = Int((abs(x) * scale).rounded())
    let whole = String(v / Int(scale))
    let sign = x < 0 && v != 0 ? "-" : ""
    guard decimals > 0 else { return sign + whole }
    let fraction = String(v % Int(scale))
    return sign + whole + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    func trimmingSpaces() -> String { String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " }.reversed()) }
}

/// The phased autoscale run as text lines (the Markdown reuses them) and as a chart.
extension BenchReport {
    static let phasedBound = 6

    func phasedLines() -> [String] {
        guard let p = phased else { return [] }
        var lines = ["\n== autoscale: one stream in phases (text-linear config, up --autoscale, \(counted(p.cores, "core")); "
            + "a look every \(format(p.settings.interval, 2)) s, up after \(format(p.settings.up, 1)) s, down after \(format(p.settings.down, 0)) s)"]
        lines.append("   " + ["phase".padding(20), "seconds".padding(13), "records".padding(9), "records/s".padding(10),
                                "replicas at its end", "first change in it"].joined(separator: "  "))
        for phase in p.phases {
            let counts = p.desired(at: phase.end).map(String.init).joined(separator: "/")
            let first = p.changes.first { $0.t >= phase.start && $0.t < phase.end }
            let change = first.map { "+\(format($0.t - phase.start, 1)) s: \($0.stage.rawValue) \($0.from) → \($0.to)" } ?? "none"
            lines.append("   " + [phase.name.padding(20), "\(format(phase.start, 1))–\(format(phase.end, 1))".padding(13),
                                    String(phase.records).padding(9), format(Double(phase.records) / max(phase.end - phase.start, 1e-9), 0).padding(10),
                                    "\(counts)".padding(19), change].joined(separator: "  "))
        }
        for c in p.changes {
            lines.append("   \(format(c.t, 1)) s  \(c.stage.rawValue) \(c.from) → \(c.to): \(c.reason)")
        }
        // The goals, judged: each fast phase grows a stage within the up window and 2 s (its
        // first look, a replica's start); the quiet phase is back to 1/1/1/1 within the down
        // window and 3 s (the last phase's backlog drains first), before it ends.
        var verdicts: [String] = []
        var previousGrew = false
        for phase in p.phases {
            let changes = p.changes.filter { $0.t >= phase.start && $0.t < phase.end }
            if phase.shape == .quiet {
                guard previousGrew else {
                    verdicts.append("\(phase.name): nothing to give back (no stage grew before it): NOT met")
                    continue
                }
                let back = p.samples.first { $0.t >= phase.start && $0.t < phase.end && $0.desired.allSatisfy { $0 == 1 } }
                let limit = p.settings.down + 3
                verdicts.append("\(phase.name): " + (back.map { "back to 1/1/1/1 \(format($0.t - phase.start, 1)) s into it (limit \(format(limit, 0)) s): "
                    + ($0.t - phase.start <= limit ? "met" : "NOT met") } ?? "NOT back to 1/1/1/1 before it ended: NOT met"))
            } else {
                let grew = changes.first { $0.to > $0.from }
                previousGrew = grew != nil
                let limit = p.settings.up + 2
                verdicts.append("\(phase.name): " + (grew.map { "\($0.stage.rawValue) grew \(format($0.t - phase.start, 1)) s into it (limit \(format(limit, 0)) s): "
                    + ($0.t - phase.start <= limit ? "met" : "NOT met") } ?? "no stage grew: NOT met"))
            }
        }
        let moves = p.started + p.drained
        verdicts.append("replicas started and drained by the autoscaler: \(p.started) + \(p.drained) = \(moves) (bound: at most \(Self.phasedBound)): "
            + (moves <= Self.phasedBound ? "met" : "NOT met") + (p.crashes > 0 ? "; \(counted(p.crashes, "replica")) crashed" : ""))
        verdicts.append("output identical to a fixed 1/1/1/1 run over the same bytes: \(p.identical ? "yes" : "NO")")
        lines += verdicts.map { "   goal: " + $0 }
        return lines
    }

    /// Output records/s (above) and each stage's desired replicas (below) over the phased run,
    /// the phases shaded.
    func autoscaleSVG() -> String? {
        guard let p = phased, p.samples.count > 1 else { return nil }
        let width = 760.0, left = 60.0, right = 20.0, rateTop = 50.0, rateHeight = 150.0, countTop = 240.0, countHeight = 120.0
        let span = max(p.seconds, p.samples.last!.t)
        func x(_ t: Double) -> String { format(left + (width - left - right) * t / span, 1) }
        var rates: [(Double, Double)] = []
        for (a, b) in zip(p.samples, p.samples.dropFirst()) where b.t > a.t {
            rates.append((b.t, (b.output - a.output) / (b.t - a.t)))
        }
        let topRate = max(rates.map(\.1).max() ?? 1, 1)
        let topCount = Double(max(p.samples.flatMap(\.desired).max() ?? 1, 2))
        var body = ""
        let shades = ["#f3f7fb", "#fbf7f0"]
        for (i, phase) in p.phases.enumerated() {
            let x0 = Double(x(phase.start))!, x1 = Double(x(phase.end))!
            body += "<rect x=\"\(format(x0, 1))\" y=\"\(rateTop)\" width=\"\(format(max(x1 - x0, 1), 1))\" height=\"\(countTop + countHeight - rateTop)\" fill=\"\(shades[i % 2])\"/>\n"
            body += "<text x=\"\(format(x0 + 4, 1))\" y=\"\(rateTop + 14)\" font-size=\"12\">\(phase.name)</text>\n"
        }
        let ratePoints = rates.map { "\(x($0.0)),\(format(rateTop + rateHeight * (1 - $0.1 / topRate), 1))" }.joined(separator: " ")
        body += "<polyline points=\"\(ratePoints)\" fill=\"none\" stroke=\"#333\" stroke-width=\"1.5\"/>\n"
        body += "<text x=\"\(left - 6)\" y=\"\(rateTop + 4)\" text-anchor=\"end\" font-size=\"11\">\(format(topRate / 1000, 0))k</text>\n"
        body += "<text x=\"\(left - 6)\" y=\"\(rateTop + rateHeight)\" text-anchor=\"end\" font-size=\"11\">0</text>\n"
        body += "<text x=\"\(left)\" y=\"\(rateTop - 8)\" font-size=\"12\">output records/s</text>\n"
        let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
        for (i, stage) in StageKind.allCases.enumerated() {
            // Steps, each line a little apart so that equal counts stay visible.
            let offset = Double(i) * 2.5 - 3.75
            var points: [String] = []
            var last: Int?
            for s in p.samples {
                let y = format(countTop + countHeight * (1 - Double(s.desired[i]) / topCount) + offset, 1)
                if let l = last, l != s.desired[i] {
                    points.append("\(x(s.t)),\(format(countTop + countHeight * (1 - Double(l) / topCount) + offset, 1))")
                }
                points.append("\(x(s.t)),\(y)")
                last = s.desired[i]
            }
            body += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(colors[i])\" stroke-width=\"2\"/>\n"
            body += "<text x=\"\(format(left + Double(i) * 110, 0))\" y=\"\(countTop + countHeight + 36)\" fill=\"\(colors[i])\" font-size=\"12\">■ \(stage.rawValue)</text>\n"
        }
        for n in 1...Int(topCount) {
            body += "<text x=\"\(left - 6)\" y=\"\(format(countTop + countHeight * (1 - Double(n) / topCount) + 4, 1))\" text-anchor=\"end\" font-size=\"11\">\(n)</text>\n"
        }
        body += "<text x=\"\(left)\" y=\"\(countTop - 8)\" font-size=\"12\">desired replicas per stage</text>\n"
        var t = 0.0
        while t <= span {
            body += "<text x=\"\(x(t))\" y=\"\(countTop + countHeight + 16)\" text-anchor=\"middle\" font-size=\"11\">\(format(t, 0)) s</text>\n"
            t += span > 30 ? 10 : 1
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(countTop + countHeight + 50))" font-family="sans-serif" font-size="13">
            <rect width="100%" height="100%" fill="white"/>
            <text x="10" y="22" font-size="15" font-weight="bold">up --autoscale on a stream in phases (\(machine.cpu), \(counted(machine.cores, "core")))</text>
            \(body)</svg>

            """
    }
}
