import Config
import Glibc

/// Cuts input bytes into records by the one rule that the source (which counts records into
/// chunks) and ingest (which parses them) must share: if they disagree, a batch's counts do not
/// add up and ingest throws `IngestError.recordCountMismatch`.
///
/// - JSON lines: a record is one line, ended by "\n" or by the end of the input.
/// - CSV: a record ends at a "\n" outside quotes. Only a field that *starts* with '"' is quoted;
///   it runs to the next '"' that is not doubled. A quote anywhere else opens nothing (the record
///   is a CSV_SYNTAX reject, but it still ends at its line end), so one stray quote never swallows
///   the lines after it. An unterminated quoted field runs to the end of the input.
/// - Blank lines: a line that is empty or holds only spaces, tabs and "\r" is not a record, in
///   either format. It still counts as a line for line numbers.
///
/// The splitter is incremental: feed bytes as they arrive; the quote state carries over.
public struct RecordSplitter: Sendable {
    /// One record (or blank line) found by `next(in:from:)` or `finish(at:)`.
    public struct Record: Sendable, Equatable {
        /// Index just past the record's "\n" (or the end of the input, for a last record without one).
        public var end: Int
        /// True for a blank line: it is not a record, only a line.
        public var isBlank: Bool
        /// "\n" bytes inside quoted CSV fields; the record spans `innerLineBreaks + 1` lines.
        public var innerLineBreaks: Int

        public init(end: Int, isBlank: Bool, innerLineBreaks: Int) {
            self.end = end
            self.isBlank = isBlank
            self.innerLineBreaks = innerLineBreaks
        }
    }

    private enum CSVState: UInt8, Sendable {
        case fieldStart, unquoted, quoted, quoteInQuoted
    }

    public let format: InputFormat
    private var state = CSVState.fieldStart
    private var nonBlank = false
    private var innerBreaks = 0

    /// A splitter positioned at the start of a record.
    public init(format: InputFormat) {
        self.format = format
    }

    /// True when the bytes scanned so far end inside a quoted CSV field (at end of input, that
    /// record is unterminated).
    public var isInsideQuotedField: Bool { state == .quoted }

    /// True while the bytes scanned of the current record are all blank (spaces, tabs, "\r"):
    /// if its end comes before anything else, it is a blank line, not a record.
    public var isBlankSoFar: Bool { !nonBlank }

    /// Scans `bytes[from...]` for the end of the current record (or blank line).
    ///
    /// - Returns: the record, after which the splitter is positioned at the next one; or nil when
    ///   the bytes ran out first. Every byte was then consumed and the state is kept: call again
    ///   with more bytes, starting at the first new one, or `finish(at:)` at end of input.
    public mutating func next(in bytes: UnsafeRawBufferPointer, from: Int) -> Record? {
        precondition(from >= 0 && from <= bytes.count, "scan start out of range")
        guard let base = bytes.baseAddress, from < bytes.count else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        switch format {
        case .jsonl: return nextLine(p, from, bytes.count)
        case .csv: return nextCSV(p, from, bytes.count)
        }
    }

    /// At end of input: the pending record (bytes after the last "\n"), or nil when those bytes
    /// are blank or absent. Resets the splitter.
    public mutating func finish(at end: Int) -> Record? {
        defer { reset() }
        return nonBlank ? Record(end: end, isBlank: false, innerLineBreaks: innerBreaks) : nil
    }

    private mutating func reset() {
        state = .fieldStart
        nonBlank = false
        innerBreaks = 0
    }

    private mutating func ended(at end: Int) -> Record {
        let record = Record(end: end, isBlank: !nonBlank, innerLineBreaks: innerBreaks)
        reset()
        return record
    }

    private mutating func nextLine(_ p: UnsafePointer<UInt8>, _ from: Int, _ end: Int) -> Record? {
        let found = memchr(p + from, 0x0A, end - from)
        let lineEnd = found.map { UnsafeRawPointer($0) - UnsafeRawPointer(p) } ?? end
        if !nonBlank { nonBlank = !Self.isBlank(p, from, lineEnd) }
        return found == nil ? nil : ended(at: lineEnd + 1)
    }

    private mutating func nextCSV(_ p: UnsafePointer<UInt8>, _ from: Int, _ end: Int) -> Record? {
        var i = from
        while true {
            switch state {
            case .fieldStart, .unquoted:
                // Outside quotes only a '"' can change what a "\n" means: jump between them.
                let newline = memchr(p + i, 0x0A, end - i)
                let lineEnd = newline.map { UnsafeRawPointer($0) - UnsafeRawPointer(p) } ?? end
                guard let quote = memchr(p + i, 0x22, lineEnd - i) else {
                    if !nonBlank { nonBlank = !Self.isBlank(p, i, lineEnd) }
                    if newline != nil { return ended(at: lineEnd + 1) }
                    if lineEnd > i { state = p[lineEnd - 1] == UInt8(ascii: ",") ? .fieldStart : .unquoted }
                    return nil
                }
                let q = UnsafeRawPointer(quote) - UnsafeRawPointer(p)
                if q > i { state = p[q - 1] == UInt8(ascii: ",") ? .fieldStart : .unquoted }
                nonBlank = true
                if state == .fieldStart { state = .quoted }  // else a stray quote: it opens nothing
                i = q + 1
            case .quoted:
                let quote = memchr(p + i, 0x22, end - i)
                let stop = quote.map { UnsafeRawPointer($0) - UnsafeRawPointer(p) } ?? end
                var k = i
                while k < stop {
                    if p[k] == 0x0A { innerBreaks += 1 }
                    k += 1
                }
                if quote == nil { return nil }
                state = .quoteInQuoted
                i = stop + 1
            case .quoteInQuoted:
                guard i < end else { return nil }
                switch p[i] {
                case UInt8(ascii: "\""): state = .quoted
                case UInt8(ascii: ","): state = .fieldStart
                case 0x0A: return ended(at: i + 1)
                default: state = .unquoted
                }
                i += 1
            }
        }
    }

    /// True when `p[from..<to]` holds only spaces, tabs and "\r".
    static func isBlank(_ p: UnsafePointer<UInt8>, _ from: Int, _ to: Int) -> Bool {
        var i = from
        while i < to {
            let c = p[i]
            if c != 0x20 && c != 0x09 && c != 0x0D { return false }
            i += 1
        }
        return true
    }
}
