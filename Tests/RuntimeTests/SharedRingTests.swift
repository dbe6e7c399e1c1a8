import Glibc
import Messages
import Testing
@testable import Runtime

/// The ring allocator's arithmetic, in microseconds: where frames go, when space comes back,
/// and what a peer's wrong release count does.
@Suite struct RingAllocatorTests {
    func place(_ ring: inout RingAllocator, _ length: Int) -> Int? { ring.place(length) }
    func release(_ ring: inout RingAllocator, _ count: UInt64) -> Bool { ring.release(through: count) }

    @Test func framesGoInOrderAlignedAndComeBackOldestFirst() {
        var ring = RingAllocator(size: 1024)
        #expect(place(&ring, 100) == 0)
        #expect(place(&ring, 64) == 128)  // 100 rounded up to 128
        #expect(place(&ring, 1) == 192)
        #expect(ring.heldBytes == 256 && ring.placed == 3)
        #expect(release(&ring, 1))
        #expect(ring.heldBytes == 128)
        // [0, 128) is free again and the start is used first: a steady stream stays on few pages.
        #expect(place(&ring, 128) == 0)
        #expect(release(&ring, 4))
        #expect(ring.isEmpty && ring.heldBytes == 0)
        #expect(place(&ring, 64) == 0)
    }

    @Test func aFullRingRefusesUntilReleased() {
        var ring = RingAllocator(size: 1024)
        #expect(place(&ring, 512) == 0)
        #expect(place(&ring, 448) == 512)
        #expect(place(&ring, 128) == nil)  // 64 left at the end, nothing at the start
        #expect(place(&ring, 64) == 960)
        #expect(place(&ring, 64) == nil)
        #expect(release(&ring, 1))
        // Used [512, 1024); the start has 512.
        #expect(place(&ring, 576) == nil)
        #expect(place(&ring, 512) == 0)
        #expect(place(&ring, 64) == nil)
        #expect(release(&ring, 3))
        // Used [0, 512): free [512, 1024).
        #expect(place(&ring, 448) == 512)
        #expect(place(&ring, 1025) == nil)
    }

    @Test func aSteadyStreamNeverRunsOutAndKeepsToItsFirstPages() {
        // Frames of 212 KiB, up to eight in flight (the credits), released in bursts as credits
        // come back: a ring of 16 MiB must always have room, and use only the room of nine.
        var ring = RingAllocator(size: 16 << 20)
        let frame = 212 << 10
        var highest = 0
        var state: UInt64 = 7
        for k in 0..<20_000 {
            let inFlight = Int(ring.placed - ring.released)
            state = state &* 6364136223846793005 &+ 1442695040888963407
            if inFlight < 8 && (inFlight == 0 || state >> 62 != 0) {
                guard let start = place(&ring, frame) else {
                    Issue.record("no room for frame \(k) with \(inFlight) frames held")
                    return
                }
                highest = max(highest, start + frame)
            } else {
                let burst = UInt64(Int(state >> 33) % inFlight + 1)
                #expect(release(&ring, ring.released + burst))
            }
        }
        #expect(highest <= 9 * frame)
    }

    @Test func wrongReleaseCountsAreRefused() {
        var ring = RingAllocator(size: 4096)
        for _ in 0..<3 { _ = ring.place(64) }
        #expect(!release(&ring, 4))  // more than was placed
        #expect(release(&ring, 2))
        #expect(release(&ring, 2))  // the same count again: nothing new
        #expect(!release(&ring, 1))  // going back
        #expect(ring.heldBytes == 64)
    }

    @Test func manyRoundsNeverOverlap() {
        // A random walk of places and releases: live ranges stay disjoint, inside the ring.
        var ring = RingAllocator(size: 1 << 16)
        var state: UInt64 = 42
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        var live: [(index: UInt64, range: Range<Int>)] = []
        for _ in 0..<20_000 {
            if next() % 3 != 0 {
                let length = Int(next() % 9000) + 1
                let index = ring.placed
                if let start = ring.place(length) {
                    let range = start..<start + ((length + 63) & ~63)
                    #expect(range.upperBound <= ring.size)
                    #expect(live.allSatisfy { !$0.range.overlaps(range) })
                    live.append((index, range))
                }
            } else if !live.isEmpty {
                let n = Int(next() % UInt64(live.count)) + 1
                #expect(release(&ring, live[n - 1].index + 1))
                live.removeFirst(n)
            }
        }
    }
}

