import Config
import Glibc
import Messages
import Runtime

/// The end of the data path: takes output batches from aggregate replicas in any order, drops
/// duplicates (replays), assembles batches that were split into parts, and commits them in
/// sequence order: output text to stdout, rejected records to the errors stream, summaries
/// merged. Writing happens on `OutputWriter`'s thread.
final class Sink {
    /// A batch's output, or the output of a part of it.
    struct Piece {
        var text: [UInt8]
        var rejects: [Reject]
        var summary: BatchSummary?
        var rows: Int
        /// Input records covered.
        var records: Int
    }

    let upstream: UpstreamSet
    let writer: OutputWriter
    let errorsFD: Int32
    let outputFD: Int32
    /// The next sequence number to commit; every lower one is committed.
    private(set) var nextCommit: UInt64 = 0
    /// Whole batches ready to commit.
    private var held: [UInt64: Piece] = [:]
    /// Parts of split batches, by sequence and first record.
    private var parts: [UInt64: [Int: Piece]] = [:]
    private(set) var summary = BatchSummary()
    private(set) var rows = 0
    private(set) var records = 0
    private(set) var rejected = 0
    private(set) var rejectedByCode: [RejectCode: Int] = [:]
    private(set) var duplicates = 0
    /// The last input line of the last committed batch.
    private(set) var lastCommittedLine: UInt64 = 0
    /// Text written before the first batch (the CSV header).
    private var preamble: [UInt8]?

    init(upstream: UpstreamSet, writer: OutputWriter, outputFD: Int32, errorsFD: Int32, preamble: String?) {
        self.upstream = upstream
        self.writer = writer
        self.outputFD = outputFD
        self.errorsFD = errorsFD
        self.preamble = preamble.map { Array($0.utf8) }
    }

    /// True when records [offset, offset+count) of batch `sequence` are committed or received.
    func covers(_ sequence: UInt64, offset: Int, count: Int) -> Bool {
        if sequence < nextCommit || held[sequence] != nil { return true }
        return parts[sequence]?[offset].map { $0.records >= count } ?? false
    }

    /// Takes every whole frame the aggregate links hold and commits what is complete.
    /// - Parameter batch: (record count, last input line) of a batch the source still holds.
    @discardableResult
    func collect(batch: (UInt64) -> (records: Int, lastLine: UInt64)?) -> Int {
        while let (link, frame) = upstream.next() {
            do {
                try accept(frame, batch: batch)
                upstream.consumed(frame, from: link)
            } catch {
                upstream.reject(link, because: error)
            }
        }
        upstream.settle()
        var committed = 0
        while let piece = held.removeValue(forKey: nextCommit) {
            commit(piece)
            if let info = batch(nextCommit) { lastCommittedLine = info.lastLine }
            nextCommit += 1
            committed += 1
        }
        return committed
    }

    private func accept(_ frame: Frame, batch: (UInt64) -> (records: Int, lastLine: UInt64)?) throws {
        let sequence = frame.header.sequence
        let piece: Piece
        switch frame.header.kind {
        case .output:
            let out = try OutputBatchView.decode(frame)
            piece = Piece(text: Array(out.text), rejects: try out.envelope.rejects(), summary: out.summary,
                          rows: Int(frame.header.rowCount), records: Int(out.envelope.recordCount))
        case .errors:
            let b = try ErrorBatchView.decode(frame)
            piece = Piece(text: [], rejects: try b.envelope.rejects(), summary: nil, rows: 0, records: Int(b.envelope.recordCount))
        default:
            throw FrameError.unexpected(kind: frame.header.kind, context: "at the sink")
        }
        if frame.header.flags.contains(.part) {
            addPart(piece, sequence: sequence, offset: Int(frame.header.stream), batch: batch)
        } else if covers(sequence, offset: 0, count: piece.records) {
            duplicates += 1
        } else {
            held[sequence] = piece
            parts[sequence] = nil
        }
    }

    /// Adds the output of records [offset, offset + piece.records) of a split batch.
    func addPart(_ piece: Piece, sequence: UInt64, offset: Int, batch: (UInt64) -> (records: Int, lastLine: UInt64)?) {
        guard !covers(sequence, offset: offset, count: piece.records) else {
            duplicates += 1
            return
        }
        parts[sequence, default: [:]][offset] = piece
        guard let total = batch(sequence)?.records, let pieces = parts[sequence] else { return }
        var at = 0
        var ordered: [Piece] = []
        while let next = pieces[at], next.records > 0 {
            ordered.append(next)
            at += next.records
        }
        guard at == total else { return }
        var whole = Piece(text: [], rejects: [], summary: nil, rows: 0, records: total)
        for p in ordered {
            whole.text += p.text
            whole.rejects += p.rejects
            whole.rows += p.rows
            if let s = p.summary {
                var merged = whole.summary ?? BatchSummary()
                merged.merge(s)
                whole.summary = merged
            }
        }
        whole.rejects.sort { $0.line < $1.line }
        held[sequence] = whole
        parts[sequence] = nil
    }

    private func commit(_ batch: Piece) {
        if let p = preamble {
            writer.enqueue(fd: outputFD, bytes: p)
            preamble = nil
        }
        if !batch.rejects.isEmpty {
            var lines = ""
            for r in batch.rejects {
                lines += RejectLine.format(r)
                lines += "\n"
                rejectedByCode[r.code, default: 0] += 1
            }
            writer.enqueue(fd: errorsFD, bytes: Array(lines.utf8))
        }
        writer.enqueue(fd: outputFD, bytes: batch.text, sequence: nextCommit)
        if let s = batch.summary { summary.merge(s) }
        rows += batch.rows
        records += batch.records
        rejected += batch.rejects.count
    }

    /// Writes the CSV header even when no batch came (empty input).
    func finish() {
        if let p = preamble {
            writer.enqueue(fd: outputFD, bytes: p)
            preamble = nil
        }
    }
}

/// The one-line JSON form of a rejected record, as printed on stderr or in `--errors` files.
enum RejectLine {
    static func format(_ r: Reject) -> String {
        var s = "{\"line\":\(r.line),\"byte_offset\":\(r.byteOffset),\"stage\":\"\(r.stage.name)\",\"code\":\"\(r.code.name)\""
        s += ",\"field\":" + quote(r.field)
        s += ",\"message\":" + quote(r.message)
        s += ",\"input\":" + quote(String(decoding: r.input, as: UTF8.self))
        s += "}"
        return s
    }

    /// A JSON string literal.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
