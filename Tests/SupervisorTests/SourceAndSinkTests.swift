import Config
import Foundation
import Glibc
import Messages
import Runtime
import Testing
@testable import PipelineSupervisor

/// The source's crash blame and poison isolation, and the sink's assembly of split batches.
@Suite struct SourceAndSinkTests {
    func source(_ input: String, batchRows: Int) throws -> Source {
        let s = Source(format: .jsonl, batchRows: batchRows, lingerMillis: 2, window: 8, maxRecordBytes: 1 << 20,
                       downstream: DownstreamSet(hello: Hello(purpose: .data, node: .source, replica: 0, pid: 0, cookie: "c")))
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        _ = Array(input.utf8).withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        while !s.inputDone { try s.readInput(fd: fds[0]) }
        close(fds[0])
        return s
    }

    @Test func aBatchThatCrashesTwiceIsSplitAndAPoisonRecordRejected() throws {
        let s = try source("{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n{\"a\":4}\n", batchRows: 4)
        #expect(s.window.count == 1 && s.window[0].units.count == 1)
        let whole = StatePage.Work(sequence: 0, stream: 0, flags: [])
        guard case .retry = s.blame(whole, node: .featurize, termination: "was killed by signal 11") else {
            Issue.record("a first crash is retried")
            return
        }
        guard case .isolating(let records, let refused) = s.blame(whole, node: .featurize, termination: "x") else {
            Issue.record("a second crash splits the batch")
            return
        }
        #expect(records == 4 && refused == nil)
        let units = s.window[0].units
        #expect(units.map(\.offset) == [0, 1, 2, 3] && units.allSatisfy(\.isPart))
        #expect(units.map(\.firstLine) == [1, 2, 4, 5], "the blank line 3 is no record, but counts as a line")

        let part = StatePage.Work(sequence: 0, stream: 2, flags: .part)
        guard case .retry = s.blame(part, node: .featurize, termination: "x") else {
            Issue.record("a record's first crash is retried")
            return
        }
        guard case .poison(let sequence, let offset, let reject) = s.blame(part, node: .featurize, termination: "was killed by signal 11") else {
            Issue.record("a record's second crash rejects it")
            return
        }
        #expect(sequence == 0 && offset == 2)
        #expect(reject.line == 4 && reject.code == .replicaCrash && reject.stage == .featurize)
        #expect(String(decoding: reject.input, as: UTF8.self) == "{\"a\":3}")
        #expect(s.window[0].units[2].settled)
        guard case .unknown = s.blame(StatePage.Work(sequence: 9, stream: 0, flags: []), node: .infer, termination: "x") else {
            Issue.record("a batch no longer held is unknown")
            return
        }
    }

    @Test func theSinkAssemblesPartsInOrderAndDropsDuplicates() throws {
        var template = Array("/tmp/pl-sink-XXXXXX".utf8CString)
        _ = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let tmp = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let out = open(tmp + "/out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let err = open(tmp + "/err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let wakeup = try Wakeup()
        let writer = OutputWriter(wakeup: wakeup)
        let sink = Sink(upstream: try UpstreamSet(path: tmp + "/sink.sock", cookie: "c", expected: .aggregate, initialCredits: 4),
                        writer: writer, outputFD: out, errorsFD: err, preamble: nil)
        let info: (UInt64) -> (records: Int, lastLine: UInt64)? = { $0 == 0 ? (3, 3) : nil }
        func piece(_ text: String, rejectLine: UInt64? = nil) -> Sink.Piece {
            let rejects = rejectLine.map { [Reject(line: $0, byteOffset: 0, code: .type, message: "m", input: [])] } ?? []
            return Sink.Piece(text: Array(text.utf8), rejects: rejects, summary: nil, rows: text.isEmpty ? 0 : 1, records: 1)
        }
        sink.addPart(piece("c\n"), sequence: 0, offset: 2, batch: info)
        sink.addPart(piece("", rejectLine: 1), sequence: 0, offset: 0, batch: info)
        #expect(sink.collect(batch: info) == 0, "record 1 is still missing")
        #expect(sink.covers(0, offset: 2, count: 1) && !sink.covers(0, offset: 1, count: 1))
        sink.addPart(piece("c\n"), sequence: 0, offset: 2, batch: info)
        #expect(sink.duplicates == 1)
        sink.addPart(piece("b\n"), sequence: 0, offset: 1, batch: info)
        #expect(sink.collect(batch: info) == 1)
        #expect(sink.covers(0, offset: 0, count: 3) && sink.rows == 2 && sink.rejected == 1 && sink.records == 3)
        writer.finish()
        close(out)
        close(err)
        #expect(try String(contentsOfFile: tmp + "/out", encoding: .utf8) == "b\nc\n")
        #expect(try String(contentsOfFile: tmp + "/err", encoding: .utf8).hasPrefix("{\"line\":1,"))
    }
}