/// The ring between two ends of a socket pair: the offer with its memory file, frames through
/// it, and what the receiver refuses.
@Suite struct SharedRingConnectionTests {
    func pair() throws -> (Connection, Connection) {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        for fd in fds { try Sys.setNonBlocking(fd) }
        let receiver = Connection(fd: fds[1], name: "b")
        receiver.acceptsSharedFrames = true
        return (Connection(fd: fds[0], name: "a"), receiver)
    }

    /// Waits for bytes and returns the next frame's kind and payload (copied), or nil at end.
    func nextFrame(_ c: Connection) throws -> (FrameKind, [UInt8])? {
        while true {
            if let frame = try c.peekFrame() {
                let got = (frame.header.kind, Array(frame.payload))
                c.consume(frame)
                return got
            }
            var poll = PollSet()
            poll.add(c.fd)
            try poll.wait(timeoutMillis: 5000)
            guard try c.readAvailable() else { return nil }
        }
    }

    func offer(_ ring: SharedRing, on sender: Connection, size: UInt64? = nil) throws {
        let out = FrameBuffer()
        SharedRingOffer(size: size ?? UInt64(ring.allocator.size)).encode(into: out)
        #expect(try sender.send(out.bytes, attaching: ring.fd))
    }

    /// A records-kind frame of `bytes` payload bytes, each `fill`.
    func dataFrame(_ bytes: Int, fill: UInt8, sequence: UInt64) -> FrameBuffer {
        let out = FrameBuffer()
        out.frame(FrameHeader(kind: .records, rowCount: 1, sequence: sequence)) { out in
            out.append(bytes: [UInt8](repeating: fill, count: bytes))
        }
        return out
    }

    @Test func framesThroughTheRingArriveAsSentAndAreReleasedInCredits() throws {
        let (a, b) = try pair()
        let ring = try SharedRing(size: 1 << 20)
        try offer(ring, on: a)
        ring.closeFile()
        let scratch = FrameBuffer()
        var sent: [[UInt8]] = []
        for k in 0..<5 {
            let frame = dataFrame(40_000 + k * 1000, fill: UInt8(k + 1), sequence: UInt64(k))
            sent.append(Array(UnsafeRawBufferPointer(rebasing: frame.bytes[FrameHeader.size...])))
            let ref = try #require(ring.place(frame.bytes))
            try a.send(using: scratch) { ref.encode(into: $0) }
            // An inline frame between them keeps its place.
            try a.send(using: scratch) { Credit(count: 9).encode(into: $0) }
        }
        for k in 0..<5 {
            let (kind, payload) = try #require(try nextFrame(b))
            #expect(kind == .records)
            // The payload is the sender's, padding included.
            #expect(payload == sent[k])
            #expect(try nextFrame(b)?.0 == .credit)
        }
        #expect(b.ring?.copied == 5)
        // The receiver's running count frees the sender's space.
        #expect(ring.allocator.heldBytes > 0)
        #expect(ring.release(through: b.ring!.copied))
        #expect(ring.allocator.isEmpty)
    }

    @Test func theReceiverCannotWriteTheRing() throws {
        let ring = try SharedRing(size: 1 << 16)
        defer { ring.closeFile() }
        // Sealed after the sender's own mapping: no new writable mapping, for anyone.
        #expect(mmap(nil, 1 << 16, PROT_READ | PROT_WRITE, MAP_SHARED, ring.fd, 0) == MAP_FAILED)
        #expect(errno == EPERM)
        #expect(Glibc.ftruncate(ring.fd, 4096) != 0)
        let readOnly = mmap(nil, 1 << 16, PROT_READ, MAP_SHARED, ring.fd, 0)
        #expect(readOnly != MAP_FAILED)
        // Nor can a read-only mapping be made writable.
        #expect(mprotect(readOnly, 1 << 16, PROT_READ | PROT_WRITE) != 0)
        munmap(readOnly, 1 << 16)
    }

