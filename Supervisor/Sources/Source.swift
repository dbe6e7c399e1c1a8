import Config
import Glibc
import Messages
import Runtime

/// The start of the data path: reads stdin, cuts it into batches, and sends each to the ingest
/// replica with the most credit. It keeps every batch until the sink has written it, so a batch
/// lost with a replica can be sent again (`replay`, `resendOverdue`), and a batch that keeps
/// crashing replicas can be split into single records to find the one at fault (`blame`).
final class Source {
    /// A batch read from the input and not yet written to the output.
    struct Batch {
        let sequence: UInt64
        let firstLine: UInt64
        let lastLine: UInt64
        let recordCount: Int
        /// What is sent: the whole batch, or after a split one unit per record.
        var units: [Unit]
    }

    /// One sendable piece of a batch.
    struct Unit {
        /// First record of the unit within its batch, and how many records it holds.
        let offset: Int
        let count: Int
        /// The encoded RawChunk frame (empty for a unit settled without the stages).
        var frame: FrameBuffer
        let firstLine: UInt64
        let byteOffset: UInt64
        let isPart: Bool
        var sends = 0
        var lastSentNanos: UInt64 = 0
        /// Replica crashes blamed on this unit.
        var crashes = 0
        /// Settled without the stages (rejected as a poison record): never sent again.
        var settled = false
    }

    /// What a crash blamed on a unit leads to.
    enum Verdict {
        /// A first crash: counts as instability; the unit is sent again.
        case retry
        /// A repeated crash of a whole batch: split into single records. The records the source
        /// itself refused in that batch (if any) go straight to the sink as the part at `offset`.
        case isolating(records: Int, sourceRejects: (offset: Int, rejects: [Reject])?)
        /// A single record crashed replicas again: it becomes this reject, delivered to the sink.
        case poison(sequence: UInt64, offset: Int, reject: Reject)
        /// No unit matched (already written, or unknown).
        case unknown
    }

    let splitter: InputSplitter
    let downstream: DownstreamSet
    let windowLimit: Int
    let lingerNanos: UInt64
    /// Crashes a unit may cause before it is split (whole batch) or rejected (one record).
    let crashesBeforeIsolation = 2
    private let readSize = 256 << 10
    private var readBuffer: UnsafeMutableRawBufferPointer

    /// Batches cut and not yet written, by sequence number (oldest first).
    private(set) var window: [Batch] = []
    private var windowBase: UInt64 = 0
    /// Units to send, in order: (sequence, unit index).
    private var toSend: [(UInt64, Int)] = []
    private(set) var nextSequence: UInt64 = 0
    private(set) var inputDone = false
    private(set) var recordsRead = 0
    private(set) var bytesRead: UInt64 = 0
    private(set) var resent = 0
    /// When the oldest unbatched record arrived (for linger).
    private var partialSince: UInt64?
    /// The last read returned less than asked for: no more input is ready right now.
    private var inputIdle = false

    init(format: InputFormat, batchRows: Int, lingerMillis: Int, window: Int, maxRecordBytes: Int, downstream: DownstreamSet) {
        splitter = InputSplitter(format: format, batchRows: batchRows, maxRecordBytes: maxRecordBytes)
        self.downstream = downstream
        windowLimit = window
        lingerNanos = UInt64(lingerMillis) * 1_000_000
        readBuffer = .allocate(byteCount: readSize, alignment: 64)
    }

    deinit { readBuffer.deallocate() }

    /// True while stdin should be polled: input remains and the window has room.
    var wantsInput: Bool { !inputDone && window.count < windowLimit }

    /// True when every batch read has been written.
    var isFinished: Bool { inputDone && window.isEmpty }

