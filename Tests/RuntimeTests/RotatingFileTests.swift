import Foundation
import Glibc
import Testing
@testable import Runtime

/// Rotating a log under its writers: the renames, a rotation that fails changing nothing (and
/// succeeding once it can), the oldest file dropped past `keep`, and, with a writer thread
/// writing while the file is rotated (in place, as stderr; or onto a new descriptor, as the
/// event log), every line in one of the files, once, in order.
@Suite struct RotatingFileTests {
    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test func theShiftsMoveTheOldestFirstAndTheLogLast() {
        #expect(RotatingFile.shifts(path: "l", keep: 3).map { "\($0.from)>\($0.to)" } == ["l.2>l.3", "l.1>l.2", "l>l.1"])
        #expect(RotatingFile.shifts(path: "l", keep: 1).map { "\($0.from)>\($0.to)" } == ["l>l.1"])
    }

    @Test func rotatedFilesAreListedOldestFirstGapsAndOthersSkipped() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = dir.path + "/events.log"
        for name in ["events.log.1", "events.log.3", "events.log.12", "events.log.x", "events.log.", "events.logs.2", "pipeline.log.2"] {
            try Sys.writeFile(dir.path + "/" + name, "")
        }
        mkdir(log + ".4", 0o700)
        #expect(RotatingFile.rotatedFiles(of: log).map(\.path) == [log + ".12", log + ".3", log + ".1"])
    }

    @Test func inPlaceAFullFileMovesToDotOneAndTheDescriptorWritesTheNewOne() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/pipeline.log"
        let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        defer { Sys.close(fd) }
        let log = RotatingFile(path: path, fd: fd, maxBytes: 10, keep: 2, inPlace: true)
        func write(_ text: String) throws { try Sys.writeAll(fd, text) }

        try write("one\n")
        #expect(try log.rotateIfFull() == nil, "4 bytes of 10")
        try write("two\nthree\n")
        #expect(try log.rotateIfFull() == RotatingFile.Rotated(bytes: 14, to: path + ".1", previousFD: nil))
        #expect(log.fd == fd)
        try write("four\n")
        #expect(read(path + ".1") == "one\ntwo\nthree\n" && read(path) == "four\n")
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0, "the new file does not leak into children")
        try write("five\nsix\n")
        _ = try log.rotateIfFull()
        try write("seven\nlonger line\n")
        _ = try log.rotateIfFull()
        // Two kept: the first file is gone.
        #expect(RotatingFile.rotatedFiles(of: path).map(\.path) == [path + ".2", path + ".1"])
        #expect(read(path + ".2") == "four\nfive\nsix\n" && read(path + ".1") == "seven\nlonger line\n" && read(path) == "")
        #expect(log.rotations == 3)
        #expect(try log.rotateIfFull() == nil, "empty")
        #expect(!FileManager.default.fileExists(atPath: path + ".rotating"))
    }

    @Test func zeroNeverRotates() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let fd = try Sys.open(dir.path + "/l", O_WRONLY | O_CREAT, mode: 0o644)
        defer { Sys.close(fd) }
        try Sys.writeAll(fd, String(repeating: "A", count: 5000))
        #expect(try RotatingFile(path: dir.path + "/l", fd: fd, maxBytes: 0, keep: 1, inPlace: true).rotateIfFull() == nil)
        #expect(RotatingFile.rotatedFiles(of: dir.path + "/l").isEmpty)
    }

    /// `pipeline.log.1` is a directory with something in it: the log cannot become it. Nothing
    /// changes, the error is kept, and once the way is clear the next try rotates.
    @Test func aRotationThatFailsChangesNothingAndTheNextTryCanSucceed() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/pipeline.log"
        let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o600)
        defer { Sys.close(fd) }
        try FileManager.default.createDirectory(atPath: path + ".1/x", withIntermediateDirectories: true)
        let log = RotatingFile(path: path, fd: fd, maxBytes: 1024, keep: 1, inPlace: true, flags: O_WRONLY | O_APPEND, mode: 0o600)
        try Sys.writeAll(fd, String(repeating: "A", count: 2000))
        #expect(throws: SystemError.self) { try log.rotateIfFull() }
        #expect(log.failure != nil && log.rotations == 0)
        #expect(read(path).count == 2000 && !FileManager.default.fileExists(atPath: path + ".rotating"))
        try Sys.writeAll(fd, "B")
        #expect(read(path).count == 2001, "still the same file")
        try FileManager.default.removeItem(atPath: path + ".1")
        #expect(try log.rotateIfFull()?.bytes == 2001)
        #expect(log.failure == nil && read(path + ".1").count == 2001 && read(path) == "")
    }

    /// The log removed under the run (`rm events.log`): the shifts already done are undone, so
    /// no rotated file is lost or renamed.
    @Test func aLogRemovedUnderTheRunUndoesTheShifts() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/events.log"
        try Sys.writeFile(path + ".1", "older\n")
        try Sys.writeFile(path + ".2", "oldest\n")
        let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        defer { Sys.close(fd) }
        try Sys.writeAll(fd, String(repeating: "x", count: 100))
        try Sys.unlink(path)
        let log = RotatingFile(path: path, fd: fd, maxBytes: 50, keep: 3, inPlace: false)
        #expect(throws: SystemError.self) { try log.rotateIfFull() }
        #expect(read(path + ".1") == "older\n" && read(path + ".2") == "oldest\n" && !FileManager.default.fileExists(atPath: path + ".3"))
        #expect(log.fd == fd && !FileManager.default.fileExists(atPath: path + ".rotating"))
    }

    /// Numbered lines from a writer thread, `rounds` rotations: the files, oldest first, must
    /// hold every line once and in order.
    func numbers(in files: [String]) -> [Int] {
        files.flatMap { read($0).split(separator: "\n") }.map { line in Int(line.dropFirst("{\"line\":".count).prefix { $0 != "," }) ?? -1 }
    }

    func line(_ n: Int) -> [UInt8] { Array("{\"line\":\(n),\"padding\":\"\(String(repeating: "x", count: n % 37))\"}\n".utf8) }

    /// In place (stderr): the writer thread goes on writing to the same descriptor.
    @Test func inPlaceLinesWrittenDuringRotationsAreAllKeptInOrder() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/pipeline.log"
        let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        let writer = OutputWriter(wakeup: try Wakeup())
        let log = RotatingFile(path: path, fd: fd, maxBytes: 2048, keep: 1000, inPlace: true)
        var n = 0
        while n < 20_000 {
            for _ in 0..<50 {
                n += 1
                writer.enqueue(fd: fd, bytes: line(n))
            }
            // Mostly while the writer writes; every tenth time once it has caught up, so that
            // there are rotations however the threads are scheduled.
            if n % 500 == 0 { while !writer.isIdle { sched_yield() } }
            _ = try log.rotateIfFull()
        }
        writer.finish()
        Sys.close(fd)
        #expect(log.rotations >= 40, "\(log.rotations) rotations")
        let files = RotatingFile.rotatedFiles(of: path).map(\.path) + [path]
        #expect(files.count == log.rotations + 1)
        #expect(numbers(in: files) == Array(1...20_000))
    }

    /// Onto a new descriptor (the event log): lines queued before a rotation end the old file,
    /// the new one begins with the first line queued after it, and the old descriptor is closed
    /// once the writer is past it.
    @Test func newDescriptorEachFileBeginsWithTheLineAfterItsRotation() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/events.log"
        let writer = OutputWriter(wakeup: try Wakeup())
        let log = RotatingFile(path: path, fd: try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644),
                               maxBytes: 2048, keep: 1000, inPlace: false)
        var retired: [(fd: Int32, last: UInt64)] = []
        var last: UInt64 = 0
        var firstLines: [Int] = []
        var n = 0
        while n < 20_000 {
            for _ in 0..<50 {
                n += 1
                last = writer.enqueue(fd: log.fd, bytes: line(n))
            }
            if n % 500 == 0 { while !writer.isIdle { sched_yield() } }
            if let rotated = try log.rotateIfFull() {
                retired.append((try #require(rotated.previousFD), last))
                firstLines.append(n + 1)
            }
            let completed = writer.completed
            retired.removeAll { r in
                guard r.last < completed else { return false }
                Sys.close(r.fd)
                return true
            }
        }
        writer.finish()
        for r in retired { Sys.close(r.fd) }
        Sys.close(log.fd)
        #expect(log.rotations >= 40, "\(log.rotations) rotations")
        let files = RotatingFile.rotatedFiles(of: path).map(\.path) + [path]
        #expect(numbers(in: files) == Array(1...20_000))
        #expect(files.dropFirst().map { numbers(in: [$0]).first ?? -1 } == firstLines.map { $0 > 20_000 ? -1 : $0 })
    }
}
