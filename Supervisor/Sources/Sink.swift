import Config
import Glibc
import Messages
import Runtime

/// The end of the data path: takes output batches from aggregate replicas in any order, drops
/// duplicates (replays), and commits them in sequence order: output text to stdout, rejected
/// records to the errors stream, summaries merged. Writing happens on `OutputWriter`'s thread.
final class Sink {
    private struct Held {
        var text: [UInt8]
        var rejects: [Reject]
        var summary: BatchSummary?
        var rows: Int
        var records: Int
    }

    let upstream: UpstreamSet
    let writer: OutputWriter
    let errorsFD: Int32
    let outputFD: Int32
    /// The next sequence number to commit; every lower one is committed.
    private(set) var nextCommit: UInt64 = 0
    private var held: [UInt64: Held] = [:]
    private(set) var summary = BatchSummary()
    private(set) var rows = 0
    private(set) var records = 0
    private(set) var rejected = 0
    private(set) var rejectedByCode: [RejectCode: Int] = [:]
    private(set) var duplicates = 0
    /// The first line of the next batch to commit, and the last committed line.
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

    /// True when `sequence` is committed or waiting to be.
    func has(_ sequence: UInt64) -> Bool { sequence < nextCommit || held[sequence] != nil }

    /// Takes every whole frame the aggregate links hold; returns how many batches were committed.
    /// - Parameter lastLine: the last input line of a batch (from the source), for messages.
    @discardableResult
    func collect(lastLine: (UInt64) -> UInt64?) -> Int {
        while let (link, frame) = upstream.next() {
            do {
                try accept(frame)
                upstream.consumed(frame, from: link)
            } catch {
                upstream.drop(link, because: "\(error)")
            }
        }
        upstream.settle()
        var committed = 0
        while let batch = held.removeValue(forKey: nextCommit) {
            commit(batch, sequence: nextCommit)
            if let line = lastLine(nextCommit) { lastCommittedLine = line }
            nextCommit += 1
            committed += 1
        }
        return committed
    }

    private func accept(_ frame: Frame) throws {
        let sequence = frame.header.sequence
        if has(sequence) {
            duplicates += 1
            return
        }
        switch frame.header.kind {
        case .output:
            let out = try OutputBatchView.decode(frame)
            held[sequence] = Held(text: Array(out.text), rejects: try out.envelope.rejects(), summary: out.summary,
                                  rows: Int(frame.header.rowCount), records: Int(out.envelope.recordCount))
        case .errors:
            let batch = try ErrorBatchView.decode(frame)
            held[sequence] = Held(text: [], rejects: try batch.envelope.rejects(), summary: nil, rows: 0,
                                  records: Int(batch.envelope.recordCount))
        default:
            throw FrameError.unexpected(kind: frame.header.kind, context: "at the sink")
        }
    }

    private func commit(_ batch: Held, sequence: UInt64) {
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
        writer.enqueue(fd: outputFD, bytes: batch.text, sequence: sequence)
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
