// libFuzzer target `frames`: the frame decoder and every payload decoder of Shared/Messages.
//
// Input layout (first byte `c`):
//   c & 1 == 0  raw stream: the rest is the bytes a peer sends on a connection.
//   c & 1 == 1  one synthesized frame: [kind][flags][rowCount u32 LE][payload...]; the harness
//               writes a valid header (any kind byte maps to a real kind) and pads the payload to
//               64 bytes, so mutations land in the payload decoders instead of the header check.
//   c >> 1      seeds the chunking.
// The stream is fed to a receive queue that behaves like Runtime's ByteQueue/Connection (64-byte
// aligned, compacted, grown; header checked before the buffer grows for it) in random chunks,
// and then again all at once: both deliveries must decode to the same frames. Every complete
// frame is decoded with the decoder of its kind, every value of every view is read, data
// payloads are re-encoded and decoded again (the re-encoding must decode, and be stable), control
// messages must round-trip, and output summaries are merged as the sink merges them. The first
// FrameError ends the connection, as in the runtime.

import Messages

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let control = input.byte()
    let stream: UnsafeRawBufferPointer
    let synthesized = FrameBuffer(capacity: 256)
    if control & 1 == 1 {
        let kind = FrameKind.allCases[Int(input.byte()) % FrameKind.allCases.count]
        let flags = FrameFlags(rawValue: input.byte())
        let rowCount = input.integer(UInt32.self)
        let payload = input.rest
        synthesized.frame(FrameHeader(kind: kind, flags: flags, stream: 0, rowCount: rowCount, sequence: 7)) {
            $0.append(bytes: payload)
        }
        stream = synthesized.bytes
    } else {
        stream = input.rest
    }
    var rng = SplitMix64(seed: UInt64(control >> 1))
    let chunked = receive(stream, chunks: chunkSizes(stream.count, using: &rng))
    let whole = receive(stream, chunks: [stream.count])
    guard chunked == whole else {
        violated("chunked delivery decoded \(chunked), delivery at once \(whole)")
    }
    return 0
}

/// Feeds `stream` in pieces of `chunks` bytes; returns one line per frame (or error) seen.
func receive(_ stream: UnsafeRawBufferPointer, chunks: [Int]) -> [String] {
    let queue = ReceiveQueue()
    var log: [String] = []
    var sink = BatchSummary()
    var at = 0
    do throws(FrameError) {
        for n in chunks {
            // Connection.readAvailable: a header is checked before the buffer grows for its frame.
            _ = try queue.decoder.peekHeader(queue.unread)
            queue.append(UnsafeRawBufferPointer(rebasing: stream[at..<(at + n)]))
            at += n
            while let (frame, consumed) = try queue.decoder.decode(queue.unread) {
                log.append("\(frame.header.kind) \(consumed)")
                try handle(frame, sink: &sink)
                queue.consume(consumed)
            }
        }
    } catch {
        log.append("error: \(error)")
    }
    return log
}

