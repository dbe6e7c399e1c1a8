import Foundation
import Testing

/// The README walk-through "From scikit-learn to the pipeline", run for real: train a text +
/// tabular classifier in Python, export it with tools/export_sklearn.py, score held-out records
/// with `pipeline up`, and compare every record with scikit-learn's `predict_proba`.
///
/// Needs Python 3 with scikit-learn, skl2onnx, onnx and onnxruntime (the product never does);
/// without them the test is skipped, saying so.
@Suite(.serialized) struct WalkthroughTests {
    @Test(.enabled(if: SklearnParity.toolingAvailable, SklearnParity.toolingMissing), .timeLimit(.minutes(20)))
    func exportedPipelineReproducesPredictProba() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let out = ws.path + "/out"
        let python = try SklearnParity.python("tools/walkthrough/walkthrough.py", [out])
        try #require(python.status == 0, "walkthrough.py failed:\n\(python.err)")

        let config = out + "/pipeline.toml"
        let toml = try String(contentsOfFile: config, encoding: .utf8)
        // Text, numeric and categorical kinds, the 2^20-column hashed text included.
        for kind in ["text_hash", "tfidf", "standardize", "log1p", "bucketize", "minmax", "onehot", "hash"] {
            #expect(toml.contains("kind = \"\(kind)\""), "pipeline.toml has a \(kind) feature")
        }
        #expect(toml.contains("n_features = 1048576"))
        // Named after its directory, as every exported config and the README's walk-through are.
        #expect(toml.contains("\nname = \"out\""), "the run is named after OUT_DIR")

        let (count, worst) = try SklearnParity.scoreAndCompare(out, ws)
        #expect(count >= 400)
        print("walk-through: \(count) records, max |probability difference| \(worst)")
        #expect(processes(mentioning: ws.path).isEmpty, "no replica outlives the run")
    }

    /// The exporter's other translations (a "kitchen sink" pipeline under an MLPClassifier, dense
    /// rows) reproduce predict_proba too, and what it cannot translate is a clear ExportError
    /// (tools/walkthrough/check_export.py checks the messages).
    @Test(.enabled(if: SklearnParity.toolingAvailable, SklearnParity.toolingMissing), .timeLimit(.minutes(20)))
    func exporterTranslationsAndErrors() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let python = try SklearnParity.python("tools/walkthrough/check_export.py", [ws.path + "/out"])
        #expect(python.status == 0, "check_export.py:\n\(python.out)\(python.err)")
        let (count, worst) = try SklearnParity.scoreAndCompare(ws.path + "/out/kitchen", ws)
        #expect(count > 200)
        print("kitchen sink: \(count) records, max |probability difference| \(worst)")
    }
}
