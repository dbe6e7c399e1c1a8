import Testing
@testable import Messages

@Suite struct FrameDecoderTests {
    /// Several frames of different kinds and sizes, back to back.
    func sampleStream() -> FrameBuffer {
        let out = FrameBuffer()
        Credit(count: 7).encode(into: out)
        let body = Array("{\"a\":1}\n{\"a\":2}\n".utf8)
        let header: [UInt8] = []
        body.withUnsafeBytes { b in
            header.withUnsafeBytes { h in
                RawChunkView.encode(into: out, sequence: 42, firstLine: 10, byteOffset: 900, recordCount: 2,
                                    headerLine: h, body: b)
            }
        }
        Hello(purpose: .data, node: .infer, replica: 3, pid: 1234, cookie: "c0ffee").encode(into: out)
        out.frame(.drain)
        return out
    }

    func decodeAll(chunks: [Int], from stream: FrameBuffer) throws -> [FrameHeader] {
        let receiver = TestReceiver()
        var headers: [FrameHeader] = []
        var offset = 0
        for size in chunks {
            let end = min(offset + size, stream.count)
            try receiver.receive(UnsafeRawBufferPointer(rebasing: stream.bytes[offset..<end])) { headers.append($0.header) }
            offset = end
        }
        #expect(receiver.pending == 0)
        return headers
    }

    @Test func allAtOnceByteByByteAndRandomChunksAgree() throws {
        let stream = sampleStream()
        let whole = try decodeAll(chunks: [stream.count], from: stream)
        #expect(whole.map(\.kind) == [.credit, .rawChunk, .hello, .drain])
        #expect(whole[1].sequence == 42 && whole[1].rowCount == 2)
        let drip = try decodeAll(chunks: Array(repeating: 1, count: stream.count), from: stream)
        #expect(drip == whole)
        var rng = SeededRandom(seed: 7)
        for _ in 0..<50 {
            var chunks: [Int] = []
            var total = 0
            while total < stream.count {
                let c = Int.random(in: 1...97, using: &rng)
                chunks.append(c)
                total += c
            }
            #expect(try decodeAll(chunks: chunks, from: stream) == whole)
        }
    }

    @Test func framesAreMultiplesOf64Bytes() {
        let stream = sampleStream()
        #expect(stream.count % 64 == 0)
        let single = FrameBuffer()
        single.frame(.shutdown)
        #expect(single.count == 64)
    }

    @Test func incompleteHeaderNeedsMoreBytes() throws {
        let stream = sampleStream()
        for n in 0..<FrameHeader.size {
            #expect(try FrameDecoder().decode(UnsafeRawBufferPointer(rebasing: stream.bytes[0..<n])) == nil)
        }
    }

    func corrupted(at offset: Int, with bytes: [UInt8]) -> [UInt8] {
        let out = FrameBuffer()
        Credit(count: 1).encode(into: out)
        var raw = Array(out.bytes)
        for (i, b) in bytes.enumerated() { raw[offset + i] = b }
        return raw
    }

    @Test func badMagicVersionKindThrow() {
        let decoder = FrameDecoder()
        #expect(throws: FrameError.badMagic(0x4C50_4951)) {
            try corrupted(at: 0, with: [0x51]).withUnsafeBytes { _ = try decoder.decode($0) }
        }
        #expect(throws: FrameError.unsupportedVersion(2)) {
            try corrupted(at: 4, with: [2, 0]).withUnsafeBytes { _ = try decoder.decode($0) }
        }
        #expect(throws: FrameError.unknownKind(99)) {
            try corrupted(at: 6, with: [99]).withUnsafeBytes { _ = try decoder.decode($0) }
        }
    }

    @Test func lengthIsCheckedBeforeThePayloadArrives() {
        // Only the 32 header bytes are present, claiming a 1 GiB payload: refused at once.
        var raw = Array(corrupted(at: 24, with: [0xE0, 0xFF, 0xFF, 0x3F]).prefix(FrameHeader.size))
        #expect(throws: FrameError.tooLarge(length: 0x3FFF_FFE0, limit: FrameDecoder.defaultMaxPayload)) {
            try raw.withUnsafeBytes { _ = try FrameDecoder().decode($0) }
        }
        raw = Array(corrupted(at: 24, with: [33, 0, 0, 0]).prefix(FrameHeader.size))
        #expect(throws: FrameError.misaligned(length: 65)) {
            try raw.withUnsafeBytes { _ = try FrameDecoder().decode($0) }
        }
        let small = FrameDecoder(maxPayload: 16)
        #expect(throws: FrameError.tooLarge(length: 32, limit: 16)) {
            try corrupted(at: 0, with: []).withUnsafeBytes { _ = try small.decode($0) }
        }
    }
}