/// Decodes `frame` as its kind says and reads everything in it.
func handle(_ frame: Frame, sink: inout BatchSummary) throws(FrameError) {
    let h = frame.header
    consume(UInt64(h.flags.rawValue) &+ UInt64(h.stream) &+ UInt64(h.rowCount) &+ h.sequence)
    switch h.kind {
    case .rawChunk:
        let v = try RawChunkView.decode(frame)
        consume(v.firstLine &+ v.byteOffset &+ UInt64(v.recordCount))
        for r in v.rejects { touch(r) }
        consume(bytes: v.headerLine)
        consume(bytes: v.body)
        roundTrip(v, of: frame, RawChunkView.decode) { v, out in
            RawChunkView.encode(into: out, sequence: h.sequence, firstLine: v.firstLine, byteOffset: v.byteOffset,
                                recordCount: Int(v.recordCount), rejects: v.rejects, headerLine: v.headerLine,
                                body: v.body, flags: h.flags)
        }
    case .records:
        let v = try RecordBatchView.decode(frame)
        _ = try touch(v.envelope)
        for c in v.columns { touch(c) }
        // Without columns the encoder cannot say how many rows there are (ingest never sends that).
        guard !v.columns.isEmpty else { break }
        roundTrip(v, of: frame, RecordBatchView.decode) { v, out in
            RecordBatchView.encode(into: out, sequence: h.sequence, envelope: owned(v.envelope),
                                   columns: v.columns.map { $0.toColumn() }, flags: h.flags)
        }
    case .features:
        let v = try FeatureBatchView.decode(frame)
        _ = try touch(v.envelope)
        touch(v.drift)
        consume(UInt64(v.rows) &+ UInt64(v.dims) &+ UInt64(v.layout.rawValue))
        for x in v.values { consume(x) }
        for x in v.rowStart { consume(UInt64(x)) }
        for x in v.columns { consume(UInt64(x)) }
        if v.layout == .csr {
            // What infer does with a CSR batch: every entry of every row, by rowStart.
            for r in 0..<v.rows {
                for e in Int(v.rowStart[r])..<Int(v.rowStart[r + 1]) {
                    guard Int(v.columns[e]) < v.dims else { violated("CSR column \(v.columns[e]) >= dims \(v.dims)") }
                    consume(v.values[e])
                }
            }
        } else if v.values.count != v.rows * v.dims {
            violated("dense features: \(v.values.count) values for \(v.rows)x\(v.dims)")
        }
        roundTrip(v, of: frame, FeatureBatchView.decode) { v, out in
            switch v.layout {
            case .dense:
                FeatureBatchView.encodeDense(into: out, sequence: h.sequence, envelope: v.envelope,
                                             passthrough: v.envelope.passthrough, rows: v.rows, dims: v.dims,
                                             values: v.values, drift: v.drift, flags: h.flags)
            case .csr:
                FeatureBatchView.encodeCSR(into: out, sequence: h.sequence, envelope: v.envelope,
                                           passthrough: v.envelope.passthrough, rows: v.rows, dims: v.dims,
                                           values: v.values, rowStart: v.rowStart, columns: v.columns,
                                           drift: v.drift, flags: h.flags)
            }
        }
    case .scores:
        let v = try ScoreBatchView.decode(frame)
        _ = try touch(v.envelope)
        touch(v.drift)
        guard v.values.count == v.rows * v.cols else { violated("scores: \(v.values.count) values for \(v.rows)x\(v.cols)") }
        for x in v.values { consume(x) }
        roundTrip(v, of: frame, ScoreBatchView.decode) { v, out in
            ScoreBatchView.encode(into: out, sequence: h.sequence, envelope: v.envelope, rows: v.rows, cols: v.cols,
                                  drift: v.drift, flags: h.flags) { p in
                if let base = v.values.baseAddress { p.update(from: base, count: v.values.count) }
            }
        }
    case .output:
        let v = try OutputBatchView.decode(frame)
        _ = try touch(v.envelope)
        touch(v.summary)
        consume(bytes: v.text)
        // The sink adds every committed batch's summary to the run's: this one, and a second
        // batch just like it (summaries of one run are all alike).
        sink.merge(v.summary)
        sink.merge(v.summary)
        roundTrip(v, of: frame, OutputBatchView.decode) { v, out in
            OutputBatchView.encode(into: out, sequence: h.sequence, envelope: v.envelope, rows: Int(h.rowCount),
                                   summary: v.summary, text: v.text, flags: h.flags)
        }
    case .errors:
        let v = try ErrorBatchView.decode(frame)
        _ = try touch(v.envelope)
        roundTrip(v, of: frame, ErrorBatchView.decode) { v, out in
            ErrorBatchView.encode(into: out, sequence: h.sequence, envelope: owned(v.envelope), flags: h.flags)
        }
    case .hello: controlRoundTrip(try Hello.decode(frame), Hello.decode) { $0.encode(into: $1) }
    case .config: controlRoundTrip(try ConfigMessage.decode(frame), ConfigMessage.decode) { $0.encode(into: $1) }
    case .membership: controlRoundTrip(try Membership.decode(frame), Membership.decode) { $0.encode(into: $1) }
    case .credit: controlRoundTrip(try Credit.decode(frame), Credit.decode) { $0.encode(into: $1) }
    case .heartbeat: controlRoundTrip(try Heartbeat.decode(frame), Heartbeat.decode) { $0.encode(into: $1) }
    case .failure: controlRoundTrip(try Failure.decode(frame), Failure.decode) { $0.encode(into: $1) }
    case .request: controlRoundTrip(try Request.decode(frame), Request.decode) { $0.encode(into: $1) }
    case .reply: controlRoundTrip(try Reply.decode(frame), Reply.decode) { $0.encode(into: $1) }
    case .status: controlRoundTrip(try StatusSnapshot.decode(frame), StatusSnapshot.decode) { $0.encode(into: $1) }
    case .sharedRing: controlRoundTrip(try SharedRingOffer.decode(frame), SharedRingOffer.decode) { $0.encode(into: $1) }
    case .sharedFrame: controlRoundTrip(try SharedFrameRef.decode(frame), SharedFrameRef.decode) { $0.encode(into: $1) }
    case .ready, .drain, .shutdown:
        break  // no payload to decode
    }
}

