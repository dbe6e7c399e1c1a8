import Config
import Foundation
import Glibc
import Messages
import Testing
@testable import PipelineSource

/// `--split I/N`: the N ranges of a file hold its records exactly once, each cut where a record
/// starts by ingest's own rule (CSV line ends inside quotes are no boundary), with the whole
/// file's line numbers and byte offsets and, after the first, the CSV header.
@Suite struct InputSplitTests {
    struct Record: Equatable, CustomStringConvertible {
        var line: UInt64
        var offset: UInt64
        var body: String
        var rejects: [UInt64]
        var description: String { "\(line)@\(offset) \(body.debugDescription) \(rejects)" }
    }

    /// Every record the splitter cuts from `bytes` (one per batch), started as a split would be.
    static func records(_ bytes: ArraySlice<UInt8>, format: InputFormat, header: [UInt8]?, offset: UInt64, line: UInt64,
                        maxRecordBytes: Int) -> (records: [Record], header: [UInt8]?) {
        let s = InputSplitter(format: format, batchRows: 1, maxRecordBytes: maxRecordBytes, header: header, offset: offset, line: line)
        var out: [Record] = []
        func take(_ flush: Bool) {
            while let b = s.nextBatch(flushPartial: flush) {
                out.append(Record(line: b.firstLine, offset: b.byteOffset, body: String(decoding: b.body, as: UTF8.self), rejects: b.rejects.map(\.line)))
            }
        }
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let end = min(bytes.endIndex, i + 97)  // odd reads: records straddle them
            bytes[i..<end].withUnsafeBytes { s.append($0) }
            take(false)
            i = end
        }
        s.endOfInput()
        take(true)
        return (out, s.header)
    }

    /// Random records: JSON lines, or CSV with quoted fields holding commas, doubled quotes and
    /// line ends; blank lines; a few records over the length limit.
    static func input(_ format: InputFormat, seed: UInt64, records: Int) -> [UInt8] {
        var state = seed | 1
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        var text = format == .csv ? (next() % 2 == 0 ? "\u{FEFF}" : "") + "id,note\n" : ""
        for i in 0..<records {
            if next() % 9 == 0 { text += next() % 2 == 0 ? "\n" : "  \r\n" }
            let long = next() % 41 == 0 ? String(repeating: "x", count: 300) : ""
            switch format {
            case .jsonl: text += "{\"id\":\(i),\"note\":\"n\(next() % 1000)\(long)\"}\n"
            case .csv:
                let note: String
                switch next() % 4 {
                case 0: note = "\"a,\nb\(next() % 100)\""
                case 1: note = "\"say \"\"hi\"\"\n\nthere\""
                case 2: note = "plain\(long)"
                default: note = "\"\(long)\""
                }
                text += "\(i),\(note)\n"
            }
        }
        if next() % 2 == 0 { text.removeLast() }  // a last record without its line end
        return Array(text.utf8)
    }

    @Test(arguments: [InputFormat.jsonl, .csv])
    func theSplitsHoldEveryRecordOnceWithTheWholeFilesLinesAndOffsets(format: InputFormat) throws {
        for seed in UInt64(1)...12 {
            let bytes = Self.input(format, seed: seed, records: Int(seed) * 37)
            let path = NSTemporaryDirectory() + "pipeline-split-\(getpid())-\(format)-\(seed).txt"
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let fd = open(path, O_RDONLY)
            defer { close(fd) }
            let whole = Self.records(bytes[...], format: format, header: nil, offset: 0, line: 1, maxRecordBytes: 200)
            for count in [1, 2, 3, 5, 8, 64] {
                var joined: [Record] = []
                var previousEnd: UInt64 = 0
                for index in 0..<count {
                    let r = try InputSplit(index: index, count: count).range(in: fd, size: UInt64(bytes.count), format: format, chunkBytes: 53)
                    #expect(r.start == previousEnd, "seed \(seed), \(index)/\(count): starts where the last ended")
                    #expect(index > 0 || r.start == 0)
                    previousEnd = r.end
                    if format == .csv && index > 0 { #expect(r.header == whole.header, "seed \(seed) \(index)/\(count)") }
                    let part = Self.records(bytes[Int(r.start)..<Int(r.end)], format: format, header: index == 0 ? nil : r.header,
                                            offset: r.start, line: r.firstLine, maxRecordBytes: 200)
                    joined += part.records
                }
                #expect(previousEnd == UInt64(bytes.count), "seed \(seed), \(count) splits: the last ends at the end")
                #expect(joined == whole.records, "seed \(seed), \(count) splits")
            }
        }
    }

    @Test func splitsAreParsedAndChecked() {
        #expect(InputSplit("0/3") == InputSplit(index: 0, count: 3))
        #expect(InputSplit("2/3") == InputSplit(index: 2, count: 3))
        for bad in ["3/3", "-1/3", "1/0", "1", "a/b", "1/3/4", "", "/3", " 1/3", "+1/3", "1/100001"] {
            #expect(InputSplit(bad) == nil, "\(bad)")
        }
    }
}
