import Config
import ControlCore
import Glibc
import Messages
import Runtime

/// The start of the data path: reads stdin, cuts it into batches of whole records, encodes each
/// as a raw-chunk frame, and sends frames to ingest replicas as the control core's `BatchLedger`
/// decides. It keeps each batch's frames until the batch is written, so a batch lost with a
/// replica can be sent again, and it can re-cut a batch into single records (to find a poison
/// record) or give a record's text (for its error entry).
///
/// What is held, sent and when is the ledger's business; this type only does the I/O.
public final class Source {
    public let splitter: InputSplitter
    public let downstream: DownstreamSet
    public let lingerNanos: UInt64
    private let readSize = 256 << 10
    private var readBuffer: UnsafeMutableRawBufferPointer

    /// The frames of the batches cut and not yet written: per sequence number, one per unit
    /// (the whole batch, or after a split one per record).
    private var frames: [UInt64: [FrameBuffer]] = [:]
    /// Stdin is still read (false at its end, or once reading was stopped).
    public private(set) var reading = true
    public private(set) var bytesRead: UInt64 = 0
    /// Bytes left to read of a split (nil: read to the end of stdin).
    private var remaining: UInt64?
    /// When the oldest record not yet in a batch arrived (for linger).
    private var partialSince: UInt64?
    /// The last read returned less than asked for: no more input is ready right now.
    private var inputIdle = false

    /// - Parameter boundaryRecords: no batch spans a multiple of this many records (0: none; the
    ///   drift watch's window).
    /// - Parameter split: the part of the input to read (`--split`): stdin is positioned at its
    ///   start, and reading stops at its end.
    public init(format: InputFormat, batchRows: Int, lingerMillis: Int, maxRecordBytes: Int, downstream: DownstreamSet,
                boundaryRecords: Int = 0, split: InputSplit.Range? = nil) {
        splitter = InputSplitter(format: format, batchRows: batchRows, maxRecordBytes: maxRecordBytes, header: split?.header,
                                 offset: split?.start ?? 0, line: split?.firstLine ?? 1)
        remaining = split.map { $0.end - $0.start }
        splitter.boundaryRecords = boundaryRecords
        self.downstream = downstream
        lingerNanos = UInt64(lingerMillis) * 1_000_000
        readBuffer = .allocate(byteCount: readSize, alignment: 64)
    }

    deinit { readBuffer.deallocate() }

    /// True when nothing more will be cut: reading is over and every record read is in a batch.
    public var isDrained: Bool { !reading && !splitter.hasPartialBatch && !splitter.hasReadyBatch }

