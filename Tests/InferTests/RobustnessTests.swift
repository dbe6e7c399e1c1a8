import Testing
@testable import InferStage

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

    @Test func randomCorruptionsNeverCrash() throws {
        var rng = SplitMix64(seed: 42)
        for fixture in ["mlp_gemm.onnx", "lr_multi_zipmap.onnx", "shape_ops.onnx", "ml_ops.onnx"] {
            let original = try Fixture.bytes(fixture)
            for _ in 0..<300 {
                var bytes = original
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    let i = Int(rng.next() % UInt64(bytes.count))
                    switch rng.next() % 3 {
                    case 0: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                    case 1: bytes[i] ^= 0x80
                    default: bytes.insert(0xFF, at: i)
                    }
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

/// Small deterministic generator for the fuzz test.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
