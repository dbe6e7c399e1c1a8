import Config
import Testing
@testable import IngestStage

@Suite struct RecordSplitterTests {
    /// Record end offsets (blank lines left out), feeding `bytes` in pieces of the given sizes.
    func ends(_ bytes: [UInt8], format: InputFormat, pieces: [Int]? = nil) -> [Int] {
        var splitter = RecordSplitter(format: format)
        var result: [Int] = []
        var fed = 0
        var pos = 0
        var cuts = pieces ?? [bytes.count]
        while fed < bytes.count {
            let size = min(cuts.isEmpty ? bytes.count : cuts.removeFirst(), bytes.count - fed)
            fed += size
            let visible = Array(bytes[0..<fed])
            visible.withUnsafeBytes { b in
                while let r = splitter.next(in: b, from: pos) {
                    if !r.isBlank { result.append(r.end) }
                    pos = r.end
                }
                pos = fed
            }
        }
        if let r = splitter.finish(at: bytes.count) { result.append(r.end) }
        return result
    }

    @Test func jsonLines() {
        let text = Array("{\"a\":1}\n\n  \t\r\n{\"b\":\"x\\ny\"}\r\n{\"c\":3}".utf8)
        #expect(ends(text, format: .jsonl) == [8, 28, 35])
    }

    @Test func csvQuotes() {
        let text = Array("a,\"b\nc\",d\n\"x\"\"\n\"\n  \ne\"f,g\nh,\"i\"j\n".utf8)
        // records: a,"b\nc",d | "x""\n" | (blank) | e"f,g (stray quote: ends at its line) | h,"i"j
        #expect(ends(text, format: .csv) == [10, 17, 26, 33])
    }

    @Test func innerLineBreaksAreCounted() {
        let text = Array("\"a\nb\nc\",1\n2\n".utf8)
        var splitter = RecordSplitter(format: .csv)
        text.withUnsafeBytes { b in
            #expect(splitter.next(in: b, from: 0) == RecordSplitter.Record(end: 10, isBlank: false, innerLineBreaks: 2))
            #expect(splitter.next(in: b, from: 10) == RecordSplitter.Record(end: 12, isBlank: false, innerLineBreaks: 0))
        }
    }

    @Test func unterminatedQuoteIsReported() {
        let text = Array("1,\"abc\n".utf8)
        var splitter = RecordSplitter(format: .csv)
        text.withUnsafeBytes { b in #expect(splitter.next(in: b, from: 0) == nil) }
        #expect(splitter.isInsideQuotedField)
        #expect(splitter.finish(at: text.count)?.end == text.count)
    }

    /// Random CSV-ish and JSON-ish bytes, fed whole, byte by byte, and in random pieces: the
    /// same records, and as many as the tests' independent reference counts.
    @Test(arguments: [InputFormat.csv, .jsonl])
    func randomPiecesAgreeWithTheReference(_ format: InputFormat) {
        var rng = SeededRandom(seed: 11)
        let alphabet = Array("ab,\"\n\r \t".utf8)
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...40, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            let whole = ends(bytes, format: format)
            #expect(whole.count == referenceRecordCount(bytes, format: format), "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
            #expect(ends(bytes, format: format, pieces: Array(repeating: 1, count: bytes.count)) == whole)
            let pieces = (0..<10).map { _ in Int.random(in: 1...8, using: &rng) }
            #expect(ends(bytes, format: format, pieces: pieces) == whole)
        }
    }
}
