import Foundation
import Glibc
import Messages
import Testing
@testable import Runtime

@Suite struct ConnectionTests {
    /// A connected pair of non-blocking stream sockets.
    func pair() throws -> (Connection, Connection) {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        for fd in fds { try Sys.setNonBlocking(fd) }
        return (Connection(fd: fds[0], name: "a"), Connection(fd: fds[1], name: "b"))
    }

    /// Receives until `count` frames arrived, returning their kinds and payload alignment.
    func receive(_ c: Connection, count: Int) throws -> [(FrameKind, Bool)] {
        var got: [(FrameKind, Bool)] = []
        while got.count < count {
            var poll = PollSet()
            poll.add(c.fd)
            try poll.wait(timeoutMillis: 5000)
            #expect(try c.readAvailable())
            while let frame = try c.peekFrame() {
                let aligned = Int(bitPattern: frame.payload.baseAddress!) % 64 == 32
                got.append((frame.header.kind, aligned))
                c.consume(frame)
            }
        }
        return got
    }

    @Test func framesCrossInPlaceAndAligned() throws {
        let (a, b) = try pair()
        let out = FrameBuffer()
        // A large frame (bigger than the socket buffer: 2 MB asked, which the kernel doubles)
        // between small ones.
        Credit(count: 1).encode(into: out)
        let big = [UInt8](repeating: 7, count: 9 << 20)
        big.withUnsafeBytes { body in
            [UInt8]().withUnsafeBytes { h in
                RawChunkView.encode(into: out, sequence: 1, firstLine: 1, byteOffset: 0, recordCount: 1, headerLine: h, body: body)
            }
        }
        Credit(count: 2).encode(into: out)
        try a.send(out.bytes)
        #expect(a.wantsWrite, "9 MiB cannot fit a socket buffer at once")
        // Drain both ways until everything crossed.
        var kinds: [FrameKind] = []
        while kinds.count < 3 {
            try a.flush()
            var poll = PollSet()
            poll.add(b.fd)
            try poll.wait(timeoutMillis: 5000)
            try b.readAvailable()
            while let frame = try b.peekFrame() {
                // Header at a 64-byte boundary: payload 32 bytes past it.
                #expect(Int(bitPattern: frame.payload.baseAddress!) % 64 == 32)
                kinds.append(frame.header.kind)
                if frame.header.kind == .rawChunk {
                    #expect(Array(try RawChunkView.decode(frame).body) == big)
                }
                b.consume(frame)
            }
        }
        #expect(kinds == [.credit, .rawChunk, .credit])
        #expect(!a.wantsWrite)
    }

    @Test func peerCloseIsSeenAfterTheData() throws {
        let (a, b) = try pair()
        let out = FrameBuffer()
        Credit(count: 9).encode(into: out)
        try a.send(out.bytes)
        a.close()
        let frames = try receive(b, count: 1)
        #expect(frames.map(\.0) == [.credit])
        #expect(try !b.readAvailable())
        #expect(b.peerClosed)
    }

    @Test func oversizedHeaderIsRefusedBeforeBuffering() throws {
        let (a, b) = try pair()
        b.decoder = FrameDecoder(maxPayload: 1024)
        let out = FrameBuffer()
        let body = [UInt8](repeating: 1, count: 4096)
        body.withUnsafeBytes { raw in
            [UInt8]().withUnsafeBytes { h in
                RawChunkView.encode(into: out, sequence: 0, firstLine: 1, byteOffset: 0, recordCount: 1, headerLine: h, body: raw)
            }
        }
        try a.send(UnsafeRawBufferPointer(rebasing: out.bytes[0..<64]))
        var poll = PollSet()
        poll.add(b.fd)
        try poll.wait(timeoutMillis: 5000)
        #expect(throws: FrameError.self) {
            try b.readAvailable()
            _ = try b.peekFrame()
            try b.readAvailable()
        }
    }
}