    /// Reads once from `fd` (it was reported readable) and cuts what batches it can.
    func readInput(fd: Int32) throws(SystemError) {
        guard let n = try Sys.read(fd, into: readBuffer.baseAddress!, count: readSize) else { return }
        if n == 0 {
            inputDone = true
            splitter.endOfInput()
            cutBatches(flushPartial: true)
            return
        }
        bytesRead += UInt64(n)
        inputIdle = n < readSize
        splitter.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]))
        // Nothing more is ready: a lone record is not held back waiting for company.
        cutBatches(flushPartial: inputIdle)
    }

    /// Stops reading: what was read is finished, the rest of stdin is left unread (`pipeline down`).
    func stopInput() {
        guard !inputDone else { return }
        inputDone = true
        cutBatches(flushPartial: true)
    }

    /// When the linger of the partial batch ends, if there is one (and the window has room for it).
    var lingerDeadline: UInt64? {
        guard let since = partialSince, !inputDone, window.count < windowLimit else { return nil }
        return since + lingerNanos
    }

    /// Cuts the partial batch if its linger has passed.
    func tick(now: UInt64) {
        if let deadline = lingerDeadline, now >= deadline { cutBatches(flushPartial: true) }
    }

    private func cutBatches(flushPartial: Bool) {
        let header = splitter.header ?? []
        // The body is encoded straight from the splitter's buffer into the frame kept for re-sends.
        while window.count < windowLimit, let unit = splitter.withNextBatch(flushPartial: flushPartial, { cut, body in
            let frame = FrameBuffer(capacity: body.count + header.count + 256)
            header.withUnsafeBytes { h in
                RawChunkView.encode(into: frame, sequence: nextSequence, firstLine: cut.firstLine, byteOffset: cut.byteOffset,
                                    recordCount: cut.recordCount, rejects: cut.rejects, headerLine: h, body: body)
            }
            return (Unit(offset: 0, count: cut.recordCount, frame: frame, firstLine: cut.firstLine,
                         byteOffset: cut.byteOffset, isPart: false), cut.lastLine)
        }) {
            let (first, lastLine) = unit
            window.append(Batch(sequence: nextSequence, firstLine: first.firstLine, lastLine: lastLine,
                                recordCount: first.count, units: [first]))
            toSend.append((nextSequence, 0))
            recordsRead += first.count
            nextSequence += 1
        }
        partialSince = splitter.hasPartialBatch ? (partialSince ?? Sys.monotonicNanos()) : nil
    }

    private func index(_ sequence: UInt64) -> Int? {
        guard sequence >= windowBase, Int(sequence - windowBase) < window.count else { return nil }
        return Int(sequence - windowBase)
    }

    /// Sends queued units while some ingest replica has credit.
    func pump(now: UInt64) {
        while !toSend.isEmpty, let link = downstream.pick() {
            let (sequence, u) = toSend.removeFirst()
            guard let b = index(sequence), u < window[b].units.count, !window[b].units[u].settled else { continue }
            let frame = window[b].units[u].frame
            if window[b].units[u].sends > 0 {
                frame.base.storeBytes(of: frame.base.load(fromByteOffset: 7, as: UInt8.self) | FrameFlags.replay.rawValue,
                                      toByteOffset: 7, as: UInt8.self)
            }
            window[b].units[u].sends += 1
            window[b].units[u].lastSentNanos = now
            downstream.send(frame: frame, to: link)
        }
    }

    /// Forgets every batch up to and including `sequence`: its output is written.
    func written(through sequence: UInt64) {
        while let first = window.first, first.sequence <= sequence {
            window.removeFirst()
            windowBase = first.sequence + 1
        }
        // Room in the window again: cut what waits.
        cutBatches(flushPartial: inputDone || inputIdle)
    }

    /// Queues every sent unit the sink does not have for sending again (a replica died holding
    /// some of them; which ones is unknown, and the sink drops duplicates).
    func replay(unless covered: (UInt64, Int, Int) -> Bool) {
        requeue(include: { _ in true }, unless: covered)
    }

    /// Queues again the units sent more than `after` nanoseconds ago that the sink still lacks.
    func resendOverdue(now: UInt64, after: UInt64, unless covered: (UInt64, Int, Int) -> Bool) {
        requeue(include: { now > $0.lastSentNanos + after }, unless: covered)
    }

    private func requeue(include: (Unit) -> Bool, unless covered: (UInt64, Int, Int) -> Bool) {
        var again: [(UInt64, Int)] = []
        for batch in window {
            for (u, unit) in batch.units.enumerated()
            where unit.sends > 0 && !unit.settled && include(unit) && !covered(batch.sequence, unit.offset, unit.count)
                && !toSend.contains(where: { $0 == (batch.sequence, u) }) {
                again.append((batch.sequence, u))
            }
        }
        resent += again.count
        toSend = again + toSend
    }

    /// The batch with this sequence number, if still held.
    func batch(_ sequence: UInt64) -> Batch? { index(sequence).map { window[$0] } }

    /// Blames a crash of a `node` replica on the unit it was processing.
    func blame(_ work: StatePage.Work, node: NodeKind, termination: String) -> Verdict {
        guard let b = index(work.sequence) else { return .unknown }
        let offset = work.flags.contains(.part) ? Int(work.stream) : 0
        guard let u = window[b].units.firstIndex(where: { $0.offset == offset && $0.isPart == work.flags.contains(.part) }) else {
            return .unknown
        }
        window[b].units[u].crashes += 1
        let unit = window[b].units[u]
        guard unit.crashes >= crashesBeforeIsolation else { return .retry }
        if unit.count == 1 {
            window[b].units[u].settled = true
            return .poison(sequence: work.sequence, offset: unit.offset, reject: poisonReject(unit, node: node, termination: termination))
        }
        guard !unit.isPart, let (units, refused) = split(window[b]) else { return .retry }
        window[b].units = units
        for i in units.indices where !units[i].settled { toSend.append((work.sequence, i)) }
        return .isolating(records: units.count, sourceRejects: refused)
    }

    /// The single-record units of a batch, plus (settled) a unit for the records the source
    /// itself refused, which are returned with their offset.
    private func split(_ batch: Batch) -> ([Unit], (offset: Int, rejects: [Reject])?)? {
        guard let (frame, _) = try? FrameDecoder().decode(batch.units[0].frame.bytes), let chunk = try? RawChunkView.decode(frame) else {
            return nil
        }
        let header = Array(chunk.headerLine)
        let records = InputSplitter(format: splitter.format, batchRows: 1, maxRecordBytes: .max, header: header)
        records.append(chunk.body)
        records.endOfInput()
        var units: [Unit] = []
        while let cut = records.nextBatch(flushPartial: true) {
            let part = FrameBuffer(capacity: cut.body.count + header.count + 256)
            let firstLine = chunk.firstLine + cut.firstLine - 1
            let byteOffset = chunk.byteOffset + cut.byteOffset
            header.withUnsafeBytes { h in
                cut.body.withUnsafeBytes { body in
                    RawChunkView.encode(into: part, sequence: batch.sequence, firstLine: firstLine, byteOffset: byteOffset,
                                        recordCount: cut.recordCount, headerLine: h, body: body, flags: .part)
                }
            }
            // The part's first record within the batch travels in the header's stream id.
            FrameHeader.restamp(part.base, stream: UInt32(units.count), flags: .part)
            units.append(Unit(offset: units.count, count: cut.recordCount, frame: part, firstLine: firstLine,
                              byteOffset: byteOffset, isPart: true))
        }
        var refused: (offset: Int, rejects: [Reject])?
        if !chunk.rejects.isEmpty {
            var settled = Unit(offset: units.count, count: chunk.rejects.count, frame: FrameBuffer(capacity: 64), firstLine: chunk.firstLine,
                               byteOffset: chunk.byteOffset, isPart: true)
            settled.settled = true
            refused = (units.count, chunk.rejects)
            units.append(settled)
        }
        guard units.reduce(0, { $0 + $1.count }) == batch.recordCount else { return nil }
        return (units, refused)
    }

    private func poisonReject(_ unit: Unit, node: NodeKind, termination: String) -> Reject {
        var input: [UInt8] = []
        if let (frame, _) = try? FrameDecoder().decode(unit.frame.bytes), let chunk = try? RawChunkView.decode(frame) {
            input = Array(chunk.body.prefix(Reject.maxInputBytes))
            while let last = input.last, last == 10 || last == 13 { input.removeLast() }
        }
        return Reject(line: unit.firstLine, byteOffset: unit.byteOffset, stage: node, code: .replicaCrash,
                      message: "this record crashed \(node.name) replicas \(unit.crashes) times (last one \(termination)); skipped",
                      input: input)
    }
}
