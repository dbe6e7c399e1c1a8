import Config
import ControlCore
import Glibc
import Messages
import PipelineSink
import Runtime

/// `pipeline ps` output.
enum StatusTable {
    /// The live replicas, in stage and index order, with their state (the core's) and figures.
    static func replicas(_ s: Supervisor) -> [(state: Reconciler.Replica, process: ReplicaProcess)] {
        s.core.reconciler.replicas.filter(\.isAlive).sorted { $0.id < $1.id }.compactMap { r in s.processes[r.id].map { (r, $0) } }
    }

    static func rows(_ s: Supervisor) -> [[String]] {
        let now = Sys.monotonicNanos()
        return replicas(s).map { state, r in
            [r.id.stage.rawValue, "\(r.id.index)", "\(r.pid)", state.state.rawValue,
             format1(Double(now - r.startedNanos) / 1e9) + "s", "\(r.heartbeat.batches)", "\(r.heartbeat.rows)",
             format1(r.busy * 100), "\(r.heartbeat.queued)", format1(Double(r.heartbeat.rssBytes) / 1_048_576) + "M"]
        }
    }

    static let header = ["STAGE", "REPLICA", "PID", "STATE", "UPTIME", "BATCHES", "ROWS", "BUSY%", "QUEUED", "RSS"]

