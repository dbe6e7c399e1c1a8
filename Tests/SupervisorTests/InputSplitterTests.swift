import Messages
import Testing
@testable import PipelineCLI
@testable import PipelineSource

@Suite struct InputSplitterTests {
    struct Cut: Equatable {
        var firstLine: UInt64
        var byteOffset: UInt64
        var records: Int
        var body: String
        var rejects: [UInt64]
    }

    func split(_ input: String, format: Config.InputFormat = .jsonl, batchRows: Int = 3, maxRecordBytes: Int = 1 << 20,
               chunk: Int = Int.max) -> (cuts: [Cut], header: String?, peak: Int) {
        let s = InputSplitter(format: format, batchRows: batchRows, maxRecordBytes: maxRecordBytes)
        var cuts: [Cut] = []
        var peak = 0
        func take(_ flush: Bool) {
            while let b = s.nextBatch(flushPartial: flush) {
                cuts.append(Cut(firstLine: b.firstLine, byteOffset: b.byteOffset, records: b.recordCount,
                                body: String(decoding: b.body, as: UTF8.self), rejects: b.rejects.map(\.line)))
            }
        }
        let bytes = Array(input.utf8)
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + min(chunk, bytes.count))
            bytes[i..<end].withUnsafeBytes { s.append($0) }
            peak = max(peak, s.bufferedBytes)
            take(false)
            i = end
        }
        s.endOfInput()
        take(true)
        return (cuts, s.header.map { String(decoding: $0, as: UTF8.self) }, peak)
    }

    /// With a boundary (the drift watch's window), no batch spans a multiple of it, whether
    /// batches are cut full, partial (linger: a flush after any read) or by a too-long record.
    @Test func batchesNeverSpanABoundary() {
        var state: UInt64 = 3
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33) % n
        }
        for _ in 0..<40 {
            let boundary = 1 + next(9), batchRows = 1 + next(7)
            let s = InputSplitter(format: .jsonl, batchRows: batchRows, maxRecordBytes: 24)
            s.boundaryRecords = boundary
            var records = 0
            var starts: [Int] = []
            func take(_ flush: Bool) {
                while let b = s.nextBatch(flushPartial: flush) {
                    starts.append(records)
                    records += b.recordCount
                    #expect(records / boundary == starts.last! / boundary || records % boundary == 0,
                            "a batch of records \(starts.last!)..<\(records) spans a multiple of \(boundary)")
                }
            }
            for i in 0..<200 {
                let line = next(15) == 0 ? "{\"a\":\"" + String(repeating: "x", count: 40) + "\"}\n" : next(10) == 0 ? "\n" : "{\"a\":\(i)}\n"
                Array(line.utf8).withUnsafeBytes { s.append($0) }
                take(next(4) == 0)
            }
            s.endOfInput()
            take(true)
            #expect(records == s.recordsCut)
        }
    }

    @Test func jsonLinesInBatchesWithLinesAndOffsets() {
        let input = (1...7).map { "{\"i\":\($0)}\n" }.joined()
        let (cuts, _, _) = split(input)
        #expect(cuts.map(\.records) == [3, 3, 1])
        #expect(cuts.map(\.firstLine) == [1, 4, 7])
        #expect(cuts.map(\.byteOffset) == [0, 24, 48])
        #expect(cuts.map(\.body).joined() == input)
    }

    @Test func blankLinesAreNotRecordsButCountAsLines() {
        let input = "{\"a\":1}\n\n  \t\r\n{\"a\":2}\n{\"a\":3}\n{\"a\":4}"
        let (cuts, _, _) = split(input)
        #expect(cuts.map(\.records) == [3, 1])
        #expect(cuts[1].firstLine == 6)
        #expect(cuts[1].body == "{\"a\":4}", "the last record needs no line end")
    }

    @Test(arguments: [1, 2, 5, 64])
    func chunkingDoesNotChangeTheBatches(chunk: Int) {
        let input = (1...50).map { "{\"i\":\($0),\"pad\":\"\(String(repeating: "x", count: $0 % 7))\"}\n" }.joined()
        #expect(split(input, batchRows: 8, chunk: chunk).cuts == split(input, batchRows: 8).cuts)
        let csv = "id,text\n" + (1...30).map { "\($0),\"multi\nline, \"\"quoted\"\"\"\n" }.joined()
        let whole = split(csv, format: .csv, batchRows: 4)
        let pieces = split(csv, format: .csv, batchRows: 4, chunk: chunk)
        #expect(pieces.cuts == whole.cuts && pieces.header == whole.header)
    }

    @Test func csvHeaderAndQuotedNewlines() {
        let csv = "id,\"na,me\"\r\n1,\"a\nb\"\n\n2,c\n3,\"x\"\"\n\"\n4,d\n"
        let (cuts, header, _) = split(csv, format: .csv, batchRows: 2)
        #expect(header == "id,\"na,me\"")
        #expect(cuts.map(\.records) == [2, 2])
        #expect(cuts.map(\.firstLine) == [2, 6])
        #expect(cuts[0].body == "1,\"a\nb\"\n\n2,c\n")
        #expect(cuts[1].body == "3,\"x\"\"\n\"\n4,d\n")
    }

    @Test func tooLongLinesAreSkippedWithoutBeingHeld() {
        let long = "{\"big\":\"" + String(repeating: "y", count: 5000) + "\"}\n"
        let input = "{\"a\":1}\n" + long + "{\"a\":2}\n" + long + long
        let (cuts, _, peak) = split(input, batchRows: 10, maxRecordBytes: 1000, chunk: 100)
        #expect(cuts.reduce(0) { $0 + $1.records } == 5)
        #expect(cuts.flatMap(\.rejects) == [2, 4, 5])
        #expect(cuts.map(\.body).joined() == "{\"a\":1}\n{\"a\":2}\n")
        #expect(peak < 1200, "a too-long line must not be buffered whole (peak \(peak))")
        // Whole input at once: same outcome.
        let once = split(input, batchRows: 10, maxRecordBytes: 1000)
        #expect(once.cuts.flatMap(\.rejects) == [2, 4, 5] && once.cuts.map(\.body).joined() == "{\"a\":1}\n{\"a\":2}\n")
    }

    @Test func tooLongRecordReportsWhereItStarts() {
        let input = "{\"a\":1}\n{\"a\":2}\n" + String(repeating: "z", count: 3000)
        let s = InputSplitter(format: .jsonl, batchRows: 100, maxRecordBytes: 1000)
        Array(input.utf8).withUnsafeBytes { s.append($0) }
        s.endOfInput()
        var rejects: [Reject] = []
        var records = 0
        while let b = s.nextBatch(flushPartial: true) {
            rejects += b.rejects
            records += b.recordCount
        }
        #expect(records == 3)
        #expect(rejects.count == 1)
        #expect(rejects.first?.line == 3 && rejects.first?.byteOffset == 16 && rejects.first?.code == .lineTooLong)
        #expect(rejects.first?.input.count == Reject.maxInputBytes)
    }
}

import Config

/// The source and ingest must count the same records; a stray quote must not swallow lines.
@Suite struct SplitterAgreementTests {
    @Test func strayQuotesEndAtTheLine() {
        let csv = "id,text\n1,ab\"c\n2,ok\n3,\"x\"y\n4,last\n"
        let s = InputSplitter(format: .csv, batchRows: 100, maxRecordBytes: 1 << 20)
        Array(csv.utf8).withUnsafeBytes { s.append($0) }
        s.endOfInput()
        let batch = s.nextBatch(flushPartial: true)
        #expect(batch?.recordCount == 4)
        #expect(batch?.firstLine == 2)
    }
}
