import Glibc
import PipelineSink
import Runtime

/// The run directory's own logs, rotated by size (`PIPELINE_LOG_MAX_SIZE`, `PIPELINE_LOG_KEEP`):
/// `logs/events.log` always, and `logs/pipeline.log` when this is a detached run whose stderr
/// goes there. A run that goes on for months keeps its newest lines and a bounded amount of disk
/// (or of memory, where the run directory is a tmpfs). `--events FILE` is the user's file and is
/// never rotated; the replicas' logs say little (starts, stops, failures) and are not either.
final class LogRotator {
    let files: [RotatingFile]
    let maxBytes: UInt64
    let keep: Int
    private var nextCheck: UInt64 = 0
    /// How often the files' sizes are looked at (an fstat each: nothing beside the stream).
    static let intervalNanos: UInt64 = 100_000_000
    /// After a rotation fails, when it is tried again (per file), and the error last reported.
    private var retryAt: [String: UInt64] = [:]
    private var reported: [String: String] = [:]
    static let retryNanos: UInt64 = 60_000_000_000

    init(runDir: RunDirectory, eventsFD: Int32, tunables: Tunables) {
        maxBytes = tunables.logMaxBytes
        keep = tunables.logKeep
        // The event log's writer thread takes the new file as a new descriptor: the lines it has
        // queued end the old file, and the new one begins with the rotation's own event.
        var files = [RotatingFile(path: runDir.logDirectory + "/events.log", fd: eventsFD, maxBytes: maxBytes, keep: keep, inPlace: false)]
        // A detached run's stderr is pipeline.log (see DetachCommand): the same file, not a copy.
        let log = runDir.supervisorLogPath
        if let err = try? Sys.fileStatus(2), (err.st_mode & S_IFMT) == S_IFREG, let st = try? Sys.stat(log),
           st.st_dev == err.st_dev, st.st_ino == err.st_ino {
            files.append(RotatingFile(path: log, fd: 2, maxBytes: maxBytes, keep: keep, inPlace: true, flags: O_WRONLY | O_APPEND, mode: 0o600))
        }
        self.files = files
    }

    /// What happened to each file that was full, at most every 100 ms: rotated, or why it could
    /// not be (said once per distinct error; tried again a minute later, the file unchanged).
    func check(now: UInt64) -> [(file: RotatingFile, result: Result<RotatingFile.Rotated, SystemError>)] {
        guard maxBytes > 0, now >= nextCheck else { return [] }
        nextCheck = now + Self.intervalNanos
        var out: [(RotatingFile, Result<RotatingFile.Rotated, SystemError>)] = []
        for file in files where now >= retryAt[file.path] ?? 0 {
            do {
                if let rotated = try file.rotateIfFull() {
                    out.append((file, .success(rotated)))
                    reported[file.path] = nil
                }
            } catch {
                retryAt[file.path] = now + Self.retryNanos
                if reported.updateValue("\(error)", forKey: file.path) != "\(error)" { out.append((file, .failure(error))) }
            }
        }
        return out
    }

    /// "logs: events.log 1.2 MiB of 64 MiB, rotated 2 times, 3 rotated kept; pipeline.log …" (`ps`).
    func statusLine() -> String {
        "logs: " + files.map { f in
            var text = "\(f.name) \(Self.bytes(f.size))"
            if maxBytes == 0 {
                text += ", never rotated (PIPELINE_LOG_MAX_SIZE=0)"
            } else {
                text += " of \(Self.bytes(maxBytes)), rotated \(f.rotations == 1 ? "once" : "\(f.rotations) times"), \(keep) rotated kept"
            }
            if let failure = f.failure { text += ", cannot rotate (tried again each minute): \(failure)" }
            return text
        }.joined(separator: "; ")
    }

    /// `[{"name":"events.log","bytes":…,"max_bytes":…,"keep":3,"rotations":2}]` (`ps --json`).
    func json() -> String {
        "[" + files.map { (f: RotatingFile) -> String in
            var item = "{\"name\":\"\(f.name)\",\"bytes\":\(f.size),\"max_bytes\":\(maxBytes),\"keep\":\(keep),\"rotations\":\(f.rotations)"
            if let failure = f.failure { item += ",\"error\":" + RejectLine.quote("\(failure)") }
            return item + "}"
        }.joined(separator: ",") + "]"
    }

    /// `pipeline_log_bytes` and `pipeline_log_rotations_total`, by log.
    func metrics() -> String {
        var out = "# HELP pipeline_log_bytes Size of the run directory's log file now (it is rotated at PIPELINE_LOG_MAX_SIZE).\n"
            + "# TYPE pipeline_log_bytes gauge\n"
        for f in files { out += "pipeline_log_bytes{log=\"\(f.name)\"} \(f.size)\n" }
        out += "# HELP pipeline_log_rotations_total Times the log file was rotated (renamed to NAME.1, a new one begun).\n"
            + "# TYPE pipeline_log_rotations_total counter\n"
        for f in files { out += "pipeline_log_rotations_total{log=\"\(f.name)\"} \(f.rotations)\n" }
        return out
    }

    /// "64 MiB", "1.5 KiB", "300 B".
    static func bytes(_ n: UInt64) -> String {
        for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] where n >= 1 << UInt64(shift) {
            let x = Double(n) / Double(1 << UInt64(shift))
            return (x == x.rounded() ? "\(Int(x))" : StatusTable.format1(x)) + " " + unit
        }
        return "\(n) B"
    }
}

extension Supervisor {
    /// Rotates the run directory's logs that are full, and says so in the event log (the first
    /// line of the new events.log) and in the supervisor's log.
    func rotateLogs(now: UInt64) {
        eventLog.closeRetired()
        for (file, result) in logRotator.check(now: now) {
            let name = String(file.name)
            switch result {
            case .success(let rotated):
                if let previous = rotated.previousFD { eventLog.switchRunLog(to: file.fd, from: previous) }
                eventLog.logRotated(name: name, bytes: rotated.bytes, to: rotated.to, keep: file.keep)
                Log.info("\(file.path) reached \(LogRotator.bytes(rotated.bytes)): it is now \(rotated.to), and a new \(name) begins (\(file.keep) rotated kept)")
            case .failure(let error):
                eventLog.logRotationFailed(name: name, error: "\(error)")
                Log.error("cannot rotate \(file.path) (\(error)): it keeps growing; tried again each minute")
            }
        }
    }
}
