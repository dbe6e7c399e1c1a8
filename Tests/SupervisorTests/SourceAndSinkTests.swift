import Config
import ControlCore
import Foundation
import Glibc
import Messages
import Runtime
import Testing
@testable import PipelineSink
@testable import PipelineSource
@testable import PipelineSupervisor

/// The data path's two ends, as the shell drives them: the source re-cuts a batch into its
/// records and gives a record's text; the sink writes committed batches and counts only what
/// reached the output.
@Suite struct SourceAndSinkTests {
    /// A fresh directory removed at the end of the test.
    final class Temp {
        let path: String
        init() {
            var template = Array("/tmp/pl-ends-XXXXXX".utf8CString)
            _ = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
            path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    func source(_ input: String, batchRows: Int, maxRecordBytes: Int = 1 << 20) throws -> (Source, [BatchCut]) {
        let s = Source(format: .jsonl, batchRows: batchRows, lingerMillis: 2, maxRecordBytes: maxRecordBytes,
                       downstream: DownstreamSet(hello: Hello(purpose: .data, node: .source, replica: 0, pid: 0, cookie: "c")))
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        _ = Array(input.utf8).withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        var cuts: [BatchCut] = []
        while s.reading || !s.isDrained {
            try s.readInput(fd: fds[0])
            while let cut = s.cut(sequence: UInt64(cuts.count), now: 0) { cuts.append(cut) }
        }
        close(fds[0])
        return (s, cuts)
    }

    @Test func aBatchIsReCutIntoItsRecordsWithTheRecordsTheSourceRefused() throws {
        let (s, cuts) = try source("{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n\(String(repeating: "x", count: 2000))\n{\"a\":4}\n",
                                   batchRows: 8, maxRecordBytes: 1024)
        // The batch ends at the too-long record, which it carries as a reject.
        #expect(cuts.map(\.records) == [4, 1] && cuts[0].firstLine == 1 && cuts[0].lastLine == 5)
        #expect(s.recordLines(0) == [1, 2, 4], "the blank line 3 is no record; line 5 was refused")
        guard let (records, refused) = s.split(0) else {
            Issue.record("the batch splits")
            return
        }
        #expect(records.map(\.firstLine) == [1, 2, 4])
        #expect(refused.map(\.line) == [5] && refused.first?.code == .lineTooLong)
        #expect(String(decoding: s.recordText(0, unit: 2), as: UTF8.self) == "{\"a\":3}")
        #expect(s.recordLines(0) == [1, 2, 4], "the same records from the parts")
        #expect(s.split(0) == nil, "a batch is split once")
        #expect(s.split(7) == nil, "a batch not held")
    }

    @Test func blankLinesOverTheLimitAreNoRecordsWhateverTheReads() throws {
        let blank = String(repeating: " ", count: 5000) + "\t\r"
        let (_, cuts) = try source("{\"a\":1}\n\(blank)\n{\"a\":2}\n\(String(repeating: " ", count: 3000))x\n\(blank)", batchRows: 8,
                                   maxRecordBytes: 1024)
        let records = cuts.reduce(0) { $0 + $1.records }
        #expect(records == 3, "two records and one too-long record; the blank lines (one at the end) are none")
        // The same input fed in small reads.
        let splitter = InputSplitter(format: .jsonl, batchRows: 8, maxRecordBytes: 1024)
        let bytes = Array("{\"a\":1}\n\(blank)\n{\"a\":2}\n\(String(repeating: " ", count: 3000))x\n\(blank)".utf8)
        for start in stride(from: 0, to: bytes.count, by: 700) {
            bytes[start..<min(start + 700, bytes.count)].withUnsafeBytes { splitter.append($0) }
        }
        splitter.endOfInput()
        var cutInPieces: [CutBatch] = []
        while let b = splitter.nextBatch(flushPartial: true) { cutInPieces.append(b) }
        #expect(cutInPieces.reduce(0) { $0 + $1.recordCount } == 3)
        #expect(cutInPieces.flatMap(\.rejects).map(\.line) == [4], "the record of blanks and an x is too long")
    }

    func sink(_ tmp: Temp, out: Int32, err: Int32) throws -> Sink {
        Sink(upstream: try UpstreamSet(path: tmp.path + "/sink.sock", cookie: "c", expected: .aggregate, initialCredits: 4),
             wakeup: try Wakeup(), outputFD: out, errorsFD: err, preamble: nil,
             countRecords: { $0.filter { $0 == 10 }.count })
    }

    /// Lets the writer write everything queued (it ends its thread once done), then counts.
    func drain(_ sink: Sink) -> [Sink.Outcome] {
        sink.writer.finish()
        return sink.collectWritten()
    }

    @Test func theSinkWritesRejectsInLineOrderAndCountsWhatWasWritten() throws {
        let tmp = Temp()
        let out = open(tmp.path + "/out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let err = open(tmp.path + "/err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(out); close(err) }
        let sink = try sink(tmp, out: out, err: err)
        let reject = { (line: UInt64) in Reject(line: line, byteOffset: 0, code: .type, message: "m", input: []) }
        sink.write(0, [Sink.Piece(text: Array("b\n".utf8), rejects: [reject(3)], summary: nil, rows: 1, records: 2),
                       Sink.Piece(rejects: [reject(1)])])
        #expect(drain(sink).isEmpty)
        #expect(sink.rows == 1 && sink.rejected == 2 && sink.writtenThrough == 0)
        #expect(try String(contentsOfFile: tmp.path + "/out", encoding: .utf8) == "b\n")
        let lines = try String(contentsOfFile: tmp.path + "/err", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2 && lines[0].hasPrefix("{\"line\":1,") && lines[1].hasPrefix("{\"line\":3,"))
    }

    @Test func aFullStdoutCountsOnlyTheWholeRecordsItTook() throws {
        let tmp = Temp()
        let full = open("/dev/full", O_WRONLY)
        let err = open(tmp.path + "/err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(full); close(err) }
        let sink = try sink(tmp, out: full, err: err)
        sink.write(0, [Sink.Piece(text: Array("a\nb\n".utf8), rejects: [], summary: nil, rows: 2, records: 2)])
        sink.write(1, [Sink.Piece(text: Array("c\n".utf8), rejects: [Reject(line: 9, byteOffset: 0, code: .type, message: "m", input: [])],
                                  summary: nil, rows: 1, records: 2)])
        let outcomes = drain(sink)
        #expect(outcomes.count == 1 && outcomes.first?.fd == full && outcomes.first?.error.errno == ENOSPC)
        #expect(outcomes.first?.sequence == 0 && outcomes.first?.wholeRecords == 0)
        #expect(sink.rows == 0, "/dev/full took nothing")
        #expect(sink.rejected == 0 && sink.writtenThrough == 1, "nothing past the point where stdout stopped is written, nor counted")
        #expect(try String(contentsOfFile: tmp.path + "/err", encoding: .utf8).isEmpty)
    }
}

/// Rejected records the errors stream cannot take are counted as lost, not as written.
@Suite struct SinkLostRejectsTests {
    @Test func aClosedErrorsStreamLosesItsRecordsAndStdoutGoesOn() throws {
        Sys.ignoreSignal(SIGPIPE)
        let tmp = SourceAndSinkTests.Temp()
        let out = open(tmp.path + "/out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(out) }
        let closed = try Sys.pipe()
        Sys.close(closed.read)
        defer { Sys.close(closed.write) }
        let sink = Sink(upstream: try UpstreamSet(path: tmp.path + "/sink.sock", cookie: "c", expected: .aggregate, initialCredits: 4),
                        wakeup: try Wakeup(), outputFD: out, errorsFD: closed.write, preamble: nil,
                        countRecords: { $0.filter { $0 == 10 }.count })
        let reject = { (line: UInt64, code: RejectCode) in Reject(line: line, byteOffset: 0, code: code, message: "m", input: []) }
        sink.write(0, [Sink.Piece(text: Array("a\n".utf8), rejects: [reject(2, .type), reject(3, .jsonSyntax)], summary: nil, rows: 1, records: 3)])
        sink.write(1, [Sink.Piece(text: Array("b\n".utf8), rejects: [reject(5, .type)], summary: nil, rows: 1, records: 2)])
        sink.writer.finish()
        let outcomes = sink.collectWritten()
        #expect(outcomes.count == 1 && outcomes[0].fd == closed.write && outcomes[0].error.errno == EPIPE)
        #expect(sink.rows == 2 && sink.rejected == 0 && sink.rejectedByCode.isEmpty && sink.lostRejects == 3)
        #expect(sink.writtenThrough == 1)
        #expect(try String(contentsOfFile: tmp.path + "/out", encoding: .utf8) == "a\nb\n")
    }
}

/// Whole output records in a prefix of stdout's bytes, as the summary counts them after a failed
/// write: CSV fields may hold line breaks inside quotes.
@Suite struct OutputRecordCountTests {
    @Test func csvRecordsMayHoldLineBreaks() {
        let csv = Array("1,legit,0.5\n2,\"a\nb\",0.25\n3,fraud,0.75\n".utf8)
        #expect(OutputRecords.count(in: csv, format: .csv) == 3)
        #expect(OutputRecords.count(in: Array(csv.prefix(16)), format: .csv) == 1, "inside the quoted line break: one whole record")
        let jsonl = Array("{\"id\":1}\n{\"id\":2}\n{\"id\":3".utf8)
        #expect(OutputRecords.count(in: jsonl, format: .jsonl) == 2, "the last has no line end yet")
    }
}
