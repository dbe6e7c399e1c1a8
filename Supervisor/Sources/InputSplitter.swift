import Config
import Glibc
import IngestStage
import Messages

/// One batch of whole input records, cut from stdin by `InputSplitter`.
struct CutBatch {
    /// 1-based line number of the body's first line.
    var firstLine: UInt64
    /// Byte offset of the body's first byte in the input.
    var byteOffset: UInt64
    /// Records in the batch: in the body, plus `rejects` (records refused here).
    var recordCount: Int
    var rejects: [Reject]
    var body: [UInt8]
    /// 1-based number of the batch's last input line (for "last committed line" messages).
    var lastLine: UInt64
}

/// Cuts raw input bytes into batches of whole records, the way ingest will parse them.
///
/// Records: JSON lines end at "\n"; CSV records end where ingest's `RecordSplitter` ends them
/// (at "\n" outside a quoted field; a quote that does not start a field opens nothing). The two
/// must agree, or a batch's record count does not match what ingest finds in it.
/// Lines holding only spaces, tabs and "\r" are not records in either format. In CSV the first
/// record is the header, kept apart and sent with every batch. A record longer than the
/// limit is never buffered whole: it is skipped to its end and reported as LINE_TOO_LONG.
final class InputSplitter {
    let format: InputFormat
    let batchRows: Int
    let maxRecordBytes: Int

    /// The CSV header record without its line end, once read.
    private(set) var header: [UInt8]?
    private var buffer: [UInt8] = []
    /// Absolute input offset of buffer[0].
    private var bufferOffset: UInt64 = 0
    private var batchStart = 0
    private var batchFirstLine: UInt64 = 1
    private var recordStart = 0
    private var recordStartLine: UInt64 = 1
    private var scanPos = 0
    private var line: UInt64 = 1
    /// CSV record boundaries, by ingest's rule (its quote state carries over between appends).
    private var csvRecords: RecordSplitter
    private var batchRecords = 0
    private var rejects: [Reject] = []
    /// Skipping a too-long record until its end.
    private var skipping = false
    private var eof = false
    private var ready: [CutBatch] = []

    /// - Parameter header: the CSV header when it is already known (re-splitting a batch body).
    init(format: InputFormat, batchRows: Int, maxRecordBytes: Int, header: [UInt8]? = nil) {
        self.format = format
        self.batchRows = batchRows
        self.maxRecordBytes = maxRecordBytes
        self.header = header
        csvRecords = RecordSplitter(format: format)
    }

    /// Bytes held that are not yet in a cut batch.
    var bufferedBytes: Int { buffer.count - batchStart }

    /// True when complete records wait that are not yet in a batch.
    var hasPartialBatch: Bool { batchRecords + rejects.count > 0 }

    /// Adds bytes read from the input and cuts every batch that fills up.
    func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
        scan()
    }

    /// The input has ended: the last record may lack its line end.
    func endOfInput() {
        eof = true
        scan()
        if skipping {
            skipping = false
        } else if recordStart < buffer.count {
            if !isBlank(recordStart, buffer.count) {
                // No line end, but the record still ends its lines: `line` is the next one.
                line += 1 + UInt64(csvRecords.finish(at: buffer.count)?.innerLineBreaks ?? 0)
                completeRecord(end: buffer.count)
            }
            recordStart = buffer.count
        }
        cut(flushPartial: true)
    }

    /// The next batch: a full one, or (with `flushPartial`) whatever whole records wait.
    func nextBatch(flushPartial: Bool) -> CutBatch? {
        if ready.isEmpty && flushPartial { cut(flushPartial: true) }
        return ready.isEmpty ? nil : ready.removeFirst()
    }

    // MARK: Scanning

    private func scan() {
        while scanPos < buffer.count {
            guard let end = findRecordEnd() else {
                if skipping {
                    // Drop what was skipped (compacted at the next append).
                    batchStart = scanPos
                    recordStart = scanPos
                } else if scanPos - recordStart > maxRecordBytes {
                    startSkipping()
                }
                return
            }
            // `end` is the index of the record's "\n".
            if skipping {
                skipping = false
                beginBatch(at: end + 1)
            } else if isBlank(recordStart, end) {
                recordStart = end + 1
                recordStartLine = line
            } else if end - recordStart > maxRecordBytes {
                startSkipping()
                skipping = false
                beginBatch(at: end + 1)
            } else {
                completeRecord(end: end + 1)
            }
        }
    }

    /// Advances `scanPos` to the next record end ("\n" outside quotes), counting lines.
    /// Returns the index of that "\n", or nil when the buffer ends first.
    private func findRecordEnd() -> Int? {
        let count = buffer.count
        return buffer.withUnsafeBufferPointer { p -> Int? in
            var i = scanPos
            if format == .jsonl {
                guard let hit = memchr(p.baseAddress! + i, 10, count - i) else {
                    scanPos = count
                    return nil
                }
                i = p.baseAddress!.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                line += 1
                scanPos = i + 1
                return i
            }
            guard let record = csvRecords.next(in: UnsafeRawBufferPointer(p), from: i) else {
                scanPos = count
                return nil
            }
            line += 1 + UInt64(record.innerLineBreaks)
            scanPos = record.end
            return record.end - 1
        }
    }

    private func isBlank(_ from: Int, _ to: Int) -> Bool {
        var i = from
        while i < to {
            let b = buffer[i]
            if b != 32 && b != 9 && b != 13 { return false }
            i += 1
        }
        return true
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
        if batchRecords + rejects.count >= batchRows { cut(flushPartial: false) }
    }

    /// The current record is over the limit: report it, end the batch before it, skip to its end.
    private func startSkipping() {
        let excerpt = Array(buffer[recordStart..<min(buffer.count, recordStart + Reject.maxInputBytes)])
        rejects.append(Reject(
            line: recordStartLine, byteOffset: bufferOffset + UInt64(recordStart), stage: .ingest, code: .lineTooLong,
            message: "record is longer than the limit of \(maxRecordBytes) bytes (input.max_line_bytes); skipped",
            input: excerpt))
        cut(flushPartial: true)
        skipping = true
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
        ready.append(CutBatch(firstLine: batchFirstLine, byteOffset: bufferOffset + UInt64(batchStart),
                              recordCount: total, rejects: rejects, body: Array(buffer[batchStart..<recordStart]),
                              lastLine: max(lastLine, rejects.last?.line ?? 0)))
        rejects = []
        batchRecords = 0
        batchStart = recordStart
        batchFirstLine = recordStartLine
    }

    /// Drops bytes before the current batch once they are a large share of the buffer.
    private func compact() {
        guard batchStart > 0, batchStart >= buffer.count / 2 || batchStart > 1 << 20 else { return }
        buffer.removeFirst(batchStart)
        bufferOffset += UInt64(batchStart)
        recordStart -= batchStart
        scanPos -= batchStart
        batchStart = 0
    }
}
