import Testing
@testable import Messages
import TestSupport

/// Corrupted and truncated payloads must throw, never crash or read out of bounds.
@Suite struct MutationTests {
    func frames() -> [FrameBuffer] {
        var result: [FrameBuffer] = []
        let records = FrameBuffer()
        RecordBatchView.encode(into: records, sequence: 1, envelope: Envelope(
            firstLine: 1, byteOffset: 0, recordCount: 3,
            rejects: [Reject(line: 1, byteOffset: 0, code: .depth, message: "too deep", input: [1, 2])]),
            columns: [Column(.float([1, 2])), stringColumn(["x", "yz"]), Column(.bool([true, false]), missing: [true, false])])
        result.append(records)
        let batch = try! RecordBatchView.decode(try! onlyFrame(records))
        let features = FrameBuffer()
        let values: [Float] = [1, 2, 3, 4]
        values.withUnsafeBufferPointer {
            FeatureBatchView.encodeDense(into: features, sequence: 1, envelope: batch.envelope, passthrough: [batch.columns[1]],
                                         rows: 2, dims: 2, values: $0, drift: DriftCounts([1, 1]))
        }
        result.append(features)
        let membership = FrameBuffer()
        Membership(generation: 1, members: [.init(node: .sink, replica: 0, path: "/x")]).encode(into: membership)
        result.append(membership)
        return result
    }

    func decodeAny(_ frame: Frame) throws {
        switch frame.header.kind {
        case .records:
            let b = try RecordBatchView.decode(frame)
            _ = try b.envelope.rejects()
        case .features: _ = try FeatureBatchView.decode(frame)
        case .membership: _ = try Membership.decode(frame)
        default: break
        }
    }

    @Test func randomByteFlipsNeverCrash() throws {
        var rng = SeededRandom(seed: 99)
        var thrown = 0
        for original in frames() {
            let bytes = Array(original.bytes)
            for _ in 0..<3000 {
                let copy = FrameBuffer()
                copy.append(bytes: bytes)
                let i = Int.random(in: FrameHeader.size..<bytes.count, using: &rng)
                copy.base.storeBytes(of: UInt8.random(in: 0...255, using: &rng), toByteOffset: i, as: UInt8.self)
                do {
                    if let (frame, _) = try FrameDecoder().decode(copy.bytes) { try decodeAny(frame) }
                } catch {
                    thrown += 1
                }
            }
        }
        #expect(thrown > 0)
    }

    @Test func everyTruncationThrows() throws {
        for original in frames() {
            let frame = try onlyFrame(original)
            let payload = frame.payload
            for cut in 0..<payload.count where payload[cut...].contains(where: { $0 != 0 }) {
                // Only trailing padding may go missing unnoticed: losing any content must throw.
                let short = Frame(header: frame.header, payload: UnsafeRawBufferPointer(rebasing: payload[..<cut]))
                #expect(throws: FrameError.self, "kind \(frame.header.kind) cut \(cut) of \(payload.count)") {
                    try decodeAny(short)
                }
            }
        }
    }
}
