import Config
import Foundation
import Messages
import Testing
@testable import PipelineSupervisor

/// Inputs the `csv` fuzz target (fuzz/run.sh) found, kept byte for byte. The first two bytes are
/// the harness's options (here: batch_rows 1) and chunking seed; the rest is what `pipeline up`
/// reads on stdin.
@Suite struct FuzzRegressionTests {
    /// crash-b8fbc7e78ce3ed91fc19fc3af9b0de1f1a3bab32: a quote inside an unquoted field (line 5).
    /// The source counted quotes and took the line end after it as part of a quoted field, so it
    /// cut 4 records where ingest's `RecordSplitter` (a stray quote opens nothing) finds 5: ingest
    /// threw `recordCountMismatch` on the batch, i.e. the replica failed on valid-to-reject input.
    static let strayQuote: [UInt8] = [
        0x01, 0x05, 0x69, 0x64, 0x2C, 0x61, 0x6D, 0x6F, 0x75, 0x6E, 0x74, 0x0A, 0x31, 0x2C, 0x32, 0x0A,
        0x33, 0x2C, 0x01, 0x05, 0x69, 0x64, 0x2C, 0x61, 0x6D, 0x6F, 0x75, 0x6E, 0x74, 0x0A, 0x31, 0x2C,
        0x32, 0x0A, 0xCF, 0xD3, 0xDD, 0xDD, 0xCB, 0xCA, 0xF5, 0xF5, 0x22, 0x34, 0x0A, 0x35, 0x22, 0x0A,
    ]

    /// crash-32d5b01c9ef1de8e943f9c859ac2529bd6b841f7: the last record ("4 newline 5"<BS>, a CSV
    /// syntax error) spans lines 7-8 and has no line end. Its batch said its last line was 6, so a
    /// reject on line 7 fell outside the batch (the "last committed line" of a failed run was off).
    static let lastRecordWithoutLineEnd: [UInt8] = [
        0x01, 0x05, 0x69, 0x64, 0x2C, 0x61, 0x6D, 0x6F, 0x75, 0x6E, 0x74, 0x0A, 0x30, 0x4F, 0x70, 0x74,
        0x69, 0x6F, 0x6E, 0x61, 0x6C, 0x2C, 0x32, 0x0A, 0x33, 0x2C, 0x01, 0x6D, 0x64, 0x69, 0x61, 0x05,
        0x2C, 0x6F, 0x75, 0x6E, 0x74, 0x0A, 0x31, 0x2C, 0x32, 0x0A, 0x33, 0x2C, 0x22, 0x22, 0x34, 0x35,
        0x0A, 0x0A, 0x22, 0x34, 0x0A, 0x35, 0x22, 0x08,
    ]

    static func cuts(_ stdin: [UInt8], format: InputFormat = .csv, batchRows: Int = 1) -> [CutBatch] {
        let splitter = InputSplitter(format: format, batchRows: batchRows, maxRecordBytes: 1 << 20)
        stdin.withUnsafeBytes { splitter.append($0) }
        splitter.endOfInput()
        var cuts: [CutBatch] = []
        while let cut = splitter.nextBatch(flushPartial: true) { cuts.append(cut) }
        return cuts
    }

    /// The CSV pipeline of compose/, in one process: the source's splitter, then ingest (which
    /// throws when the two disagree on a batch's records), featurize, infer, aggregate.
    static func fused(batchRows: Int) throws -> FusedPipeline {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("compose/pipeline-csv.toml").path
        var config = try PipelineConfig.parse(text: try String(contentsOfFile: path, encoding: .utf8), path: path)
        config.pipeline.batchRows = batchRows
        return try FusedPipeline(config: config)
    }

    @Test func strayQuoteEndsItsRecordAtTheLineEnd() throws {
        let stdin = Array(Self.strayQuote.dropFirst(2))
        #expect(Self.cuts(stdin).map(\.recordCount) == [1, 1, 1, 1, 1])
        #expect(Self.cuts(stdin).map(\.firstLine) == [2, 3, 4, 5, 6])
        // The whole stream: every record is rejected (the header lacks required fields, line 5 is
        // not UTF-8), one reject per record, none lost, and no stage fails.
        var pipeline = try Self.fused(batchRows: 1)
        let (output, rejects) = try stdin.withUnsafeBytes { try pipeline.run(input: $0) }
        let lines = output.split(separator: 0x0A).count
        #expect(lines - 1 + rejects.count == 5)
        #expect(rejects.map(\.line) == [2, 3, 4, 5, 6])
    }

    @Test func strayQuoteMinimal() {
        // A quote that does not start a field opens nothing: "d,e" is a record of its own.
        let cuts = Self.cuts(Array("h1,h2\na,b\"c\nd,e\n".utf8), batchRows: 10)
        #expect(cuts.map(\.recordCount) == [2])
        #expect(cuts.first.map { String(decoding: $0.body, as: UTF8.self) } == "a,b\"c\nd,e\n")
    }

    @Test func lastRecordWithoutLineEndEndsItsBatchOnItsLastLine() throws {
        let stdin = Array(Self.lastRecordWithoutLineEnd.dropFirst(2))
        let cuts = Self.cuts(stdin)
        #expect(cuts.map(\.recordCount) == [1, 1, 1, 1, 1])
        #expect(cuts.last?.lastLine == 8)
        for cut in cuts { #expect(cut.firstLine <= cut.lastLine) }
        var pipeline = try Self.fused(batchRows: 1)
        let (_, rejects) = try stdin.withUnsafeBytes { try pipeline.run(input: $0) }
        #expect(rejects.last?.line == 7)
        #expect(rejects.last?.code == .csvSyntax)
        // JSON lines too: a last line without "\n" is still a line.
        #expect(Self.cuts(Array("{}\n{}".utf8), format: .jsonl, batchRows: 10).map(\.lastLine) == [2])
    }
}
