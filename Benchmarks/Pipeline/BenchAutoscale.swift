import PipelineSupervisor
import Config
import Glibc
import Runtime

/// `pipeline bench`'s autoscale section, second part: one `pipeline up --autoscale` fed a stream
/// whose load changes, phase by phase (the text workload's config): a fast phase of long texts
/// (featurize is the bottleneck), a quiet phase of a few records a second, a fast phase of wide
/// records with short texts (ingest is the bottleneck: it parses every byte of a record, 400
/// numbers the model does not read included). The
/// replica counts are sampled from `/metrics` as the run goes.
struct PhasedStream {
    enum Shape: String {
        case longTexts = "long texts"
        case quiet
        case wideRecords = "wide records"
    }

    struct Phase {
        var shape: Shape
        var seconds: Double
        /// Records per second, or nil: as fast as the pipeline takes them.
        var rate: Double?

        var name: String { rate.map { "\(shape.rawValue) (\(format($0, 0))/s)" } ?? shape.rawValue }
    }

    /// The phases and the `[autoscale]` table of a full run (the defaults but the core budget)
    /// and of a smoke run (short windows, short phases).
    static func phases(smoke: Bool) -> [Phase] {
        smoke ? [Phase(shape: .longTexts, seconds: 1.5), Phase(shape: .quiet, seconds: 3, rate: 20), Phase(shape: .wideRecords, seconds: 1.5)]
            : [Phase(shape: .longTexts, seconds: 10), Phase(shape: .quiet, seconds: 40, rate: 20), Phase(shape: .wideRecords, seconds: 10)]
    }

    static func settings(smoke: Bool) -> (interval: Double, up: Double, down: Double) {
        smoke ? (0.25, 0.5, 1) : (0.5, 1, 30)
    }

    /// Records of `shape` after their `{"id":N`, with the text workload's other fields (`text`,
    /// `country`, `device`): a pool the feeder takes from in turn, so that making records costs
    /// it next to nothing while it measures.
    static func pool(_ shape: Shape, count: Int = 512) -> [[UInt8]] {
        var rng = BenchRandom(seed: 0xF00D &+ UInt64(shape.rawValue.utf8.count))
        return (0..<count).map { _ in
            var out: [UInt8] = []
            if shape == .wideRecords {
                // What the model does not read still crosses ingest's parser: 400 numbers of context.
                out += Array(",\"context\":[".utf8)
                for i in 0..<400 {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    out += Array("\(rng.next() % 100).\(1000 + rng.next() % 9000)".utf8)
                }
                out.append(UInt8(ascii: "]"))
            }
            out += Array(",\"text\":\"".utf8)
            let words: Int
            switch shape {
            case .longTexts: words = 80 + Int(rng.next() % 61)
            case .quiet: words = 8 + Int(rng.next() % 23)
            case .wideRecords: words = 2 + Int(rng.next() % 3)
            }
            for w in 0..<words {
                if w > 0 { out.append(32) }
                out += BenchRandom.word(Int(Double(BenchRandom.vocabularySize) * pow(rng.unit(), 3)))
            }
            let countries = ["US", "DE", "FR", "GB", "JP", "IT"], devices = ["ios", "android", "web"]
            out += Array("\",\"country\":\"\(countries[Int(rng.next() % 6)])\",\"device\":\"\(devices[Int(rng.next() % 3)])\"}\n".utf8)
            return out
        }
    }
}

/// What the phased run showed.
struct PhasedRun {
    struct PhaseResult {
        var name: String
        var shape: PhasedStream.Shape
        var start: Double
        var end: Double
        var records: Int
    }

    /// One look at `/metrics`: seconds since the start, per stage (in `StageKind` order) the
    /// desired and ready replicas and busy seconds so far, and records written so far.
    struct Sample {
        var t: Double
        var desired: [Int]
        var ready: [Int]
        var busy: [Double]
        var output: Double
    }

    struct Change {
        var t: Double
        var stage: StageKind
        var from: Int
        var to: Int
        var reason: String
    }

    var phases: [PhaseResult] = []
    var samples: [Sample] = []
    var changes: [Change] = []
    /// Replicas the autoscaler started and drained over the run; replicas that crashed (none
    /// expected: a restart would start one more).
    var started = 0
    var drained = 0
    var crashes = 0
    var seconds = 0.0
    var settings: (interval: Double, up: Double, down: Double) = (0, 0, 0)
    var cores = 0
    /// Whether a fixed 1/1/1/1 run over the same bytes wrote the same bytes.
    var identical = false

