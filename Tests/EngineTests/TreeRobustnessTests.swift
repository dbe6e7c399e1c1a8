import Testing
@testable import Engine
import TestSupport

/// Corrupted tree, preprocessing and PyTorch models must throw or run, never crash (the same
/// small fuzz run as `RobustnessTests`, on the models this engine learned later).
@Suite struct TreeRobustnessTests {
    @Test(arguments: ["sk_tree_clf", "sk_columns", "sk_pipeline", "xgb_binary", "lgbm_categorical", "tree_ensemble5",
                      "torch_mlp_opset17"])
    func randomCorruptionsNeverCrash(fixture: String) throws {
        var rng = SplitMix64(seed: 7)
        let original = try Fixture.bytes(fixture + ".onnx")
        for _ in 0..<(RobustnessTests.iterations / 3) {
            var bytes = original
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes[i] ^= 0x80
                case 2: bytes[i] ^= 1 << (rng.next() % 7)  // small changes: ids, counts, enum values
                default: bytes.removeSubrange(i..<min(bytes.count, i + 1 + Int(rng.next() % 8)))
                }
                if bytes.isEmpty { bytes = [0] }
            }
            let loaded = bytes.withUnsafeBytes { buffer in
                Result { () throws(ModelError) in try OnnxModel.load(bytes: buffer, name: "fuzz") }
            }
            if case .success(let model) = loaded, var session = try? InferenceSession(model: model, maxBatch: 8) {
                let input: [Float] = (0..<(5 * session.inputWidth)).map { i -> Float in
                    i % 11 == 0 ? .nan : Float(i % 7) - 3
                }
                var output = [Float](repeating: 0, count: 5 * session.outputWidth)
                try? session.run(rows: 5, input: input, output: &output)
            }
        }
    }
}
