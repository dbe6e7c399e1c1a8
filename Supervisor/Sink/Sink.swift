import ControlCore
import Messages
import Runtime

/// The end of the data path: decodes what aggregate replicas send (outputs of batches and of
/// parts of split batches, in any order), and writes the batches the control core commits —
/// output text to stdout, rejected records to the errors stream — on `OutputWriter`'s thread.
///
/// Its counts are of what reached the output: a batch counts once the writer has written it,
/// and when a stream fails, only the bytes the kernel accepted count (see `Outcome`).
public final class Sink {
    /// The output of a batch, or of a part of one.
    public struct Piece: BatchOutput, Sendable {
        public var text: [UInt8]
        public var rejects: [Reject]
        public var summary: BatchSummary?
        /// Output records (accepted rows).
        public var rows: Int
        /// Input records covered.
        public var records: Int
        public var rejected: Int { rejects.count }
        public var driftCounts: [UInt64] { summary?.drift ?? [] }
        /// The model versions that scored it (its frame's header); nil for pieces the supervisor made.
        public var modelSlots: ModelSlots?
        public var shadow: ShadowStats? { summary?.shadow }

        public init(text: [UInt8], rejects: [Reject], summary: BatchSummary?, rows: Int, records: Int) {
            self.text = text
            self.rejects = rejects
            self.summary = summary
            self.rows = rows
            self.records = records
        }

        /// A piece made of rejected records only (refused by the source, or poison).
        public init(rejects: [Reject]) {
            self.init(text: [], rejects: rejects, summary: nil, rows: 0, records: rejects.count)
        }
    }

    /// A stream that stopped, and how far it got.
    public struct Outcome: Sendable, Equatable {
        public var fd: Int32
        public var error: SystemError
        /// The batch whose bytes were being written (nil: the CSV header).
        public var sequence: UInt64?
        /// Its accepted rows (stdout) or rejected records (errors) whose bytes were written whole.
        public var wholeRecords: Int
        /// The input lines of the batch's rejected records (which have no output row).
        public var rejectedLines: [UInt64]
    }

    /// What a queued chunk holds, for counting it once written.
    private struct Queued {
        var chunk: UInt64
        var fd: Int32
        var sequence: UInt64?
        var rows = 0
        /// Errors chunks: how many rejected records it holds, and their codes in the order written.
        var records = 0
        var codes: [RejectCode] = []
        var summary: BatchSummary?
        var text: [UInt8] = []
        var rejectedLines: [UInt64] = []
    }

    public let upstream: UpstreamSet
    public let writer: OutputWriter
    public let outputFD: Int32
    public let errorsFD: Int32
    /// Counts the whole records in a prefix of output text (one per line for JSON lines; CSV
    /// records may hold line breaks inside quotes).
    private let countRecords: ([UInt8]) -> Int
    /// Text written before the first batch (the CSV header).
    private var preamble: [UInt8]?
    private var queued: [Queued] = []
    private var queuedHead = 0

    // What reached the output.
    public private(set) var rows = 0
    /// Bytes stdout accepted.
    public private(set) var bytesWritten: UInt64 = 0
    public private(set) var rejected = 0
    public private(set) var rejectedByCode: [RejectCode: Int] = [:]
    public private(set) var summary = BatchSummary()
    /// The last batch whose output is written (or can no longer be).
    public private(set) var writtenThrough: UInt64?
    /// Rejected records the errors stream could not take (it failed; stdout went on).
    public private(set) var lostRejects = 0

    /// - Parameters:
    ///   - wakeup: signalled by the writer's thread after each chunk it finishes.
    ///   - countRecords: the number of whole records in a prefix of output text.
    public init(upstream: UpstreamSet, wakeup: Wakeup, outputFD: Int32, errorsFD: Int32, preamble: String?,
                countRecords: @escaping ([UInt8]) -> Int) {
        self.upstream = upstream
        // A failed stdout ends the run: nothing more is written to any stream after it.
        writer = OutputWriter(wakeup: wakeup, primary: outputFD)
        self.outputFD = outputFD
        self.errorsFD = errorsFD
        self.preamble = preamble.map { Array($0.utf8) }
        self.countRecords = countRecords
    }

    /// Takes every whole frame the aggregate links hold and hands each output to `received`
    /// (sequence, first record of the part or nil for a whole batch, output). A frame that fails
    /// to decode closes its link (its sender is reported, see `UpstreamSet.takeInvalidPeer`).
    public func receive(_ received: (UInt64, Int?, Piece) -> Void) {
        while let (link, frame) = upstream.next() {
            do {
                var piece: Piece
                switch frame.header.kind {
                case .output:
                    let out = try OutputBatchView.decode(frame)
                    piece = Piece(text: Array(out.text), rejects: try out.envelope.rejects(), summary: out.summary,
                                  rows: Int(frame.header.rowCount), records: Int(out.envelope.recordCount))
                case .errors:
                    let b = try ErrorBatchView.decode(frame)
                    piece = Piece(rejects: try b.envelope.rejects())
                default:
                    throw FrameError.unexpected(kind: frame.header.kind, context: "at the sink")
                }
                piece.modelSlots = frame.header.model
                let part = frame.header.flags.contains(.part) ? Int(frame.header.stream) : nil
                upstream.consumed(frame, from: link)
                received(frame.header.sequence, part, piece)
            } catch {
                upstream.reject(link, because: error)
            }
        }
        upstream.settle()
    }

