import Foundation
import Testing
@testable import Engine
import TestSupport

/// Malformed input must throw, never crash: every prefix of a real model, and deterministic
/// random corruptions of it (a small fuzz run; the reader is also fuzzed separately).
@Suite struct RobustnessTests {
    private func load(_ bytes: [UInt8]) -> Result<OnnxModel, ModelError> {
        bytes.withUnsafeBytes { buffer in
            Result { () throws(ModelError) in try OnnxModel.load(bytes: buffer, name: "fuzz") }
        }
    }

    @Test func everyTruncationThrows() throws {
        let bytes = try Fixture.bytes("mlp_gemm.onnx")
        guard case .success = load(bytes) else {
            Issue.record("the whole model must load")
            return
        }
        var failures = 0
        for length in 0..<bytes.count {
            if case .failure = load(Array(bytes[0..<length])) { failures += 1 }
        }
        // A prefix ending exactly between top-level fields is a valid protobuf; it still lacks
        // the graph or part of it, so every prefix must fail somewhere.
        #expect(failures == bytes.count)
    }

    /// Corruptions per fixture; `INFER_FUZZ_ITERATIONS=100000 swift test --filter Robustness` for a long run.
    static let iterations = Int(ProcessInfo.processInfo.environment["INFER_FUZZ_ITERATIONS"] ?? "") ?? 300

    @Test func randomCorruptionsNeverCrash() throws {
        var rng = SplitMix64(seed: UInt64(ProcessInfo.processInfo.environment["INFER_FUZZ_SEED"] ?? "") ?? 42)
        let fixtures = ["mlp_gemm", "lr_multi_zipmap", "shape_ops", "ml_ops", "axes13", "mlp_sklearn_binary", "softmax11"]
        for fixture in fixtures {
            let original = try Fixture.bytes(fixture + ".onnx")
            for _ in 0..<Self.iterations {
                var bytes = original
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    let i = Int(rng.next() % UInt64(bytes.count))
                    switch rng.next() % 5 {
                    case 0: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                    case 1: bytes[i] ^= 0x80
                    case 2: bytes.insert(0xFF, at: i)
                    case 3: bytes.removeSubrange(i..<min(bytes.count, i + 1 + Int(rng.next() % 8)))
                    default:
                        // An extreme varint (huge, negative, or zero) over whatever was there.
                        let extremes: [[UInt8]] = [[0xFF, 0xFF, 0xFF, 0xFF, 0x07], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
                                                   [0x00], [0x80, 0x80, 0x80, 0x80, 0x08]]
                        let v = extremes[Int(rng.next() % 4)]
                        bytes.replaceSubrange(i..<min(bytes.count, i + v.count), with: v)
                    }
                    if bytes.isEmpty { bytes = [0] }
                }
                // Either outcome is fine; what matters is getting here. A model that loads must
                // also plan (or fail cleanly) and run.
                if case .success(let model) = load(bytes),
                   var session = try? InferenceSession(model: model, maxBatch: 8) {
                    let input = [Float](repeating: 0.5, count: 3 * session.inputWidth)
                    var output = [Float](repeating: 0, count: 3 * session.outputWidth)
                    try? session.run(rows: 3, input: input, output: &output)
                }
            }
        }
    }
}

