import Config
import Glibc
import IngestStage
import Messages

/// One batch of whole input records, cut from stdin by `InputSplitter`.
public struct CutBatch {
    /// 1-based line number of the body's first line.
    public var firstLine: UInt64
    /// Byte offset of the body's first byte in the input.
    public var byteOffset: UInt64
    /// Records in the batch: in the body, plus `rejects` (records refused here).
    public var recordCount: Int
    public var rejects: [Reject]
    public var body: [UInt8]
    /// 1-based number of the batch's last input line (for "last committed line" messages).
    public var lastLine: UInt64
}

/// Cuts raw input bytes into batches of whole records, the way ingest will parse them.
///
/// Records are found by ingest's `RecordSplitter`, the one rule both sides share (JSON lines end
/// at "\n"; CSV records at "\n" outside a quoted field; blank lines are not records). In CSV the
/// first record is the header, kept apart and sent with every batch. A record longer than the
/// limit is never buffered whole: it is skipped to its end and reported as LINE_TOO_LONG.
public final class InputSplitter {
    public let format: InputFormat
    public let batchRows: Int
    public let maxRecordBytes: Int
    /// A batch is cut once its body reaches this size, whatever its record count, so that
    /// frames stay far below the 64 MiB frame limit even with large records.
    public static let maxBatchBytes = 16 << 20

    /// The CSV header record without its line end, once read.
    public private(set) var header: [UInt8]?
    private var buffer: [UInt8] = []
    /// Absolute input offset of buffer[0].
    private var bufferOffset: UInt64 = 0
    private var batchStart = 0
    private var batchFirstLine: UInt64 = 1
    private var recordStart = 0
    private var recordStartLine: UInt64 = 1
    private var scanPos = 0
    private var line: UInt64 = 1
    /// The record rule shared with ingest (so both count the same records).
    private var records: RecordSplitter
    private var batchRecords = 0
    private var rejects: [Reject] = []
    /// Skipping a too-long record until its end.
    private var skipping = false
    /// Skipping a line over the limit that was blank when it reached the limit: not a record if
    /// it ends blank; a too-long record (this reject) if anything else comes before its end.
    private var skippingBlank: Reject?
    /// Batches never span a multiple of this many records (0: no such boundary): the drift
    /// watch's windows are then whole batches of exactly that many input records, wherever
    /// linger or the byte limit cut the batches in between.
    public var boundaryRecords = 0 {
        didSet { nextBoundary = boundaryRecords > 0 ? (recordsCut / boundaryRecords + 1) * boundaryRecords : .max }
    }
    /// The next multiple of `boundaryRecords` (a compare per record, not a division).
    private var nextBoundary = Int.max
    /// Records (rejects included) in the batches cut so far.
    public private(set) var recordsCut = 0
    /// Batches cut and not yet taken: their bodies are `buffer[start..<end]` (kept until taken).
    private var ready: [(batch: CutBatch, start: Int, end: Int)] = []

    /// - Parameters:
    ///   - header: the CSV header when it is already known (re-splitting a batch body, or a
    ///     split of a file after its first).
    ///   - offset: the input offset of the first byte appended (a split of a file starts within it).
    ///   - line: the 1-based input line of that byte.
    public init(format: InputFormat, batchRows: Int, maxRecordBytes: Int, header: [UInt8]? = nil, offset: UInt64 = 0, line: UInt64 = 1) {
        self.format = format
        self.batchRows = batchRows
        self.maxRecordBytes = maxRecordBytes
        self.header = header
        self.records = RecordSplitter(format: format)
        bufferOffset = offset
        self.line = line
        batchFirstLine = line
        recordStartLine = line
        // Re-splitting a batch body (header given), or a split of a file after its start: it
        // starts with a record, never with a mark.
        byteOrderMarkChecked = header != nil || offset > 0
    }

