import Config
import ControlCore
import Glibc
import PipelineSink
import Runtime

/// The run's event log: one JSON line per decision of the control core (and the run's start and
/// end), with the time. Written to `<run dir>/logs/events.log` (`pipeline logs events`) and, with
/// `--events FILE`, to that file too, on a writer thread: a slow reader never stalls the loop.
final class EventLog {
    private let writer: OutputWriter
    private var descriptors: [(fd: Int32, name: String)]
    private let startNanos: UInt64
    /// Files that failed, reported once each.
    private var failed: Set<Int32> = []
    /// The number of the last chunk queued for each descriptor.
    private var lastChunk: [Int32: UInt64] = [:]
    /// Descriptors of rotated-away files, closed once the writer has written what was queued
    /// for them.
    private var retired: [Int32] = []

    /// - Parameter paths: where to write; the first is the run directory's log. A path that
    ///   names a file already in the list (another spelling of the run log) is written once.
    init(paths: [String], wakeup: Wakeup, startNanos: UInt64) throws(SystemError) {
        var fds: [(Int32, String)] = []
        var files: [(dev_t, ino_t)] = []
        for path in paths {
            let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
            if let st = try? Sys.fileStatus(fd), (st.st_mode & S_IFMT) == S_IFREG {
                if files.contains(where: { $0 == (st.st_dev, st.st_ino) }) {
                    Sys.close(fd)
                    continue
                }
                files.append((st.st_dev, st.st_ino))
            }
            fds.append((fd, path))
        }
        descriptors = fds
        writer = OutputWriter(wakeup: wakeup)
        self.startNanos = startNanos
    }

    /// Whether the writer's thread has ended. A run forced to stop returns without waiting for
    /// it: its files are then left open for the process's exit to close, not closed under a
    /// write in progress (which fails with EBADF, a precondition failure).
    private var writerEnded = false

    deinit {
        guard writerEnded else { return }
        for d in descriptors { Sys.close(d.fd) }
        for fd in retired { Sys.close(fd) }
    }

    func record(_ event: RunEvent) { write(Self.fields(event)) }

    /// The run's first line: what runs.
    func started(config: String, model: String, modelVersion: String, precision: String, sharedMemoryMiB: Int, metrics: String?,
                 replicas: [StageKind: Int], drift: DriftSpec? = nil,
                 split: (index: Int, count: Int, start: UInt64, end: UInt64, firstLine: UInt64)? = nil, binaries: StageBinaries? = nil) {
        write([("event", .string("run_started")), ("config", .string(config)), ("model", .string(model)),
               ("model_version", .string(modelVersion)), ("precision", .string(precision)), ("shared_memory_mb", .int(sharedMemoryMiB))]
              + (binaries.map { b in
                  // The level only where there is a choice of them (an installed layout).
                  [("binaries", .object([("directory", .string(b.directory))]
                                        + (b.level.map { [("level", .string($0.rawValue)), ("forced", .bool(b.forced))] } ?? [])))]
              } ?? [])
              + (metrics.map { [("metrics", .string("http://\($0)/metrics"))] } ?? [])
              + [("replicas", .object(StageKind.allCases.map { ($0.rawValue, .int(replicas[$0] ?? 0)) }))]
              + (drift.map { [("drift", .object([("reference", .string($0.reference)), ("window", .int($0.window))]))] } ?? [])
              + (split.map { [("split", .object([("index", .int($0.index)), ("count", .int($0.count)), ("start", .int(Int($0.start))),
                                                  ("end", .int(Int($0.end))), ("first_line", .int(Int($0.firstLine)))]))] } ?? []))
    }

    /// The run's last line: how it ended and what it did.
    func finished(code: ExitCode, recordsRead: Int, written: Int, rejected: Int) {
        write([("event", .string("run_finished")), ("exit_code", .int(Int(code.rawValue))), ("records_read", .int(recordsRead)),
               ("records_written", .int(written)), ("rejected", .int(rejected))])
    }

    /// The run directory's log, where lines are written first (rotated by `LogRotator`).
    var runLogFD: Int32 { descriptors[0].fd }

    /// The run log was rotated: what is queued for `previous` is written there (the rotated
    /// file), and every line from now on goes to `fd`, the new file.
    func switchRunLog(to fd: Int32, from previous: Int32) {
        descriptors[0].fd = fd
        retired.append(previous)
        closeRetired()
    }