// MARK: Reading every value

func touch(_ r: Reject) {
    consume(r.line &+ r.byteOffset &+ UInt64(r.stage.rawValue) &+ UInt64(r.code.rawValue))
    consume(r.field)
    consume(r.message)
    consume(UInt64(r.input.count))
    for b in r.input { consume(UInt64(b)) }
    consume(r.code.name)
    consume(r.stage.name)
}

/// Reads an envelope (its rejects are decoded as the sink decodes them).
func touch(_ e: EnvelopeView) throws(FrameError) -> Envelope {
    consume(e.firstLine &+ e.byteOffset &+ UInt64(e.recordCount) &+ UInt64(e.rejectCount))
    let rejects = try e.rejects()
    guard rejects.count == e.rejectCount else { violated("\(rejects.count) rejects decoded, \(e.rejectCount) announced") }
    for r in rejects { touch(r) }
    for c in e.passthrough { touch(c) }
    return Envelope(firstLine: e.firstLine, byteOffset: e.byteOffset, recordCount: e.recordCount, rejects: rejects,
                    passthrough: e.passthrough.map { $0.toColumn() })
}

/// The envelope as an owned value, for re-encoding (its rejects decoded before, so they must again).
func owned(_ e: EnvelopeView) -> Envelope {
    do throws(FrameError) {
        return Envelope(firstLine: e.firstLine, byteOffset: e.byteOffset, recordCount: e.recordCount,
                        rejects: try e.rejects(), passthrough: e.passthrough.map { $0.toColumn() })
    } catch {
        violated("rejects that decoded once no longer decode: \(error)")
    }
}

func touch(_ c: ColumnView) {
    consume(UInt64(c.type.rawValue) &+ UInt64(c.count))
    for row in 0..<c.count {
        consume(UInt64(c.isMissing(row) ? 1 : 0))
        consume(c.double(row))
        consume(UInt64(bitPattern: c.int(row)))
        consume(UInt64(c.bool(row) ? 1 : 0))
        if c.type == .string { consume(bytes: c.string(row)) }
    }
    consume(bytes: c.encoded)
    let owned = c.toColumn()
    guard owned.count == c.count else { violated("toColumn made \(owned.count) rows of \(c.count)") }
}

func touch(_ d: DriftCounts) {
    guard d.counts.count <= DriftCounts.maxSlots else { violated("drift: \(d.counts.count) slots") }
    for c in d.counts { consume(UInt64(c)) }
}

func touch(_ s: BatchSummary) {
    consume(s.rows)
    for c in s.labelCounts { consume(c) }
    for c in s.scoreHistogram { consume(c) }
    consume(s.scoreSum)
    consume(s.scoreSumSquares)
    guard s.drift.allSatisfy({ $0 <= s.rows }) else { violated("summary: a drift count above the rows") }
    for c in s.drift { consume(c) }
}

