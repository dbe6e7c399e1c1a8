import Foundation
import Glibc
import Testing
@testable import PipelineCLI
@testable import PipelineSupervisor
import Runtime

/// `pipeline logs` over rotated logs: the rotated files first, oldest first, then the log; and a
/// reader following the log while it is rotated (rename, new file) sees every line once.
@Suite struct RotatedLogsTests {
    func event(_ n: Int) -> String { "{\"time\":\"2026-12-06T10:00:\(String(100 + n % 60).dropFirst()).000Z\",\"uptime_s\":\(n),\"event\":\"e\(n)\"}\n" }

    func logDirectory() throws -> String {
        let dir = try Sys.makeTemporaryDirectory(prefix: "/tmp/pl-rot-")
        return dir
    }

    @Test func aFirstReadGivesTheRotatedFilesOldestFirstThenTheLog() throws {
        let dir = try logDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Sys.writeFile(dir + "/events.log.2", event(1) + event(2))
        try Sys.writeFile(dir + "/events.log.1", event(3))
        try Sys.writeFile(dir + "/events.log", event(4) + event(5))
        let raw = RunLogs(directory: dir, options: LogsOptions(targets: [.events])).read(final: true)
        #expect(raw == (1...5).map(event).joined())
        let tail = RunLogs(directory: dir, options: LogsOptions(targets: [.events], tail: 2)).read(final: true)
        #expect(tail == event(4) + event(5), "--tail counts the newest lines across the files")
    }

    @Test func aFollowerSeesEveryLineOnceAcrossRotations() throws {
        let dir = try logDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/events.log"
        let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        defer { Sys.close(fd) }
        let log = RotatingFile(path: path, fd: fd, maxBytes: 200, keep: 2, inPlace: true)
        let reader = RunLogs(directory: dir, options: LogsOptions(targets: [.events], follow: true))
        var seen = ""
        for n in 1...60 {
            try Sys.writeAll(fd, event(n))
            if n % 3 == 0 { _ = try log.rotateIfFull() }
            if n % 4 == 0 { seen += reader.read(final: false) }
        }
        seen += reader.read(final: true)
        #expect(log.rotations >= 10, "\(log.rotations)")
        #expect(seen == (1...60).map(event).joined())
    }

    /// Several rotations between two looks (a reader held up, a burst of lines): the files
    /// rotated in between are read too, in order, and none twice.
    @Test func aFollowerHeldUpAcrossSeveralRotationsMissesNothing() throws {
        let dir = try logDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/events.log"
        let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        defer { Sys.close(fd) }
        let log = RotatingFile(path: path, fd: fd, maxBytes: 100, keep: 5, inPlace: true)
        let reader = RunLogs(directory: dir, options: LogsOptions(targets: [.events], follow: true))
        try Sys.writeAll(fd, event(1))
        var seen = reader.read(final: false)
        for n in 2...8 {
            try Sys.writeAll(fd, event(n))
            if n % 2 == 1 { _ = try log.rotateIfFull() }
        }
        #expect(log.rotations == 3)
        seen += reader.read(final: true)
        #expect(seen == (1...8).map(event).joined())
    }

    /// `--tail N` takes its lines from the newest files, as many of them as it takes.
    @Test func tailTakesItsLinesFromTheNewestFiles() throws {
        let dir = try logDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Sys.writeFile(dir + "/events.log.3", event(0))
        try Sys.writeFile(dir + "/events.log.2", event(1) + event(2))
        try Sys.writeFile(dir + "/events.log.1", event(3))
        try Sys.writeFile(dir + "/events.log", event(4))
        let tail = RunLogs(directory: dir, options: LogsOptions(targets: [.events], tail: 3)).read(final: true)
        #expect(tail == event(2) + event(3) + event(4))
    }

    /// `--events` naming the run's own log by another path: one descriptor, each line once
    /// (a second one would truncate the file and follow it into events.log.1 at a rotation).
    @Test func theRunLogUnderAnotherNameIsWrittenOnce() throws {
        let dir = try logDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try EventLog(paths: [dir + "/events.log", dir + "/./events.log"], wakeup: try Wakeup(), startNanos: 0)
        log.finished(code: .ok, recordsRead: 1, written: 1, rejected: 0)
        log.finish()
        let text = try String(contentsOfFile: dir + "/events.log", encoding: .utf8)
        #expect(text.split(separator: "\n").count == 1 && text.contains("run_finished"), "\(text)")
    }
}