    /// Closes the rotated-away descriptors whose queued lines are all written (and forgets how
    /// they failed, if they did: the number may name another file next).
    func closeRetired() {
        guard !retired.isEmpty else { return }
        let completed = writer.completed
        retired.removeAll { fd in
            if let last = lastChunk[fd], last >= completed { return false }
            writer.forget(fd: fd)
            failed.remove(fd)
            lastChunk[fd] = nil
            Sys.close(fd)
            return true
        }
    }

    /// A log of the run directory was rotated (`LogRotator`).
    func logRotated(name: String, bytes: UInt64, to: String, keep: Int) {
        write([("event", .string("log_rotated")), ("log", .string(name)), ("bytes", .int(Int(bytes))), ("to", .string(to)), ("keep", .int(keep))])
    }

    /// A log of the run directory cannot be rotated: it keeps growing.
    func logRotationFailed(name: String, error: String) {
        write([("event", .string("log_rotation_failed")), ("log", .string(name)), ("message", .string(error))])
    }

    /// Writes what is queued and ends the writer's thread.
    func finish() {
        writer.finish()
        writerEnded = true
    }

    /// The event files that could not be written (each named once), with the error.
    func failures() -> [(name: String, error: SystemError)] {
        var out: [(String, SystemError)] = []
        for (fd, failure) in writer.failures where failed.insert(fd).inserted {
            out.append((descriptors.first { $0.fd == fd }?.name ?? "events", failure.error))
        }
        return out
    }

    private func write(_ fields: [(String, JSONValue)]) {
        let now = Sys.monotonicNanos()
        var line: [(String, JSONValue)] = [("time", .string(Self.timestamp(Sys.wallSeconds()))),
                                           ("uptime_s", .seconds(now - min(now, startNanos)))]
        line += fields
        let bytes = Array((JSONValue.object(line).text + "\n").utf8)
        for d in descriptors { lastChunk[d.fd] = writer.enqueue(fd: d.fd, bytes: bytes) }
    }

    /// RFC 3339 in UTC with milliseconds: 2026-12-06T04:15:02.123Z (the replicas' log lines start with the same).
    static func timestamp(_ seconds: Double) -> String { Log.timestamp(seconds) }