    /// The `autoscaled` events of the event log at `path`, in order.
    static func changes(inEventLog path: String) -> [Change] {
        let log = String(decoding: (try? Sys.readFile(path, limit: 64 << 20)) ?? [], as: UTF8.self)
        return log.split(separator: "\n").map(String.init).compactMap { line in
            guard line.contains("\"event\":\"autoscaled\""), let stage = JSONScan.string(line, "stage").flatMap(StageKind.init(rawValue:)),
                  let from = JSONScan.number(line, ["from"]), let to = JSONScan.number(line, ["to"]),
                  let t = JSONScan.number(line, ["uptime_s"]) else { return nil }
            return Change(t: t, stage: stage, from: Int(from), to: Int(to), reason: JSONScan.string(line, "reason") ?? "")
        }
    }

    /// Output records/s between the first sample at or after `from` and the last at or before
    /// `to` (seconds into the run), or nil when they are less than a second apart.
    static func rate(_ samples: [Sample], from: Double, to: Double) -> Double? {
        guard let a = samples.first(where: { $0.t >= from }), let b = samples.last(where: { $0.t <= to }), b.t - a.t >= 1 else { return nil }
        return (b.output - a.output) / (b.t - a.t)
    }

    /// The counts (in stage order) the last sample at or before `t` shows.
    func desired(at t: Double) -> [Int] { samples.last { $0.t <= t }?.desired ?? [1, 1, 1, 1] }
}

extension BenchRunner {
    /// Feeds `phases` to `pipeline up --autoscale` (with `config`) through a pipe, sampling
    /// `/metrics` every 250 ms; then runs the same bytes through a fixed 1/1/1/1 run (with
    /// `fixedConfig`, which has no `[autoscale]`) and compares the outputs.
    func phased(config: String, fixedConfig: String, phases: [PhasedStream.Phase]) throws -> PhasedRun {
        let input = work + "/phased.jsonl", output = work + "/phased.out", errors = work + "/phased.err"
        let events = work + "/phased-events.jsonl", stats = work + "/phased-stats.json"
        try? Sys.unlink(errors)
        try? Sys.unlink(events)
        let pipe = try Sys.pipe()
        let start = Self.now()
        let pid = try Spawn.run(path: executable, arguments: [executable, "up", "-f", config, "--run-dir", work + "/run", "--autoscale",
                                                              "--events", events, "--stats", stats, "--metrics", "127.0.0.1:0"],
                                environment: environment, stdin: .descriptor(pipe.read), stdout: .file(output), stderr: .file(errors))
        Sys.close(pipe.read)
        let feeder = PhaseFeeder(phases: phases, pipe: pipe.write, copy: input, start: start)
        let feeding = Sys.startThread { feeder.run() }
        let sampler = MetricsSampler(errors: errors, start: start)
        let sampling = Sys.startThread { sampler.run() }
        let waited = Spawn.waitWithUsage(pid)
        var run = PhasedRun()
        run.seconds = Self.now() - start
        Sys.joinThread(feeding)
        Sys.joinThread(sampling)
        guard let (termination, _) = waited, termination == .exited(0), feeder.failure == nil else {
            let log = (try? Sys.readFile(errors)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            throw PipelineError(.internalError, "bench: the phased autoscale run failed: \(feeder.failure ?? "") \(log)")
        }
        run.phases = feeder.results
        run.samples = sampler.samples
        let log = String(decoding: (try? Sys.readFile(events, limit: 64 << 20)) ?? [], as: UTF8.self)
        run.crashes = log.split(separator: "\n").filter { $0.contains("\"event\":\"replica_exited\"") && $0.contains("\"expected\":false") }.count
        run.changes = PhasedRun.changes(inEventLog: events)
        run.started = run.changes.reduce(0) { $0 + max(0, $1.to - $1.from) }
        run.drained = run.changes.reduce(0) { $0 + max(0, $1.from - $1.to) }
        // The same bytes through a fixed run: the output must not depend on the replica counts.
        let fixed = work + "/phased-fixed.out"
        _ = try processes(config: fixedConfig, input: input, output: fixed, scales: [], options: ["--quiet"])
        run.identical = Self.sameFiles(output, fixed)
        for path in [input, output, fixed] { try? Sys.unlink(path) }
        return run
    }

    /// Whether two files hold the same bytes (read a megabyte at a time: they can be large).
    static func sameFiles(_ a: String, _ b: String) -> Bool {
        guard let x = try? Sys.open(a, O_RDONLY), let y = try? Sys.open(b, O_RDONLY) else { return false }
        defer {
            Sys.close(x)
            Sys.close(y)
        }
        var p = [UInt8](repeating: 0, count: 1 << 20), q = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            guard let n = try? readFully(x, &p), let m = try? readFully(y, &q), n == m else { return false }
            if n == 0 { return true }
            if p[0..<n] != q[0..<m] { return false }
        }
    }

