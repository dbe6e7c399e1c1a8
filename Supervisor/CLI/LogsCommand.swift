import ControlCore
import Config
import Glibc
import PipelineSupervisor
import Runtime

/// `pipeline logs`: the replicas' logs and the supervisor's (its event log, and its own log
/// when detached), merged by time, each line prefixed with where it comes from (`infer.2 | `,
/// `pipeline | `); or, for `logs events`, the event log as written.
enum LogsCommand {
    /// How often `--follow` looks for new lines (and new replicas' logs).
    static let followIntervalSeconds = 0.2

    static func run(_ target: Target, _ options: LogsOptions) throws(PipelineError) -> ExitCode {
        let runDir = try ConfigFile.runDirectory(for: target)
        let logs = RunLogs(directory: runDir.logDirectory, options: options)
        if logs.raw {
            guard (try? Sys.stat(logs.directory + "/events.log")) != nil else {
                throw PipelineError(.notRunning, "no event log in \(logs.directory): has this pipeline run?")
            }
        } else {
            guard (try? Sys.listDirectory(logs.directory)) != nil else {
                throw PipelineError(.notRunning, "no logs in \(logs.directory): has this pipeline run?")
            }
        }
        while true {
            // Looked at before reading: once the run has ended, one last read takes everything.
            let running = options.follow && runDir.runningPid() != nil
            let text = logs.read(final: !running)
            if !text.isEmpty { try? Sys.writeAll(1, text) }
            if !running { return .ok }
            Sys.sleep(seconds: followIntervalSeconds)
        }
    }
}

/// The log files of a run that `logs` shows, each read from where the last read stopped.
final class RunLogs {
    let directory: String
    let options: LogsOptions
    /// `logs events`: the event log alone, unchanged.
    var raw: Bool { options.targets == [.events] }
    private var files: [String: LogFile] = [:]
    private var readOnce = false

    init(directory: String, options: LogsOptions) {
        self.directory = directory
        self.options = options
    }

    /// What was written since the last call, merged by time and formatted; with `final`, a last
    /// line without its newline too. The first call keeps only the `--tail` of each log.
    func read(final: Bool) -> String {
        for name in (try? Sys.listDirectory(directory)) ?? [] where files[name] == nil {
            if let file = LogFile(directory: directory, name: name, options: options) { files[name] = file }
        }
        let ordered = files.values.sorted { $0.order.lexicographicallyPrecedes($1.order) }
        var logs: [[LogLine]] = []
        for file in ordered {
            var lines = file.readLines(final: final)
            if !readOnce, let tail = options.tail { lines = Array(lines.suffix(tail)) }
            logs.append(lines)
        }
        readOnce = true
        var out = ""
        for (index, line) in LogLines.merge(logs) {
            if raw {
                out += line.text + "\n"
                continue
            }
            out += ordered[index].source + " | "
            if options.timestamps && !line.time.isEmpty { out += line.time + " " }
            out += line.text + "\n"
        }
        return out
    }
}

/// One log file, kept open and read as it grows. A new run replaces the files: a file whose
/// path now names another file (or a shorter one) is read again from its start.
final class LogFile {
    enum Kind {
        case events
        case supervisor
        case replica
    }

    let path: String
    /// The prefix of its lines: `infer.2`, `pipeline`.
    let source: String
    let kind: Kind
    /// Where its lines go when times tie: the supervisor's first, then the stages in order.
    let order: [Int]
    private let options: LogsOptions
    private var fd: Int32 = -1
    private var inode: UInt64 = 0
    private var offset = 0
    private var pending: [UInt8] = []
    private var lastTime = ""
    private var openedBefore = false

    /// The log `name` in `directory`, if `options` show it.
    init?(directory: String, name: String, options: LogsOptions) {
        let targets = options.targets
        let raw = targets == [.events]
        path = directory + "/" + name
        self.options = options
        switch name {
        case "events.log":
            let aboutStages = targets.contains { if case .pipeline = $0 { false } else { true } }
            guard raw || targets.isEmpty || targets.contains(.pipeline) || aboutStages else { return nil }
            (source, kind, order) = ("pipeline", .events, [0])
        case "pipeline.log":
            guard !raw, targets.isEmpty || targets.contains(.pipeline) else { return nil }
            (source, kind, order) = ("pipeline", .supervisor, [1])
        default:
            let parts = name.split(separator: ".")
            guard !raw, parts.count == 3, parts[2] == "log", let stage = StageKind(rawValue: String(parts[0])),
                  let n = Int(parts[1]) else { return nil }
            guard targets.isEmpty || targets.contains(.stage(stage)) || targets.contains(.replica(stage, n)) else { return nil }
            (source, kind, order) = ("\(stage.rawValue).\(n)", .replica, [2, StageKind.allCases.firstIndex(of: stage) ?? 0, n])
        }
    }

