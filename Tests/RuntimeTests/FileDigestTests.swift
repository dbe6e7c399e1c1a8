import Foundation
import Glibc
import Testing
@testable import Runtime

/// Hashing a file on its own thread: the digest `sha256sum` prints, the loop woken when it is
/// there, and errors for what cannot be hashed.
@Suite struct FileDigestTests {
    /// Waits (on the wakeup's pipe, up to 30 s) until `digest` is done.
    static func awaitDone(_ digest: FileDigest, _ wakeup: Wakeup) throws {
        var poll = PollSet()
        let slot = poll.add(wakeup.readEnd)
        let deadline = Sys.monotonicNanos() + 30_000_000_000
        while !digest.isDone && Sys.monotonicNanos() < deadline {
            try poll.wait(timeoutMillis: 1000)
            if poll.readable(slot) { wakeup.clear() }
        }
    }

    static func sha256sum(file path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.prefix(64))
    }

    @Test func aFileOfSeveralChunksGivesWhatSha256sumPrintsAndWakesTheLoop() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/model.onnx"
        // Three chunks and a bit, so the last read is short and the hash ends mid-block.
        try Sys.writeFile(path, SHA256Tests.bytes(3 * FileDigest.chunkBytes + 4_099))
        let wakeup = try Wakeup()
        let digest = FileDigest(path: path, wakeup: wakeup)
        try Self.awaitDone(digest, wakeup)
        let expected = try Self.sha256sum(file: path)
        #expect(expected.count == 64)
        #expect(digest.result == expected && digest.error == nil)
        #expect(try digest.wait() == expected)
    }

    @Test func anEmptyFile() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        try Sys.writeFile(dir.path + "/empty", [UInt8]())
        let digest = FileDigest(path: dir.path + "/empty")
        #expect(try digest.wait() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func aMissingFileADirectoryAndAFIFOAreErrors() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        #expect(mkfifo(dir.path + "/fifo", 0o600) == 0)
        let cases: [(path: String, errno: Int32)] = [(dir.path + "/none", ENOENT), (dir.path, EINVAL), (dir.path + "/fifo", EINVAL)]
        for (path, code) in cases {
            let digest = FileDigest(path: path)
            let error = #expect(throws: SystemError.self) { try digest.wait() }
            #expect(error?.errno == code, "\(path)")
            #expect(digest.isDone && digest.result == nil && digest.error == error)
        }
        let refused = FileDigest(path: dir.path + "/fifo")
        _ = try? refused.wait()
        #expect(refused.error?.description == "open \(dir.path)/fifo (not a regular file): Invalid argument")
    }
}