    /// Bytes held that are not yet in a cut batch.
    public var bufferedBytes: Int { buffer.count - batchStart }

    /// True when a cut batch waits to be taken.
    public var hasReadyBatch: Bool { !ready.isEmpty }

    /// True when complete records wait that are not yet in a batch.
    public var hasPartialBatch: Bool { batchRecords + rejects.count > 0 }

    /// Adds bytes read from the input and cuts every batch that fills up.
    public func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
        skipByteOrderMark()
        // Scan the first bytes only once it is known whether they are a byte-order mark, so that
        // the records do not depend on how many bytes the first read brought.
        guard byteOrderMarkChecked else { return }
        scan()
    }

    private var byteOrderMarkChecked = false

    /// A UTF-8 byte-order mark at the very start of the input is not part of the first record
    /// (byte offsets still count it). Only the splitter of the whole input looks for one.
    private func skipByteOrderMark(atEnd: Bool = false) {
        guard !byteOrderMarkChecked, bufferOffset == 0, buffer.count >= 3 || atEnd else { return }
        byteOrderMarkChecked = true
        if buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF && scanPos == 0 {
            batchStart = 3
            recordStart = 3
            scanPos = 3
        }
    }

    /// The input has ended: the last record may lack its line end.
    public func endOfInput() {
        skipByteOrderMark(atEnd: true)
        scan()
        let last = records.finish(at: buffer.count)
        if let pending = skippingBlank {
            // Blank to the end of the input: no record. (Anything else was seen in `scan`.)
            skippingBlank = nil
            if last != nil { rejects.append(pending) }
        } else if skipping {
            skipping = false
        } else if let last {
            // No line end, but the record still ends its lines: `line` is the next one.
            line += 1 + UInt64(last.innerLineBreaks)
            completeRecord(end: buffer.count)
        }
        recordStart = buffer.count
        cut(flushPartial: true)
    }

    /// The next batch: a full one, or (with `flushPartial`) whatever whole records wait.
    public func nextBatch(flushPartial: Bool) -> CutBatch? {
        withNextBatch(flushPartial: flushPartial) { batch, body in
            var copy = batch
            copy.body = Array(body)
            return copy
        }
    }

    /// Like `nextBatch`, but lends the body in place (`batch.body` is empty) instead of copying it.
    public func withNextBatch<T>(flushPartial: Bool, _ use: (CutBatch, UnsafeRawBufferPointer) throws -> T) rethrows -> T? {
        if ready.isEmpty && flushPartial { cut(flushPartial: true) }
        guard !ready.isEmpty else { return nil }
        let next = ready.removeFirst()
        return try buffer.withUnsafeBytes { raw in
            try use(next.batch, UnsafeRawBufferPointer(rebasing: raw[next.start..<next.end]))
        }
    }

    // MARK: Scanning

    private func scan() {
        while scanPos < buffer.count {
            let found = buffer.withUnsafeBytes { records.next(in: $0, from: scanPos) }
            guard let record = found else {
                // Every byte scanned; the record goes on past them.
                scanPos = buffer.count
                if skipping || skippingBlank != nil {
                    // Drop what was skipped (compacted at the next append).
                    batchStart = scanPos
                    recordStart = scanPos
                } else if scanPos - recordStart > maxRecordBytes {
                    startSkipping(blank: records.isBlankSoFar)
                }
                return
            }
            scanPos = record.end
            line += 1 + UInt64(record.innerLineBreaks)
            if skipping || skippingBlank != nil {
                // A line skipped for its length while blank is a record after all if anything
                // else came before its end (then a too-long one); else it is no record.
                if let pending = skippingBlank, !record.isBlank { rejects.append(pending) }
                skipping = false
                skippingBlank = nil
                cut(flushPartial: true)
                beginBatch(at: record.end)
            } else if record.isBlank {
                // Blank lines are not records, however long (whatever the reads: a long one
                // whose end comes in a later read is skipped as blank above).
                recordStart = record.end
                recordStartLine = line
                // A batch starts at its first record, not at blank lines before it.
                if batchRecords + rejects.count == 0 {
                    batchStart = recordStart
                    batchFirstLine = line
                }
            } else if record.end - 1 - recordStart > maxRecordBytes {
                // Its bytes without the "\n", as the check above counts them.
                startSkipping(blank: false)
                skipping = false
                beginBatch(at: record.end)
            } else {
                completeRecord(end: record.end)
            }
        }
    }

    /// The record [recordStart, end) (line end included) is complete.
    private func completeRecord(end: Int) {
        if format == .csv && header == nil {
            var stop = end
            while stop > recordStart && (buffer[stop - 1] == 10 || buffer[stop - 1] == 13) { stop -= 1 }
            header = Array(buffer[recordStart..<stop])
            beginBatch(at: end)
            return
        }
        batchRecords += 1
        recordStart = end
        recordStartLine = line
        let total = batchRecords + rejects.count
        if total >= batchRows || recordStart - batchStart >= Self.maxBatchBytes
            || recordsCut + total == nextBoundary {
            cut(flushPartial: true)
        }
    }

    /// The current record is over the limit: report it (or, while it is blank, keep its report
    /// until it turns out to be a record), end the batch before it, skip to its end.
    private func startSkipping(blank: Bool) {
        let excerpt = Array(buffer[recordStart..<min(buffer.count, recordStart + Reject.maxInputBytes)])
        let reject = Reject(
            line: recordStartLine, byteOffset: bufferOffset + UInt64(recordStart), stage: .ingest, code: .lineTooLong,
            message: "record is longer than the limit of \(maxRecordBytes) bytes (input.max_line_bytes); skipped",
            input: excerpt)
        if blank {
            skippingBlank = reject
        } else {
            rejects.append(reject)
            skipping = true
        }
        cut(flushPartial: true)
        // Forget the bytes seen so far: the record is never held whole.
        batchStart = scanPos
        recordStart = scanPos
    }

    /// Starts a new (empty) batch at buffer index `start`.
    private func beginBatch(at start: Int) {
        batchStart = start
        recordStart = start
        batchFirstLine = line
        recordStartLine = line
    }

    /// Moves the records in [batchStart, recordStart) and the pending rejects into a batch.
    private func cut(flushPartial: Bool) {
        let total = batchRecords + rejects.count
        guard total > 0, total >= batchRows || flushPartial else { return }
        let lastLine = recordStartLine > batchFirstLine ? recordStartLine - 1 : batchFirstLine
        // A batch starts at its first record, body or reject: a line that turned out too long
        // only after its blank start was skipped is a reject from before `batchStart`.
        let first = rejects.first
        ready.append((CutBatch(firstLine: min(batchFirstLine, first?.line ?? .max),
                               byteOffset: min(bufferOffset + UInt64(batchStart), first?.byteOffset ?? .max),
                               recordCount: total, rejects: rejects, body: [], lastLine: max(lastLine, rejects.last?.line ?? 0)),
                      batchStart, recordStart))
        recordsCut += total
        if recordsCut >= nextBoundary { nextBoundary += boundaryRecords * ((recordsCut - nextBoundary) / boundaryRecords + 1) }
        rejects = []
        batchRecords = 0
        batchStart = recordStart
        batchFirstLine = recordStartLine
    }

    /// Drops bytes no batch needs any more once they are a large share of the buffer.
    private func compact() {
        let keep = ready.first?.start ?? batchStart
        guard keep > 0, keep >= buffer.count / 2 || keep > 1 << 20 else { return }
        buffer.removeFirst(keep)
        bufferOffset += UInt64(keep)
        recordStart -= keep
        scanPos -= keep
        batchStart -= keep
        for i in ready.indices {
            ready[i].start -= keep
            ready[i].end -= keep
        }
    }
}