    deinit {
        if fd >= 0 { Sys.close(fd) }
    }

    /// The whole lines written since the last call (with `final`, a last partial one too).
    func readLines(final: Bool) -> [LogLine] {
        var lines: [LogLine] = []
        let current = try? Sys.stat(path)
        if fd >= 0, current.map({ UInt64($0.st_ino) != inode || Int($0.st_size) < offset }) ?? true {
            // Replaced, removed or truncated: what the old file still holds, then the new one from its start.
            readAvailable()
            lines += take(final: true)
            Sys.close(fd)
            fd = -1
            // Rotated, perhaps more than once since the last look: the files rotated after it.
            if kind != .replica && current.map({ UInt64($0.st_ino) != inode }) ?? false { lines += readRotated(after: inode) }
        }
        if fd < 0, current != nil, let opened = try? Sys.open(path, O_RDONLY), let st = try? Sys.fileStatus(opened) {
            fd = opened
            inode = UInt64(st.st_ino)
            offset = 0
            pending = []
            if !openedBefore && kind != .replica { lines += readRotated(after: nil, want: options.tail) }
            openedBefore = true
        }
        if fd >= 0 { readAvailable() }
        return lines + take(final: final)
    }

    /// The log's rotated files (NAME.k … NAME.1, oldest first: `PIPELINE_LOG_MAX_SIZE`), each
    /// read whole: those rotated after the file whose inode is `previous` (all of them if it is
    /// gone or nil), and with `want`, only the newest files that hold that many lines. Every
    /// file is opened, and checked to be the one listed, before any is read: a rotation in
    /// between shifts the names, and then they are listed again. The open log is left to its
    /// descriptor (it may have been rotated since it was opened).
    private func readRotated(after previous: UInt64?, want: Int? = nil) -> [LogLine] {
        for _ in 0..<5 {
            var files = RotatingFile.rotatedFiles(of: path)
            if let previous, let i = files.firstIndex(where: { $0.inode == previous }) { files.removeFirst(i + 1) }
            if fd >= 0 { files.removeAll { $0.inode == inode } }
            var opened: [Int32] = []
            var listed = true
            for file in files {
                guard let d = try? Sys.open(file.path, O_RDONLY) else { listed = false; break }
                opened.append(d)
                guard (try? Sys.fileStatus(d)).map({ UInt64($0.st_ino) }) == file.inode else { listed = false; break }
            }
            defer { for d in opened { Sys.close(d) } }
            guard listed else { continue }
            // Newest first, until `want` lines are there.
            var parts: [[LogLine]] = []
            var count = 0
            let kept = pending
            for d in opened.reversed() {
                if let want, count >= want { break }
                pending = Self.readAll(d)
                parts.insert(take(final: true), at: 0)
                count += parts[0].count
            }
            pending = kept
            return parts.flatMap { $0 }
        }
        return []
    }

    static func readAll(_ d: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { (try? Sys.read(d, into: $0.baseAddress!, count: $0.count)) ?? 0 }
            guard n > 0 else { return out }
            out += buffer[0..<n]
        }
    }

    private func readAvailable() {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { (try? Sys.read(fd, into: $0.baseAddress!, count: $0.count)) ?? 0 }
            guard n > 0 else { return }
            pending += buffer[0..<n]
            offset += n
        }
    }

    /// The complete lines in `pending` (and the rest, with `final`), parsed and filtered.
    private func take(final: Bool) -> [LogLine] {
        var out: [LogLine] = []
        var start = 0
        for i in pending.indices where pending[i] == UInt8(ascii: "\n") {
            if let line = parse(String(decoding: pending[start..<i], as: UTF8.self)) { out.append(line) }
            start = i + 1
        }
        if final && start < pending.count {
            if let line = parse(String(decoding: pending[start...], as: UTF8.self)) { out.append(line) }
            start = pending.count
        }
        pending.removeFirst(start)
        return out
    }

    private func parse(_ line: String) -> LogLine? {
        switch kind {
        case .events:
            let targets = options.targets
            if !targets.isEmpty && !LogLines.event(line, concerns: targets) { return nil }
            let event = LogLines.event(line)
            if let event { lastTime = event.time }
            return LogLine(time: lastTime, text: targets == [.events] ? line : event?.text ?? line)
        case .supervisor, .replica:
            let (time, text) = LogLines.splitTime(line)
            if let time { lastTime = time }
            return LogLine(time: lastTime, text: text)
        }
    }
}