    /// Queues batch `sequence`'s output for writing: its pieces in record order, rejected
    /// records (in line order) to the errors stream first.
    public func write(_ sequence: UInt64, _ pieces: [Piece]) {
        writePreamble()
        var rejects = pieces.flatMap(\.rejects)
        if pieces.count > 1 { rejects.sort { $0.line < $1.line } }
        if !rejects.isEmpty {
            var lines = ""
            for r in rejects {
                lines += RejectLine.format(r)
                lines += "\n"
            }
            let bytes = Array(lines.utf8)
            queued.append(Queued(chunk: writer.enqueue(fd: errorsFD, bytes: bytes), fd: errorsFD, sequence: sequence,
                                 records: rejects.count, codes: rejects.map(\.code), text: bytes))
        }
        // A whole batch is one piece: its text goes to the writer as it is, not copied.
        let text = pieces.count == 1 ? pieces[0].text : pieces.flatMap(\.text)
        var summary = pieces.count == 1 ? pieces[0].summary : nil
        for p in pieces where pieces.count > 1 {
            if let s = p.summary {
                var merged = summary ?? BatchSummary()
                merged.merge(s)
                summary = merged
            }
        }
        let rows = pieces.reduce(0) { $0 + $1.rows }
        queued.append(Queued(chunk: writer.enqueue(fd: outputFD, bytes: text), fd: outputFD, sequence: sequence, rows: rows,
                             summary: summary, text: text,
                             rejectedLines: rejects.map(\.line)))
    }

    /// Writes the CSV header even when no batch came (empty input).
    public func finish() { writePreamble() }

    private func writePreamble() {
        guard let p = preamble else { return }
        preamble = nil
        queued.append(Queued(chunk: writer.enqueue(fd: outputFD, bytes: p), fd: outputFD, text: p))
    }

    private func countRejects(_ codes: ArraySlice<RejectCode>) {
        rejected += codes.count
        for code in codes { rejectedByCode[code, default: 0] += 1 }
    }

    /// Counts what the writer has finished since the last call; returns the streams that failed
    /// since then.
    @discardableResult
    public func collectWritten() -> [Outcome] {
        let completed = writer.completed
        guard queuedHead < queued.count, queued[queuedHead].chunk < completed else { return [] }
        let failures = writer.failures
        var new: [Outcome] = []
        while queuedHead < queued.count, queued[queuedHead].chunk < completed {
            let q = queued[queuedHead]
            queued[queuedHead].text = []  // done with: the bytes go as soon as the writer lets go
            queuedHead += 1
            // A failed stdout stops every stream (`OutputWriter.primary`).
            if let stop = failures[outputFD], stop.chunk < q.chunk {
                // Skipped: nothing after the point where the output stopped is written.
            } else if let failure = failures[q.fd], failure.chunk <= q.chunk {
                // Not written, or only in part: the chunk that failed, or one after it.
                let whole = failure.chunk < q.chunk ? 0
                    : q.fd == outputFD ? countRecords(Array(q.text.prefix(failure.bytesWritten)))
                    : q.text.prefix(failure.bytesWritten).filter { $0 == 10 }.count
                if q.fd == outputFD {
                    rows += whole
                    bytesWritten += UInt64(failure.chunk == q.chunk ? failure.bytesWritten : 0)
                } else {
                    countRejects(q.codes.prefix(whole))
                    lostRejects += q.records - whole
                }
                if failure.chunk == q.chunk {
                    new.append(Outcome(fd: q.fd, error: failure.error, sequence: q.sequence, wholeRecords: whole,
                                       rejectedLines: q.rejectedLines))
                }
            } else if q.fd == outputFD {
                rows += q.rows
                bytesWritten += UInt64(q.text.count)
                if let s = q.summary { summary.merge(s, drift: false) }
            } else {
                countRejects(q.codes[...])
            }
            if q.fd == outputFD, let s = q.sequence { writtenThrough = s }
        }
        if queuedHead > 256 && queuedHead * 2 > queued.count {
            queued.removeFirst(queuedHead)
            queuedHead = 0
        }
        return new
    }
}

/// The one-line JSON form of a rejected record, as printed on stderr or in `--errors` files.
public enum RejectLine {
    public static func format(_ r: Reject) -> String {
        var s = "{\"line\":\(r.line),\"byte_offset\":\(r.byteOffset),\"stage\":\"\(r.stage.name)\",\"code\":\"\(r.code.name)\""
        s += ",\"field\":" + quote(r.field)
        s += ",\"message\":" + quote(r.message)
        s += ",\"input\":" + quote(String(decoding: r.input, as: UTF8.self))
        s += "}"
        return s
    }

    /// A JSON string literal.
    public static func quote(_ text: String) -> String { JSONText.quote(text) }
}