    /// Reads once from `fd` (it was reported readable). Batches are cut by `cut`.
    public func readInput(fd: Int32) throws(SystemError) {
        guard reading else { return }
        let want = remaining.map { Int(min(UInt64(readSize), $0)) } ?? readSize
        guard want > 0 else {
            // The split's end: what follows belongs to the next split.
            reading = false
            splitter.endOfInput()
            return
        }
        guard let n = try Sys.read(fd, into: readBuffer.baseAddress!, count: want) else { return }
        if let r = remaining { remaining = r - UInt64(n) }
        if n == 0 {
            reading = false
            splitter.endOfInput()
            return
        }
        bytesRead += UInt64(n)
        inputIdle = n < want && remaining != 0
        splitter.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]))
    }

    /// Stops reading: what was read is finished, the rest of stdin is left unread.
    public func stopReading() {
        guard reading else { return }
        reading = false
        splitter.endOfInput()
    }

    /// When the linger of the partial batch ends, if there is one.
    public var lingerDeadline: UInt64? { partialSince.map { $0 + lingerNanos } }

    /// Cuts the next batch, if one is ready: full, or partial when nothing more is coming now
    /// (input idle or ended) or its linger has passed. Its frame is kept under `sequence`,
    /// stamped with the model versions `model` that score it (replays keep them).
    /// - Returns: the batch's place in the input, for the ledger.
    public func cut(sequence: UInt64, model: ModelSlots = ModelSlots(), now: UInt64) -> BatchCut? {
        let flushPartial = !reading || inputIdle || lingerDeadline.map { now >= $0 } == true
        let header = splitter.header ?? []
        // The body is encoded straight from the splitter's buffer into the frame kept for re-sends.
        let cut = splitter.withNextBatch(flushPartial: flushPartial) { cut, body in
            let frame = reusableFrame(capacity: body.count + header.count + 256)
            header.withUnsafeBytes { h in
                RawChunkView.encode(into: frame, sequence: sequence, firstLine: cut.firstLine, byteOffset: cut.byteOffset,
                                    recordCount: cut.recordCount, rejects: cut.rejects, headerLine: h, body: body)
            }
            FrameHeader.restamp(frame.base, model: model)
            frames[sequence] = [frame]
            return BatchCut(firstLine: cut.firstLine, lastLine: cut.lastLine, records: cut.recordCount,
                            byteOffset: cut.byteOffset, model: model)
        }
        partialSince = splitter.hasPartialBatch ? (partialSince ?? now) : nil
        return cut
    }

    /// Sends unit `unit` of batch `sequence` to the ingest replica with the most credit.
    public func send(_ sequence: UInt64, unit: Int, replay: Bool) {
        guard let frame = frames[sequence]?[unit], let link = downstream.pick() else { return }
        if replay {
            frame.base.storeBytes(of: frame.base.load(fromByteOffset: 7, as: UInt8.self) | FrameFlags.replay.rawValue,
                                  toByteOffset: 7, as: UInt8.self)
        }
        downstream.send(frame: frame, to: link)
    }

    /// Frames of written batches, kept for the next batches: fresh memory costs a page fault
    /// per 4 KiB on first touch (shared/MEASURED.md), ~1 µs per record for 870-byte records.
    private var spareFrames: [FrameBuffer] = []
    private let maxSpareFrames = 64

    /// An empty frame buffer of at least `capacity` bytes, reused when one is free.
    private func reusableFrame(capacity: Int) -> FrameBuffer {
        while var frame = spareFrames.popLast() {
            // A connection may still hold a frame it has not finished writing.
            guard isKnownUniquelyReferenced(&frame) else { continue }
            frame.removeAll()
            frame.reserve(capacity)
            return frame
        }
        return FrameBuffer(capacity: capacity)
    }

    /// Gives the kept frames of batch `sequence` the model versions `model` (a rollback).
    public func retag(_ sequence: UInt64, model: ModelSlots) {
        for frame in frames[sequence] ?? [] { FrameHeader.restamp(frame.base, model: model) }
    }

    /// Forgets the frames of every batch up to and including `sequence`: its output is written.
    public func written(through sequence: UInt64) {
        for s in frames.keys where s <= sequence {
            let done = frames.removeValue(forKey: s) ?? []
            if spareFrames.count < maxSpareFrames { spareFrames += done.filter { $0.capacity <= 64 << 20 } }
        }
    }

    /// The records of batch `sequence`, each as its own frame (kept in place of the batch's),
    /// and the records the source itself refused in it (too long), which are not sent.
    /// Nil when the batch is not held, is already split, or cannot be re-read.
    public func split(_ sequence: UInt64) -> (records: [SplitRecord], refused: [Reject])? {
        guard let units = frames[sequence], units.count == 1,
              let (refused, records) = withRecords(of: units[0], { chunk, records in (chunk.rejects, records) }) else { return nil }
        let model = ModelSlots(rawValue: UInt32(littleEndian: units[0].base.load(fromByteOffset: 28, as: UInt32.self)))
        var parts: [FrameBuffer] = []
        var found: [SplitRecord] = []
        for record in records {
            let part = FrameBuffer(capacity: record.body.count + record.header.count + 256)
            record.header.withUnsafeBytes { h in
                record.body.withUnsafeBytes { body in
                    RawChunkView.encode(into: part, sequence: sequence, firstLine: record.firstLine, byteOffset: record.byteOffset,
                                        recordCount: record.count, headerLine: h, body: body, flags: .part)
                }
            }
            // The part's first record within the batch travels in the header's stream id.
            FrameHeader.restamp(part.base, stream: UInt32(parts.count), flags: .part, model: model)
            parts.append(part)
            found.append(.init(firstLine: record.firstLine, byteOffset: record.byteOffset))
        }
        frames[sequence] = parts
        return (found, refused)
    }

    /// The first input line of each record of batch `sequence` that went to the stages (the
    /// records the source refused are not among them); nil when the batch is not held.
    public func recordLines(_ sequence: UInt64) -> [UInt64]? {
        guard let units = frames[sequence] else { return nil }
        var lines: [UInt64] = []
        for frame in units {
            guard let found = withRecords(of: frame, { _, records in records.map(\.firstLine) }) else { return nil }
            lines += found
        }
        return lines
    }

    /// The text of the record that unit `unit` of batch `sequence` holds (its line end
    /// dropped), cut to what an error entry carries.
    public func recordText(_ sequence: UInt64, unit: Int) -> [UInt8] {
        guard let frame = frames[sequence]?[unit],
              var input = withRecords(of: frame, { chunk, _ in Array(chunk.body.prefix(Reject.maxInputBytes)) }) else { return [] }
        while let last = input.last, last == 10 || last == 13 { input.removeLast() }
        return input
    }

    /// One record of a kept raw-chunk frame, as the splitter cuts it again.
    private struct Record {
        var firstLine: UInt64
        var byteOffset: UInt64
        var count: Int
        var header: [UInt8]
        var body: [UInt8]
    }

    /// Decodes a kept frame and cuts its body into records by the rule ingest reads them by;
    /// nil when it does not decode.
    private func withRecords<T>(of frame: FrameBuffer, _ use: (RawChunkView, [Record]) -> T) -> T? {
        guard let (decoded, _) = try? FrameDecoder().decode(frame.bytes), let chunk = try? RawChunkView.decode(decoded) else { return nil }
        let header = Array(chunk.headerLine)
        let splitter = InputSplitter(format: self.splitter.format, batchRows: 1, maxRecordBytes: .max, header: header)
        splitter.append(chunk.body)
        splitter.endOfInput()
        var records: [Record] = []
        while let cut = splitter.nextBatch(flushPartial: true) {
            records.append(Record(firstLine: chunk.firstLine + cut.firstLine - 1, byteOffset: chunk.byteOffset + cut.byteOffset,
                                  count: cut.recordCount, header: header, body: cut.body))
        }
        return use(chunk, records)
    }
}
