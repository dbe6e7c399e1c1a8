import Foundation
import Testing

/// The README walk-through "From scikit-learn to the pipeline", run for real: train a text +
/// tabular classifier in Python, export it with tools/export_sklearn.py, score held-out records
/// with `pipeline up`, and compare every record with scikit-learn's `predict_proba`.
///
/// Needs Python 3 with scikit-learn, skl2onnx and onnxruntime (the product never does); without
/// them the test is skipped, saying so.
@Suite(.serialized) struct WalkthroughTests {
    static let tolerance = 1e-5

    /// Whether `python3 -c "import sklearn, skl2onnx, onnxruntime"` works.
    static let pythonToolingAvailable: Bool = {
        guard let r = try? Running("/usr/bin/env", ["python3", "-c", "import sklearn, skl2onnx, onnxruntime"],
                                   stdinFile: "/dev/null") else { return false }
        return r.finish(seconds: 120).status == 0
    }()

    struct Expected: Decodable {
        var id: Int
        var label: String
        var probabilities: [Double]
    }

    struct Scored: Decodable {
        var id: Int
        var label: String
        var score: Double
        var probabilities: [Double]
    }

    @Test(.enabled(if: pythonToolingAvailable,
                   "python3 with scikit-learn, skl2onnx and onnxruntime is not available (pip install scikit-learn skl2onnx onnxruntime)"),
          .timeLimit(.minutes(20)))
    func exportedPipelineReproducesPredictProba() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let out = ws.path + "/out"
        let script = Paths.root + "/tools/walkthrough/walkthrough.py"
        let python = try Running("/usr/bin/env", ["python3", script, out], stdinFile: "/dev/null").finish(seconds: 900)
        try #require(python.status == 0, "walkthrough.py failed:\n\(python.err)")

        let config = out + "/pipeline.toml"
        let toml = try String(contentsOfFile: config, encoding: .utf8)
        // Text, numeric and categorical kinds, the 2^20-column hashed text included.
        for kind in ["text_hash", "tfidf", "standardize", "log1p", "bucketize", "minmax", "onehot", "hash"] {
            #expect(toml.contains("kind = \"\(kind)\""), "pipeline.toml has a \(kind) feature")
        }
        #expect(toml.contains("n_features = 1048576"))

        let (count, worst) = try scoreAndCompare(out, ws)
        #expect(count >= 400)
        print("walk-through: \(count) records, max |probability difference| \(worst)")
        #expect(processes(mentioning: ws.path).isEmpty, "no replica outlives the run")
    }

    /// The exporter's other translations (a "kitchen sink" pipeline under an MLPClassifier, dense
    /// rows) reproduce predict_proba too, and what it cannot translate is a clear ExportError
    /// (tools/walkthrough/check_export.py checks the messages).
    @Test(.enabled(if: pythonToolingAvailable,
                   "python3 with scikit-learn, skl2onnx and onnxruntime is not available (pip install scikit-learn skl2onnx onnxruntime)"),
          .timeLimit(.minutes(20)))
    func exporterTranslationsAndErrors() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let script = Paths.root + "/tools/walkthrough/check_export.py"
        let python = try Running("/usr/bin/env", ["python3", script, ws.path + "/out"], stdinFile: "/dev/null")
            .finish(seconds: 900)
        #expect(python.status == 0, "check_export.py:\n\(python.out)\(python.err)")
        let (count, worst) = try scoreAndCompare(ws.path + "/out/kitchen", ws)
        #expect(count > 200)
        print("kitchen sink: \(count) records, max |probability difference| \(worst)")
    }

    /// Runs `pipeline up` on DIR/pipeline.toml with DIR/records.jsonl and compares every output
    /// record with DIR/expected.jsonl (scikit-learn's predict_proba): same ids in the same order,
    /// same labels, every probability within `tolerance`. Returns the records and the largest
    /// difference.
    private func scoreAndCompare(_ dir: String, _ ws: Workspace,
                                 sourceLocation: SourceLocation = #_sourceLocation) throws -> (Int, Double) {
        let run = try pipeline(["up", "-f", dir + "/pipeline.toml", "--run-dir", ws.runDir],
                               stdinFile: dir + "/records.jsonl", seconds: 600)
        try #require(run.status == 0, "pipeline up failed: \(run.err)", sourceLocation: sourceLocation)
        let scored = try run.lines.map { try JSONDecoder().decode(Scored.self, from: Data($0.utf8)) }
        let expectedText = try String(contentsOfFile: dir + "/expected.jsonl", encoding: .utf8)
        let expected = try expectedText.split(separator: "\n").map {
            try JSONDecoder().decode(Expected.self, from: Data($0.utf8))
        }
        try #require(scored.map(\.id) == expected.map(\.id), "one output record per input record, in order",
                     sourceLocation: sourceLocation)
        var worst = 0.0
        for (s, e) in zip(scored, expected) {
            #expect(s.probabilities.count == e.probabilities.count, "record \(e.id)", sourceLocation: sourceLocation)
            for (got, want) in zip(s.probabilities, e.probabilities) {
                let difference = abs(got - want)
                worst = max(worst, difference)
                #expect(difference <= Self.tolerance,
                        "record \(e.id): pipeline \(s.probabilities), predict_proba \(e.probabilities)",
                        sourceLocation: sourceLocation)
            }
            #expect(s.label == e.label, "record \(e.id): label \(s.label), scikit-learn \(e.label)",
                    sourceLocation: sourceLocation)
        }
        return (scored.count, worst)
    }
}
