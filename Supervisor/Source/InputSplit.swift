import Config
import Glibc
import IngestStage
import Runtime

/// One of N byte ranges of an input file, cut at record boundaries (`pipeline up --input FILE
/// --split I/N`, as Kubernetes' `JOB_COMPLETION_INDEX` numbers the pods of an Indexed Job).
///
/// Split I covers the records that *start* in [I·size/N, (I+1)·size/N): it begins at the first
/// record (or blank line) starting at or after I·size/N and ends where split I+1 begins, so the N
/// splits hold every record exactly once, and concatenating their outputs gives the output of one
/// run over the whole file. Records are found by ingest's own rule (`RecordSplitter`: CSV records
/// end at a line end outside quotes), scanning the file from its start in chunks — the only way to
/// know, in CSV, whether a line end is inside a quoted field — without holding it in memory.
public struct InputSplit: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// "I/N" with 0 ≤ I < N ≤ 100000; nil otherwise.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, n <= 100_000, i >= 0, i < n,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        index = i
        count = n
    }

    public var description: String { "\(index)/\(count)" }

    /// Where a split lies in its file.
    public struct Range: Sendable, Equatable {
        /// Byte offsets: [start, end).
        public var start: UInt64
        public var end: UInt64
        /// The 1-based input line at `start` (rejected records keep the whole file's line numbers).
        public var firstLine: UInt64
        /// CSV: the file's header record (without its line end), for a split that does not begin
        /// with it; nil for split 0 (which reads it as the whole file's run does) and JSON lines.
        public var header: [UInt8]?
    }

    /// Finds this split's range in the regular file open as `fd` (read with `pread`: the file
    /// position is left alone).
    public func range(in fd: Int32, size: UInt64, format: InputFormat, chunkBytes: Int = 1 << 20) throws(SystemError) -> Range {
        let from = size * UInt64(index) / UInt64(count)
        let to = size * UInt64(index + 1) / UInt64(count)
        var splitter = RecordSplitter(format: format)
        var chunk = [UInt8](repeating: 0, count: chunkBytes)
        var chunkStart: UInt64 = 0
        var recordStart: UInt64 = 0
        var line: UInt64 = 1
        var header: [UInt8]?
        var headerDone = format != .csv
        var start: (offset: UInt64, line: UInt64)? = index == 0 ? (0, 1) : nil
        var end: UInt64? = index + 1 == count ? size : nil
        /// A record (or blank line) begins at `recordStart`, on `line`.
        func boundary() -> Bool {
            if start == nil && recordStart >= from { start = (recordStart, line) }
            if end == nil && recordStart >= to { end = recordStart }
            return start != nil && end != nil
        }
        var headerBytes: [UInt8] = []
        var firstRecord = true
        scanning: while chunkStart < size {
            let want = Int(min(UInt64(chunkBytes), size - chunkStart))
            let read = chunk.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) in try Sys.readAt(fd, into: raw.baseAddress!, count: want, offset: chunkStart) }
            }
            let got = try read.get()
            guard got > 0 else { break }
            var position = 0
            while true {
                let found = chunk.withUnsafeBytes { raw in splitter.next(in: UnsafeRawBufferPointer(rebasing: raw[0..<got]), from: position) }
                if !headerDone { headerBytes += chunk[position..<(found?.end ?? got)] }
                guard let record = found else { break }
                position = record.end
                line += 1 + UInt64(record.innerLineBreaks)
                recordStart = chunkStart + UInt64(record.end)
                defer { firstRecord = false }
                if !headerDone {
                    if record.isBlank {
                        headerBytes = []  // blank lines before the header are no part of it
                    } else {
                        headerDone = true
                        while let last = headerBytes.last, last == 10 || last == 13 { headerBytes.removeLast() }
                        // A UTF-8 byte-order mark at the very start is not part of the header.
                        if firstRecord && headerBytes.starts(with: [0xEF, 0xBB, 0xBF]) { headerBytes.removeFirst(3) }
                        header = headerBytes
                    }
                }
                if headerDone && boundary() { break scanning }
            }
            chunkStart += UInt64(got)
        }
        // Past the last record: the remaining splits begin (and end) at the end of the file.
        recordStart = size
        _ = boundary()
        let s = start ?? (size, line)
        // A split inside the CSV header (a tiny file) begins after it.
        return Range(start: s.offset, end: max(end ?? size, s.offset), firstLine: s.line, header: index == 0 ? nil : header)
    }
}