// MARK: Round trips

/// Re-encodes a decoded data frame, decodes that, and re-encodes the result: the first
/// re-encoding must decode (encoder and decoder agree on the layout) with the same identity, and
/// the second must be byte-identical to the first (nothing is lost or changed on the way).
func roundTrip<V>(_ view: V, of original: Frame, _ decode: (Frame) throws(FrameError) -> V,
                  _ encode: (V, FrameBuffer) -> Void) {
    let first = FrameBuffer(capacity: 256)
    encode(view, first)
    let again: V
    do throws(FrameError) {
        guard let (frame, consumed) = try FrameDecoder().decode(first.bytes), consumed == first.count else {
            violated("re-encoded \(original.header.kind) frame is not one whole frame")
        }
        guard frame.header.kind == original.header.kind, frame.header.sequence == original.header.sequence,
              frame.header.flags == original.header.flags else {
            violated("re-encoded \(original.header.kind) frame has another header: \(frame.header) vs \(original.header)")
        }
        again = try decode(frame)
    } catch {
        violated("re-encoded \(original.header.kind) frame does not decode: \(error)")
    }
    let second = FrameBuffer(capacity: 256)
    encode(again, second)
    guard first.bytes.elementsEqual(second.bytes) else {
        violated("\(original.header.kind) frame: encode(decode(encode(x))) differs from encode(x)")
    }
}

/// Control messages are owned values: decode(encode(x)) must equal x.
func controlRoundTrip<M: Equatable>(_ message: M, _ decode: (Frame) throws(FrameError) -> M,
                                    _ encode: (M, FrameBuffer) -> Void) {
    let out = FrameBuffer(capacity: 256)
    encode(message, out)
    do throws(FrameError) {
        guard let (frame, consumed) = try FrameDecoder().decode(out.bytes), consumed == out.count else {
            violated("re-encoded \(M.self) is not one whole frame")
        }
        let again = try decode(frame)
        guard again == message else { violated("\(M.self) does not round-trip: \(message) vs \(again)") }
    } catch {
        violated("re-encoded \(M.self) does not decode: \(error)")
    }
}

// MARK: The receive queue

/// A byte queue that behaves like Runtime's `ByteQueue` as a `Connection` uses it: 64-byte
/// aligned storage, frames consumed from the front in place, unread bytes moved back to the
/// aligned start when room is needed, growth by doubling. (Runtime itself calls the OS, so it
/// is mirrored here rather than compiled in.)
final class ReceiveQueue {
    private var base: UnsafeMutableRawPointer
    private var capacity = 256
    private var readIndex = 0
    private var writeIndex = 0
    let decoder = FrameDecoder(maxPayload: 1 << 20)

    init() { base = .allocate(byteCount: capacity, alignment: FrameHeader.alignment) }
    deinit { base.deallocate() }

    var unread: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base + readIndex, count: writeIndex - readIndex) }

    func consume(_ n: Int) {
        precondition(n >= 0 && readIndex + n <= writeIndex)
        readIndex += n
        if readIndex == writeIndex {
            readIndex = 0
            writeIndex = 0
        }
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        if capacity - writeIndex < bytes.count && readIndex > 0 {
            let unreadCount = writeIndex - readIndex
            base.copyMemory(from: base + readIndex, byteCount: unreadCount)
            readIndex = 0
            writeIndex = unreadCount
        }
        if capacity - writeIndex < bytes.count {
            var newCapacity = capacity
            while newCapacity - writeIndex < bytes.count { newCapacity *= 2 }
            let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: FrameHeader.alignment)
            newBase.copyMemory(from: base + readIndex, byteCount: writeIndex - readIndex)
            base.deallocate()
            base = newBase
            writeIndex -= readIndex
            readIndex = 0
            capacity = newCapacity
        }
        (base + writeIndex).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        writeIndex += bytes.count
    }
}
