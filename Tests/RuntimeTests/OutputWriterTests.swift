import Foundation
import Glibc
import Testing
@testable import Runtime

/// The writer thread: chunks in order, per descriptor; a failed descriptor stops only itself,
/// unless it is the primary one; what failed, and how much of it got through.
@Suite struct OutputWriterTests {
    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing>" }

    @Test func chunksAreWrittenInOrderAndCounted() throws {
        let tmp = TempDirectory()
        defer { tmp.remove() }
        let a = open(tmp.path + "/a", O_WRONLY | O_CREAT | O_TRUNC, 0o600), b = open(tmp.path + "/b", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(a); close(b) }
        let writer = OutputWriter(wakeup: try Wakeup())
        let numbers = [writer.enqueue(fd: a, bytes: Array("1\n".utf8)), writer.enqueue(fd: b, bytes: Array("x\n".utf8)),
                       writer.enqueue(fd: a, bytes: Array("2\n".utf8))]
        #expect(numbers == [0, 1, 2])
        writer.finish()
        #expect(writer.completed == 3 && writer.failures.isEmpty)
        #expect(read(tmp.path + "/a") == "1\n2\n" && read(tmp.path + "/b") == "x\n")
    }

    @Test func aFailedDescriptorStopsOnlyItselfUnlessItIsThePrimary() throws {
        Sys.ignoreSignal(SIGPIPE)  // a closed pipe must be EPIPE, not the end of the test process
        let tmp = TempDirectory()
        defer { tmp.remove() }
        for primaryFails in [false, true] {
            let file = open(tmp.path + "/out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            let closed = try Sys.pipe()
            Sys.close(closed.read)
            let writer = OutputWriter(wakeup: try Wakeup(), primary: primaryFails ? closed.write : file)
            writer.enqueue(fd: file, bytes: Array("a\n".utf8))
            writer.enqueue(fd: closed.write, bytes: Array("lost\n".utf8))
            writer.enqueue(fd: closed.write, bytes: Array("skipped\n".utf8))
            writer.enqueue(fd: file, bytes: Array("b\n".utf8))
            writer.finish()
            #expect(writer.completed == 4, "skipped chunks count as done")
            let failure = writer.failures[closed.write]
            #expect(failure?.error.errno == EPIPE && failure?.chunk == 1 && failure?.bytesWritten == 0)
            #expect(writer.failures[file] == nil)
            #expect(read(tmp.path + "/out") == (primaryFails ? "a\n" : "a\nb\n"),
                    primaryFails ? "the primary's failure stops every stream" : "the other stream goes on")
            close(file)
            Sys.close(closed.write)
        }
    }
}