    @Test func anOfferWithoutAMemoryFileIsRefused() throws {
        let (a, b) = try pair()
        let out = FrameBuffer()
        SharedRingOffer(size: 1 << 20).encode(into: out)
        try a.send(out.bytes)
        #expect(throws: FrameError.self) { _ = try nextFrame(b) }
    }

    @Test func anUnsealedFileIsRefused() throws {
        let (a, b) = try pair()
        // A memory file the sender could shrink under the receiver's mapping.
        let fd = try Sys.memoryFile(name: "unsealed", size: 1 << 20)
        defer { Sys.close(fd) }
        let out = FrameBuffer()
        SharedRingOffer(size: 1 << 20).encode(into: out)
        #expect(try a.send(out.bytes, attaching: fd))
        let error = #expect(throws: FrameError.self) { _ = try nextFrame(b) }
        #expect("\(error!)".contains("not a memory file sealed against resizing and new writers"))
    }

    @Test func aPipeIsNoRing() throws {
        let (a, b) = try pair()
        let pipe = try Sys.pipe()
        defer { Sys.close(pipe.read); Sys.close(pipe.write) }
        let out = FrameBuffer()
        SharedRingOffer(size: 1 << 20).encode(into: out)
        #expect(try a.send(out.bytes, attaching: pipe.read))
        #expect(throws: FrameError.self) { _ = try nextFrame(b) }
    }

    @Test func aFrameOverTheLimitIsRefusedFromItsHeaderBeforeItIsCopied() throws {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        for fd in fds { try Sys.setNonBlocking(fd) }
        let a = Connection(fd: fds[0], name: "a")
        let b = Connection(fd: fds[1], name: "b", decoder: FrameDecoder(maxPayload: 4096))
        b.acceptsSharedFrames = true
        let ring = try SharedRing(size: 1 << 20)
        try offer(ring, on: a)
        let frame = dataFrame(900_000, fill: 1, sequence: 0)
        let ref = try #require(ring.place(frame.bytes))
        try a.send(using: FrameBuffer()) { ref.encode(into: $0) }
        let error = #expect(throws: FrameError.self) { _ = try nextFrame(b) }
        #expect("\(error!)".contains("exceeds the limit of 4096"), "\(error!)")
        #expect(b.ring?.copied == 0)
    }

    @Test func anOfferOfTheWrongSizeIsRefused() throws {
        let (a, b) = try pair()
        let ring = try SharedRing(size: 1 << 16)
        try offer(ring, on: a, size: 1 << 20)
        ring.closeFile()
        let error = #expect(throws: FrameError.self) { _ = try nextFrame(b) }
        #expect("\(error!)".contains("not a regular file of 1048576 bytes"))
    }

    @Test func aConnectionThatTakesNoRingRefusesAnOffer() throws {
        let (a, b) = try pair()
        b.acceptsSharedFrames = false
        let ring = try SharedRing(size: 1 << 16)
        try offer(ring, on: a)
        ring.closeFile()
        #expect(throws: FrameError.self) { _ = try nextFrame(b) }
    }

    @Test(arguments: [
        SharedFrameRef(offset: 0, length: 64, index: 1),  // index skipped
        SharedFrameRef(offset: 32, length: 64, index: 0),  // unaligned
        SharedFrameRef(offset: 0, length: 40, index: 0),  // not a frame's length
        SharedFrameRef(offset: 65_472, length: 128, index: 0),  // past the end
        SharedFrameRef(offset: UInt64.max - 63, length: 128, index: 0),  // overflowing
        SharedFrameRef(offset: 0, length: 256, index: 0),  // zeros, not a frame
    ])
    func badReferencesAreRefused(ref: SharedFrameRef) throws {
        let (a, b) = try pair()
        let ring = try SharedRing(size: 1 << 16)
        try offer(ring, on: a)
        ring.closeFile()
        try a.send(using: FrameBuffer()) { ref.encode(into: $0) }
        #expect(throws: FrameError.self) { _ = try nextFrame(b) }
    }

