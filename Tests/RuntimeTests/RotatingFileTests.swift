import Foundation
import Glibc
import Testing
@testable import Runtime

/// Rotating a log under its writers: the renames, the descriptor that follows the new file, the
/// oldest file dropped past `keep`, and, with a writer thread writing while the file is rotated,
/// every line in one of the files, once, in order.
@Suite struct RotatingFileTests {
    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test func theShiftsMoveTheOldestFirstAndTheLogLast() {
        #expect(RotatingFile.shifts(path: "l", keep: 3).map { "\($0.from)>\($0.to)" } == ["l.2>l.3", "l.1>l.2", "l>l.1"])
        #expect(RotatingFile.shifts(path: "l", keep: 1).map { "\($0.from)>\($0.to)" } == ["l>l.1"])
    }

    @Test func aFullFileMovesToDotOneAndTheDescriptorWritesTheNewOne() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/events.log"
        let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        defer { Sys.close(fd) }
        let log = RotatingFile(path: path, fd: fd, maxBytes: 10, keep: 2)
        func write(_ text: String) throws { try Sys.writeAll(fd, text) }

        try write("one\n")
        #expect(try log.rotateIfFull() == nil, "4 bytes of 10")
        try write("two\nthree\n")
        #expect(try log.rotateIfFull() == RotatingFile.Rotated(bytes: 14, to: path + ".1"))
        try write("four\n")
        #expect(read(path + ".1") == "one\ntwo\nthree\n" && read(path) == "four\n")
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0, "the new file does not leak into children")
        try write("five\nsix\n")
        _ = try log.rotateIfFull()
        try write("seven\nlonger line\n")
        _ = try log.rotateIfFull()
        // Two kept: the first file is gone.
        #expect(RotatingFile.rotatedFiles(of: path) == [path + ".2", path + ".1"])
        #expect(read(path + ".2") == "four\nfive\nsix\n" && read(path + ".1") == "seven\nlonger line\n" && read(path) == "")
        #expect(log.rotations == 3)
        #expect(try log.rotateIfFull() == nil, "empty")
    }

    @Test func zeroNeverRotates() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let fd = try Sys.open(dir.path + "/l", O_WRONLY | O_CREAT, mode: 0o644)
        defer { Sys.close(fd) }
        try Sys.writeAll(fd, String(repeating: "A", count: 5000))
        #expect(try RotatingFile(path: dir.path + "/l", fd: fd, maxBytes: 0, keep: 1).rotateIfFull() == nil)
        #expect(RotatingFile.rotatedFiles(of: dir.path + "/l").isEmpty)
    }

    @Test func aRenameThatFailsIsReportedOnceAndTheFileKeepsGrowing() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/pipeline.log"
        let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o600)
        defer { Sys.close(fd) }
        // pipeline.log.1 is a directory with something in it: the log cannot become it.
        try FileManager.default.createDirectory(atPath: path + ".1/x", withIntermediateDirectories: true)
        let log = RotatingFile(path: path, fd: fd, maxBytes: 1024, keep: 1, flags: O_WRONLY | O_APPEND, mode: 0o600)
        try Sys.writeAll(fd, String(repeating: "A", count: 2000))
        #expect(throws: SystemError.self) { try log.rotateIfFull() }
        #expect(log.failure != nil)
        try Sys.writeAll(fd, String(repeating: "B", count: 2000))
        #expect(try log.rotateIfFull() == nil, "said once")
        #expect(log.size == 4000, "still the same file")
    }

    /// A writer thread (as the event log's) writes numbered lines while the main thread rotates:
    /// the files, oldest first, hold every line once and in order.
    @Test func linesWrittenDuringRotationsAreAllKeptInOrder() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/events.log"
        let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        let writer = OutputWriter(wakeup: try Wakeup())
        let log = RotatingFile(path: path, fd: fd, maxBytes: 2048, keep: 1000)
        let total = 20_000
        var n = 0
        while n < total {
            for _ in 0..<50 {
                n += 1
                _ = writer.enqueue(fd: fd, bytes: Array("{\"line\":\(n),\"padding\":\"\(String(repeating: "x", count: n % 37))\"}\n".utf8))
            }
            // Mostly while the writer writes; every tenth time once it has caught up, so that
            // there are rotations however the threads are scheduled.
            if n % 500 == 0 { while !writer.isIdle { sched_yield() } }
            _ = try log.rotateIfFull()
        }
        writer.finish()
        Sys.close(fd)
        #expect(log.rotations >= 40, "\(log.rotations) rotations")
        let files = RotatingFile.rotatedFiles(of: path) + [path]
        #expect(files.count == log.rotations + 1)
        let numbers = files.flatMap { read($0).split(separator: "\n") }.map { line in
            Int(line.dropFirst("{\"line\":".count).prefix { $0 != "," }) ?? -1
        }
        #expect(numbers == Array(1...total))
    }
}
