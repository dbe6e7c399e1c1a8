import Config
import Glibc
import Messages
import Runtime

/// The start of the data path: reads stdin, cuts it into batches, and sends each to the ingest
/// replica with the most credit. It keeps every batch until the sink has written it, so a batch
/// lost with a replica can be sent again (`replay`).
final class Source {
    /// A batch read from the input and not yet written to the output.
    struct Batch {
        let sequence: UInt64
        /// The encoded RawChunk frame, kept for re-sending.
        var frame: [UInt8]
        let firstLine: UInt64
        let lastLine: UInt64
        let recordCount: Int
        var sends = 0
        var lastSentNanos: UInt64 = 0
    }

    let splitter: InputSplitter
    let downstream: DownstreamSet
    let windowLimit: Int
    let lingerNanos: UInt64
    private let readSize = 256 << 10
    private var readBuffer: UnsafeMutableRawBufferPointer
    private let encoder = FrameBuffer(capacity: 512 << 10)

    /// Batches cut and not yet written, by sequence number (oldest first).
    private(set) var window: [Batch] = []
    private var windowBase: UInt64 = 0
    /// Sequence numbers to send, in order (new batches, and replays first).
    private var toSend: [UInt64] = []
    private(set) var nextSequence: UInt64 = 0
    private(set) var inputDone = false
    private(set) var recordsRead = 0
    private(set) var bytesRead: UInt64 = 0
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
        cutBatches(flushPartial: false)
        if splitter.hasPartialBatch {
            if partialSince == nil { partialSince = Sys.monotonicNanos() }
            // Nothing more is ready: a lone record is not held back waiting for company.
            if inputIdle { cutBatches(flushPartial: true) }
        } else {
            partialSince = nil
        }
    }

    /// Stops reading: what was read is finished, the rest of stdin is left unread (`pipeline down`).
    func stopInput() {
        guard !inputDone else { return }
        inputDone = true
        cutBatches(flushPartial: true)
    }

    /// When the linger of the partial batch ends, if there is one.
    var lingerDeadline: UInt64? {
        guard let since = partialSince, !inputDone else { return nil }
        return since + lingerNanos
    }

    /// Cuts the partial batch if its linger has passed.
    func tick(now: UInt64) {
        if let deadline = lingerDeadline, now >= deadline { cutBatches(flushPartial: true) }
    }

    private func cutBatches(flushPartial: Bool) {
        while window.count < windowLimit, let cut = splitter.nextBatch(flushPartial: flushPartial) {
            encoder.removeAll()
            let header = splitter.header ?? []
            header.withUnsafeBytes { h in
                cut.body.withUnsafeBytes { b in
                    RawChunkView.encode(into: encoder, sequence: nextSequence, firstLine: cut.firstLine,
                                        byteOffset: cut.byteOffset, recordCount: cut.recordCount,
                                        rejects: cut.rejects, headerLine: h, body: b)
                }
            }
            window.append(Batch(sequence: nextSequence, frame: Array(encoder.bytes), firstLine: cut.firstLine,
                                lastLine: cut.lastLine, recordCount: cut.recordCount))
            toSend.append(nextSequence)
            recordsRead += cut.recordCount
            nextSequence += 1
        }
        partialSince = splitter.hasPartialBatch ? (partialSince ?? Sys.monotonicNanos()) : nil
    }

    /// Sends queued batches while some ingest replica has credit.
    func pump(now: UInt64) throws {
        while !toSend.isEmpty, let link = downstream.pick() {
            let sequence = toSend.removeFirst()
            guard sequence >= windowBase, let index = Optional(Int(sequence - windowBase)), index < window.count else {
                continue  // written meanwhile
            }
            if window[index].sends > 0 {
                window[index].frame[7] |= FrameFlags.replay.rawValue
            }
            window[index].sends += 1
            window[index].lastSentNanos = now
            try window[index].frame.withUnsafeBytes { raw in
                try downstream.send(raw, to: link)
            }
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

    /// Queues every sent batch the sink does not have yet for sending again (a replica died
    /// holding some of them; which ones is unknown, and the sink drops duplicates).
    func replay(unless sinkHas: (UInt64) -> Bool) {
        let queued = Set(toSend)
        let again = window.filter { $0.sends > 0 && !sinkHas($0.sequence) && !queued.contains($0.sequence) }.map(\.sequence)
        guard !again.isEmpty else { return }
        toSend = again + toSend
    }

    /// The batch with this sequence number, if still held.
    func batch(_ sequence: UInt64) -> Batch? {
        guard sequence >= windowBase, Int(sequence - windowBase) < window.count else { return nil }
        return window[Int(sequence - windowBase)]
    }
}
