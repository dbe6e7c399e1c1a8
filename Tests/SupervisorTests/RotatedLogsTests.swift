import Foundation
import Glibc
import Testing
@testable import PipelineCLI
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
        let log = RotatingFile(path: path, fd: fd, maxBytes: 200, keep: 2)
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
}