    static func text(_ s: Supervisor) -> String {
        let table = [header] + rows(s)
        var widths = Array(repeating: 0, count: header.count)
        for row in table { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var out = table.map { row in
            row.enumerated().map { i, cell in cell + String(repeating: " ", count: widths[i] - cell.count) }
                .joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
        out += "\n" + stageLines(s).joined(separator: "\n")
        out += "\nmodel: \(s.config.model.path) (precision \(s.config.model.precision.rawValue))"
        out += "\nbinaries: \(s.binaries.summary)"
        out += "\n" + transportLine(s)
        out += "\nsource: \(counted(s.core.ledger.recordsRead, "record")) read, \(counted(s.core.ledger.batches.count, "batch")) in flight; sink: \(s.sink.rows) written, \(s.sink.rejected) rejected"
        if let server = s.metricsServer { out += "\nmetrics: http://\(server.boundAddress)/metrics" }
        out += "\n" + s.logRotator.statusLine()
        if let a = s.autoscaler {
            let changes = a.grown.values.reduce(0, +) + a.shrunk.values.reduce(0, +)
            out += "\nautoscale: \(a.settings.cores) cores, \(counted(changes, "change")) so far"
        }
        if let drift = s.core.drift { out += "\n" + DriftTable.statusLine(drift) }
        out += "\n" + RolloutTable.statusLine(s.core.rollout)
        if let (split, r) = s.split {
            out += "\ninput: split \(split) of \(s.inputName): bytes \(r.start)–\(r.end), from line \(r.firstLine)"
        }
        return out
    }

    /// "transport: shared memory, 16 MiB ring per connection; frames through it: source 3906 of
    /// 3906, ingest …" (or the sockets only).
    static func transportLine(_ s: Supervisor) -> String {
        guard s.sharedMemoryMiB > 0 else { return "transport: sockets only (PIPELINE_SHARED_MEMORY_MB=0)" }
        let counts = s.snapshot().senders.map { "\($0.name) \($0.sent.sharedFrames) of \($0.sent.sharedFrames + $0.sent.inlineFrames)" }
        return "transport: shared memory, \(s.sharedMemoryMiB) MiB ring per connection; frames through it: " + counts.joined(separator: ", ")
    }

    /// `{"directory":"/usr/local/lib/pipeline/x86-64-v4","level":"x86-64-v4","installed":["x86-64-v3",
    /// "x86-64-v4"],"forced":false,"cpu_level":"x86-64-v4"}` (`level` null next to `pipeline`).
    static func binariesJSON(_ b: StageBinaries) -> String {
        func name(_ level: CPULevel?) -> String { level.map { "\"\($0.rawValue)\"" } ?? "null" }
        return "{\"directory\":\(RejectLine.quote(b.directory)),\"level\":\(name(b.level)),"
            + "\"installed\":[\(b.installed.map { name($0) }.joined(separator: ","))],\"forced\":\(b.forced),\"cpu_level\":\(name(b.cpuLevel))}"
    }

    /// `{"shared_memory_mb":16,"sent":{"source":{"shared_frames":…},…}}` (`ps --json`, `--stats`).
    static func transportJSON(_ s: Supervisor) -> String {
        "{\"shared_memory_mb\":\(s.sharedMemoryMiB),\"sent\":{" + s.snapshot().senders.map { name, c in
            "\"\(name)\":{\"shared_frames\":\(c.sharedFrames),\"shared_bytes\":\(c.sharedBytes),"
                + "\"socket_frames\":\(c.inlineFrames),\"socket_bytes\":\(c.inlineBytes)}"
        }.joined(separator: ",") + "}}"
    }

    /// One line per stage: desired and running counts, recent restarts, a pending restart.
    static func stageLines(_ s: Supervisor) -> [String] {
        let now = Sys.monotonicNanos()
        let reconciler = s.core.reconciler
        return StageKind.allCases.map { stage in
            let history = reconciler.restarts[stage]!
            let spec = reconciler.settings.spec(stage)
            var line = "\(stage.rawValue): \(reconciler.replicas(of: stage).filter { $0.state == .ready }.count)/\(reconciler.desired[stage] ?? 0) ready"
            if reconciler.desired[stage] == 0 { line += " (paused: `pipeline scale \(stage.rawValue)=N` resumes)" }
            let recent = history.recent(now: now, spec: spec)
            if recent > 0 { line += ", \(counted(recent, "restart")) in the last \(Int(spec.restartWindowSeconds)) s" }
            if history.notBefore > now { line += ", next start in \(format1(Double(history.notBefore - now) / 1e9)) s" }
            if let reason = s.autoscaler?.lastReason[stage] { line += "; autoscale: " + reason }
            return line
        }
    }

    static func json(_ s: Supervisor) -> String {
        let now = Sys.monotonicNanos()
        let items = replicas(s).map { state, r in
            "{\"stage\":\"\(r.id.stage.rawValue)\",\"replica\":\(r.id.index),\"pid\":\(r.pid),\"state\":\"\(state.state.rawValue)\","
                + "\"uptime_s\":\(format1(Double(now - r.startedNanos) / 1e9)),\"batches\":\(r.heartbeat.batches),"
                + "\"rows\":\(r.heartbeat.rows),\"busy_pct\":\(format1(r.busy * 100)),\"queued\":\(r.heartbeat.queued),"
                + "\"rss_bytes\":\(r.heartbeat.rssBytes)}"
        }
        let reconciler = s.core.reconciler
        let stages = StageKind.allCases.map { stage in
            let history = reconciler.restarts[stage]!
            let spec = reconciler.settings.spec(stage)
            return "{\"stage\":\"\(stage.rawValue)\",\"ready\":\(reconciler.replicas(of: stage).filter { $0.state == .ready }.count),"
                + "\"desired\":\(reconciler.desired[stage] ?? 0),\"paused\":\(reconciler.desired[stage] == 0),"
                + "\"restarts\":\(reconciler.restartsTotal[stage] ?? 0),\"restarts_recent\":\(history.recent(now: now, spec: spec)),"
                + "\"restart_window_s\":\(Int(spec.restartWindowSeconds))"
                + (s.autoscaler.map { a in
                    let bounds = a.settings.bounds(stage)
                    return ",\"autoscale\":{\"min\":\(bounds.lowerBound),\"max\":\(bounds.upperBound),\"up\":\(a.grown[stage] ?? 0),"
                        + "\"down\":\(a.shrunk[stage] ?? 0),\"reason\":\(RejectLine.quote(a.lastReason[stage] ?? ""))}"
                } ?? "") + "}"
        }
        return "{\"replicas\":[" + items.joined(separator: ",") + "],\"stages\":[" + stages.joined(separator: ",") + "],\"records_read\":\(s.core.ledger.recordsRead),"
            + "\"batches_in_flight\":\(s.core.ledger.batches.count),\"rows_written\":\(s.sink.rows),\"rejected\":\(s.sink.rejected)"
            + ",\"model\":{\"path\":\(RejectLine.quote(s.config.model.path)),\"precision\":\"\(s.config.model.precision.rawValue)\"}"
            + ",\"binaries\":" + binariesJSON(s.binaries)
            + ",\"transport\":" + transportJSON(s)
            + ",\"logs\":" + s.logRotator.json()
            + (s.metricsServer.map { ",\"metrics\":\"http://\($0.boundAddress)/metrics\"" } ?? "")
            + (s.autoscaler.map { ",\"autoscale\":{\"cores\":\($0.settings.cores)}" } ?? "")
            + (s.core.drift.map { ",\"drift\":" + DriftTable.json($0) } ?? "")
            + ",\"models\":" + RolloutTable.json(s.core.rollout) + "}"
    }

    /// One decimal place.
    static func format1(_ x: Double) -> String {
        let tenths = Int((x * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// The one line printed on stderr when a run ends.
public enum RunSummary {
    /// - Parameter labels: the classes the output is written with (nil: class indices).
    public static func line(sink: Sink, recordsRead: Int, seconds: Double, labels: [ClassLabel]?) -> String {
        var s = "\(counted(recordsRead, "record")) read, \(sink.rows) written, \(sink.rejected) rejected"
        if !sink.rejectedByCode.isEmpty {
            s += " (" + sink.rejectedByCode.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.name) \($0.value)" }.joined(separator: ", ") + ")"
        }
        let rate = seconds > 0 ? Double(recordsRead) / seconds : 0
        s += " in \(StatusTable.format1(seconds)) s (\(Int(rate)) records/s)"
        if !sink.summary.labelCounts.isEmpty {
            s += "; predicted classes: " + classes(sink.summary.labelCounts, labels: labels)
        }
        return s
    }

    /// "legit: 2751, fraud: 249": each class by its label (its index when there is none) and
    /// how many records it was predicted for.
    public static func classes(_ counts: [UInt64], labels: [ClassLabel]?) -> String {
        counts.enumerated().map { i, count in
            let name = labels.flatMap { i < $0.count ? $0[i].description : nil } ?? String(i)
            return "\(name): \(count)"
        }.joined(separator: ", ")
    }
}

/// Resources used by a stage's replicas, summed over every replica that ran.
struct StageUsage {
    var replicas = 0
    var cpuSeconds: Double = 0
    /// The part of `cpuSeconds` spent in the kernel (system calls: sockets, pipes, memory).
    var systemSeconds: Double = 0
    var maxResidentBytes = 0

    /// - Parameter peakRSS: the replica's own last report of its peak RSS. (The kernel's
    ///   ru_maxrss is no use here: a child started by posix_spawn keeps its parent's figure.)
    mutating func add(_ u: Spawn.Usage, peakRSS: Int) {
        replicas += 1
        cpuSeconds += u.userSeconds + u.systemSeconds
        systemSeconds += u.systemSeconds
        maxResidentBytes = max(maxResidentBytes, peakRSS)
    }
}

/// `pipeline up --stats FILE`: what a run cost, as JSON (read by `pipeline bench`).
enum RunStatistics {
    static func json(_ s: Supervisor, seconds: Double) -> String {
        let me = Spawn.Usage.ofSelf()
        let stages = StageKind.allCases.map { stage -> String in
            let u = s.stageUsage[stage] ?? StageUsage()
            return "\"\(stage.rawValue)\":{\"replicas\":\(u.replicas),\"cpu_seconds\":\(u.cpuSeconds),\"system_seconds\":\(u.systemSeconds),\"max_rss_bytes\":\(u.maxResidentBytes)}"
        }
        return "{\"records_read\":\(s.core.ledger.recordsRead),\"rows_written\":\(s.sink.rows),\"rejected\":\(s.sink.rejected),"
            + "\"wall_seconds\":\(seconds),\"resent_units\":\(s.core.ledger.resent),"
            // VmHWM, not ru_maxrss: a process started by posix_spawn inherits its parent's ru_maxrss.
            + "\"supervisor\":{\"cpu_seconds\":\(me.userSeconds + me.systemSeconds),\"system_seconds\":\(me.systemSeconds),\"max_rss_bytes\":\(Sys.peakResidentBytes())},"
            + "\"stages\":{" + stages.joined(separator: ",") + "},"
            + "\"transport\":" + StatusTable.transportJSON(s)
            + (s.core.drift.map { ",\"drift\":" + DriftTable.json($0) } ?? "")
            + ",\"models\":" + RolloutTable.json(s.core.rollout) + "}\n"
    }
}