    @Test func aRingMayHoldOnlyDataFrames() throws {
        let (a, b) = try pair()
        let ring = try SharedRing(size: 1 << 16)
        try offer(ring, on: a)
        ring.closeFile()
        let frame = FrameBuffer()
        SharedFrameRef(offset: 0, length: 64, index: 0).encode(into: frame)  // a reference in the ring
        let ref = try #require(ring.place(frame.bytes))
        try a.send(using: FrameBuffer()) { ref.encode(into: $0) }
        let error = #expect(throws: FrameError.self) { _ = try nextFrame(b) }
        #expect("\(error!)".contains("in a shared ring"))
    }

    @Test func aReferenceBeforeAnyOfferIsRefused() throws {
        let (a, b) = try pair()
        try a.send(using: FrameBuffer()) { SharedFrameRef(offset: 0, length: 64, index: 0).encode(into: $0) }
        #expect(throws: FrameError.self) { _ = try nextFrame(b) }
    }
}

/// A sender's `DownstreamSet` and a receiver's `UpstreamSet` over a real socket, as the replicas
/// use them: the ring taken, a thousand frames through it in order and intact, and its space
/// given back by the credits (a ring that never got space back would fill and send inline).
@Suite struct SharedRingLinkTests {
    /// Sends `total` frames of 8–8.06 KB from a sender with a ring of `ringBytes` to a receiver
    /// granting 4 credits; checks each frame's sequence and bytes; returns the sender.
    func run(total: Int, ringBytes: Int) throws -> DownstreamSet {
        let dir = TempDirectory()
        defer { dir.remove() }
        let receiver = try UpstreamSet(path: "\(dir.path)/r.sock", cookie: "c", expected: .featurize, initialCredits: 4)
        let sender = DownstreamSet(hello: Hello(purpose: .data, node: .featurize, replica: 1, pid: getpid(), cookie: "c"),
                                   ringBytes: ringBytes)
        sender.apply(Membership(generation: 1, members: [.init(node: .infer, replica: 1, path: receiver.path)]))
        var sent = 0, received = 0
        func pump() throws {
            var poll = PollSet()
            let receiverSlots = receiver.register(in: &poll)
            let senderSlots = sender.register(in: &poll)
            try poll.wait(timeoutMillis: 20)
            receiver.handle(poll, slots: receiverSlots)
            sender.handle(poll, slots: senderSlots)
            while let (link, frame) = receiver.next() {
                let n = 8000 + Int(frame.header.sequence) % 64
                let fill = UInt8(truncatingIfNeeded: frame.header.sequence)
                #expect(frame.header.sequence == UInt64(received))
                #expect(frame.payload.count >= n && frame.payload.prefix(n).allSatisfy { $0 == fill })
                received += 1
                receiver.consumed(frame, from: link)
            }
            receiver.settle()
        }
        for _ in 0..<20_000 where received < total {
            while sent < total, let link = sender.pick() {
                let frame = FrameBuffer()
                frame.frame(FrameHeader(kind: .records, rowCount: 1, sequence: UInt64(sent))) { out in
                    out.append(bytes: [UInt8](repeating: UInt8(truncatingIfNeeded: sent), count: 8000 + sent % 64))
                }
                sender.send(frame: frame, to: link)
                sent += 1
            }
            try pump()
        }
        #expect(received == total)
        // The last credits bring the last releases.
        for _ in 0..<200 where !(sender.links.first?.ring?.allocator.isEmpty ?? true) { try pump() }
        return sender
    }

    @Test func creditsGiveTheRingsSpaceBack() throws {
        let sender = try run(total: 1000, ringBytes: 64 << 10)
        let link = try #require(sender.links.first)
        #expect(link.ringTaken)
        #expect(link.ring?.allocator.isEmpty == true, "every frame released")
        // Only the frames sent before the receiver said it took the ring went inline.
        #expect(sender.sent.sharedFrames >= 992 && sender.sent.inlineFrames <= 8, "\(sender.sent)")
    }

    @Test func aRingTooSmallForTheCreditsMixesBothWaysInOrder() throws {
        // Room for two frames, four credits: some frames go inline, in their place.
        let sender = try run(total: 400, ringBytes: 16_448)
        #expect(sender.sent.sharedFrames > 50 && sender.sent.inlineFrames > 50, "\(sender.sent)")
        #expect(sender.links.first?.ring?.allocator.isEmpty == true)
    }
}