    static func fields(_ event: RunEvent) -> [(String, JSONValue)] {
        func replica(_ id: ReplicaID, _ pid: Int32) -> [(String, JSONValue)] {
            [("stage", .string(id.stage.rawValue)), ("replica", .int(id.index)), ("pid", .int(Int(pid)))]
        }
        switch event {
        case .replicaStarted(let id, let pid):
            return [("event", .string("replica_started"))] + replica(id, pid)
        case .replicaReady(let id, let pid):
            return [("event", .string("replica_ready"))] + replica(id, pid)
        case .replicaExited(let id, let pid, let termination, let expected):
            var how: [(String, JSONValue)]
            switch termination {
            case .exited(let code): how = [("exit_status", .int(Int(code)))]
            case .signaled(let signal, let selfInflicted, let name):
                how = [("signal", .int(Int(signal))), ("signal_name", .string(name)), ("self_inflicted", .bool(selfInflicted))]
            }
            return [("event", .string("replica_exited"))] + replica(id, pid) + how + [("expected", .bool(expected))]
        case .replicaKilled(let id, let pid, let reason):
            return [("event", .string("replica_killed"))] + replica(id, pid) + [("reason", .string(reason.rawValue))]
        case .replicaDraining(let id, let pid):
            return [("event", .string("replica_draining")), ("stage", .string(id.stage.rawValue)), ("replica", .int(id.index))]
                + (pid.map { [("pid", .int(Int($0)))] } ?? [])
        case .replicaStopping(let id, let pid):
            return [("event", .string("replica_stopping")), ("stage", .string(id.stage.rawValue)), ("replica", .int(id.index))]
                + (pid.map { [("pid", .int(Int($0)))] } ?? [])
        case .spawnFailed(let id, let message, let retrying):
            return [("event", .string("spawn_failed")), ("stage", .string(id.stage.rawValue)), ("replica", .int(id.index)),
                    ("message", .string(message)), ("retrying", .bool(retrying))]
        case .restartScheduled(let id, let after):
            return [("event", .string("restart_scheduled")), ("stage", .string(id.stage.rawValue)), ("replica", .int(id.index)),
                    ("after_s", .seconds(after))]
        case .scaleRequested(let client, let targets):
            return [("event", .string("scale_requested")), ("request", .int(client)),
                    ("replicas", .object(targets.map { ($0.stage.rawValue, .int($0.replicas)) }))]
        case .scaleAnswered(let client, let status, let text):
            return [("event", .string("scale_answered")), ("request", .int(client)), ("exit_code", .int(Int(status.rawValue))),
                    ("message", .string(text))]
        case .autoscaled(let stage, let from, let to, let reason):
            return [("event", .string("autoscaled")), ("stage", .string(stage.rawValue)), ("from", .int(from)), ("to", .int(to)),
                    ("reason", .string(reason))]
        case .stagePaused(let stage):
            return [("event", .string("stage_paused")), ("stage", .string(stage.rawValue))]
        case .stageResumed(let stage, let replicas):
            return [("event", .string("stage_resumed")), ("stage", .string(stage.rawValue)), ("replicas", .int(replicas))]
        case .batchIsolated(let first, let last, let records, let stage):
            return [("event", .string("batch_isolated")), ("first_line", .int(Int(first))), ("last_line", .int(Int(last))),
                    ("records", .int(records)), ("stage", .string(stage.rawValue))]
        case .recordRejected(let line, let stage, let crashes):
            return [("event", .string("record_rejected")), ("line", .int(Int(line))), ("stage", .string(stage.rawValue)),
                    ("crashes", .int(crashes))]
        case .downRequested:
            return [("event", .string("down_requested"))]
        case .interrupted(let forced):
            return [("event", .string("interrupted")), ("forced", .bool(forced))]
        case .outputFailed(let stream, let message):
            return [("event", .string("output_failed")), ("stream", .string(stream)), ("message", .string(message))]
        case .runStopping(let code, let reason):
            return [("event", .string("run_stopping")), ("exit_code", .int(Int(code.rawValue))), ("reason", .string(reason))]
        case .driftWindow(let w):
            return [("event", .string("drift_window")), ("window", .int(w.index)), ("first_line", .int(Int(w.firstLine))),
                    ("last_line", .int(Int(w.lastLine))), ("records", .int(Int(w.records))), ("input_records", .int(Int(w.inputRecords)))]
                + (w.partial ? [("partial", .bool(true))] : [])
                + [("fields", .array(w.results.map { r in
                    .object([("field", .string(r.field)), ("statistic", .string(r.statistic.rawValue)), ("value", .number(r.value)),
                             ("level", .string(r.level.rawValue))])
                }))]
        case .drift(let window, let first, let last, let r):
            return [("event", .string("drift")), ("window", .int(window)), ("first_line", .int(Int(first))), ("last_line", .int(Int(last))),
                    ("field", .string(r.field)), ("statistic", .string(r.statistic.rawValue)), ("value", .number(r.value)),
                    ("level", .string(r.level.rawValue))]
        case .rollout(let r):
            var fields: [(String, JSONValue)] = [("event", .string("rollout")), ("step", .string(r.step)), ("version", .string(r.version))]
            if let other = r.other { fields.append(("other", .string(other))) }
            if let mode = r.mode { fields.append(("mode", .string(mode))) }
            if let line = r.line { fields.append(("line", .int(Int(line)))) }
            if let path = r.path { fields.append(("path", .string(path))) }
            if let message = r.message { fields.append(("message", .string(message))) }
            return fields
        case .shadow(let version, let against, let stats, let final):
            return [("event", .string("shadow")), ("version", .string(version)), ("against", .string(against)),
                    ("records", .int(Int(stats.rows))), ("label_disagreements", .int(Int(stats.labelDisagreements))),
                    ("disagreement_share", .number(stats.disagreementShare)),
                    ("max_probability_difference", .number(Double(stats.maxDifference))),
                    ("mean_max_probability_difference", .number(stats.meanRowMaximum)), ("final", .bool(final))]
        }
    }
}

/// The few JSON values the event log writes, in the order given.
enum JSONValue {
    case string(String)
    case int(Int)
    case bool(Bool)
    /// Nanoseconds, written as seconds with millisecond precision.
    case seconds(UInt64)
    /// A finite number, shortest round-trip (non-finite: null).
    case number(Double)
    case object([(String, JSONValue)])
    case array([JSONValue])

    var text: String {
        switch self {
        case .string(let s): RejectLine.quote(s)
        case .int(let i): "\(i)"
        case .bool(let b): b ? "true" : "false"
        case .seconds(let n): "\(n / 1_000_000_000).\(String(1000 + (n / 1_000_000) % 1000).dropFirst())"
        case .number(let x): x.isFinite ? "\(x)" : "null"
        case .object(let fields): "{" + fields.map { RejectLine.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        case .array(let items): "[" + items.map(\.text).joined(separator: ",") + "]"
        }
    }
}