    /// Fills `buffer` from `fd` unless the file ends first; returns the bytes read.
    private static func readFully(_ fd: Int32, _ buffer: inout [UInt8]) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = try buffer.withUnsafeMutableBytes { try Sys.read(fd, into: $0.baseAddress! + filled, count: $0.count - filled) } ?? 0
            if n == 0 { break }
            filled += n
        }
        return filled
    }
}

/// Writes the phases' records into `up`'s stdin (and the same bytes to `copy`), paced by the
/// pipeline in the fast phases and by the clock in the quiet one.
final class PhaseFeeder: @unchecked Sendable {
    let phases: [PhasedStream.Phase]
    let pipe: Int32
    let copy: String
    let start: Double
    /// Read after the thread is joined.
    private(set) var results: [PhasedRun.PhaseResult] = []
    private(set) var failure: String?

    init(phases: [PhasedStream.Phase], pipe: Int32, copy: String, start: Double) {
        self.phases = phases
        self.pipe = pipe
        self.copy = copy
        self.start = start
    }

    func run() {
        defer { Sys.close(pipe) }
        do {
            let file = try Sys.open(copy, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
            defer { Sys.close(file) }
            var chunk: [UInt8] = []
            var pools: [PhasedStream.Shape: [[UInt8]]] = [:]
            for phase in phases where pools[phase.shape] == nil { pools[phase.shape] = PhasedStream.pool(phase.shape) }
            var id = 0
            func record(_ shape: PhasedStream.Shape) {
                let pool = pools[shape]!
                chunk += Array("{\"id\":\(id)".utf8)
                chunk += pool[id % pool.count]
                id += 1
            }
            func send() throws {
                try chunk.withUnsafeBytes { raw in
                    try Sys.writeAll(pipe, raw)
                    try Sys.writeAll(file, raw)
                }
                chunk.removeAll(keepingCapacity: true)
            }
            for phase in phases {
                let begin = BenchRunner.now(), first = id
                let end = begin + phase.seconds
                while BenchRunner.now() < end {
                    if let rate = phase.rate {
                        record(phase.shape)
                        try send()
                        Sys.sleep(seconds: begin + Double(id - first) / rate - BenchRunner.now())
                    } else {
                        // As fast as the pipeline takes them: the write blocks while it is full.
                        while chunk.count < 64 << 10 { record(phase.shape) }
                        try send()
                    }
                }
                results.append(.init(name: phase.name, shape: phase.shape, start: begin - start, end: BenchRunner.now() - start, records: id - first))
            }
        } catch {
            failure = "feeding the phases: \(error)"
        }
    }
}

/// Reads a running `up`'s `/metrics` every 250 ms, from when its stderr names the address until
/// the server is gone.
final class MetricsSampler: @unchecked Sendable {
    let errors: String
    let start: Double
    /// Read after the thread is joined.
    private(set) var samples: [PhasedRun.Sample] = []

    init(errors: String, start: Double) {
        self.errors = errors
        self.start = start
    }

    func run() {
        guard let address = ScrapeCounter.address(announcedIn: errors) else { return }
        while let response = try? HTTPClient.get(address, "/metrics", timeoutNanos: 2_000_000_000), response.status == 200 {
            let t = BenchRunner.now() - start
            let text = String(decoding: response.body, as: UTF8.self)
            func value(_ name: String, _ stage: StageKind? = nil) -> Double {
                let key = stage.map { "\(name){stage=\"\($0.rawValue)\"} " } ?? "\(name) "
                guard let r = text.firstRange(of: "\n" + key) else { return 0 }
                return Double(text[r.upperBound...].prefix { $0 != "\n" }) ?? 0
            }
            samples.append(.init(t: t, desired: StageKind.allCases.map { Int(value("pipeline_stage_replicas_desired", $0)) },
                                 ready: StageKind.allCases.map { Int(value("pipeline_stage_replicas", $0)) },
                                 busy: StageKind.allCases.map { value("pipeline_stage_busy_seconds_total", $0) },
                                 output: value("pipeline_output_records_total")))
            Sys.sleep(seconds: 0.25)
        }
    }
}
