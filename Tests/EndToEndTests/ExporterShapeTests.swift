import Foundation
import Testing

/// The short shapes new users export first — make_pipeline(StandardScaler(), model), a lone text
/// vectorizer before the model, an estimator alone — exported from a pickle by
/// `tools/export_sklearn.py` as a user would, then scored by `pipeline up` and compared with
/// scikit-learn; and the models the engine cannot run (SVC, k-nearest neighbours) or skl2onnx
/// cannot convert, refused in a line or two with nothing written. The models are trained by
/// tools/walkthrough/shapes.py.
@Suite(.serialized, .enabled(if: SklearnParity.dataFrameToolingAvailable, SklearnParity.dataFrameToolingMissing))
struct ExporterShapeTests {
    struct Shape: Sendable, CustomTestStringConvertible {
        var name: String
        /// Arguments given to the exporter besides the pickle, --out-dir and --pipeline.
        var arguments: [String] = []
        /// The input fields pipeline.toml must declare.
        var fields: [String]
        /// The feature kind the preprocessing becomes.
        var kind: String
        /// What the exporter's note about the names it chose must say, when it had to choose.
        var note: String? = nil
        /// The `labels` line pipeline.toml must hold, when the test says.
        var labels: String? = nil
        var testDescription: String { name }
    }

    static let accepted: [Shape] = [
        Shape(name: "scaler-dataframe", fields: ["amount", "age", "hour", "visits"], kind: "standardize"),
        Shape(name: "scaler-array", fields: ["x0", "x1", "x2", "x3"], kind: "standardize", note: "x0 … x3"),
        Shape(name: "bare-dataframe", fields: ["amount", "age", "hour", "visits"], kind: "identity"),
        Shape(name: "bare-array", fields: ["x0", "x1", "x2", "x3"], kind: "identity", note: "x0 … x3"),
        Shape(name: "int-classes", fields: ["amount", "age", "hour", "visits"], kind: "identity", labels: "labels = [0, 1]"),
        Shape(name: "hashing", fields: ["text"], kind: "text_hash", note: "\"text\""),
        Shape(name: "tfidf", arguments: ["--columns", "message"], fields: ["message"], kind: "tfidf"),
        Shape(name: "count", fields: ["text"], kind: "tfidf", note: "\"text\""),
        Shape(name: "count-tfidf", fields: ["text"], kind: "tfidf", note: "\"text\""),
    ]

    @Test(.timeLimit(.minutes(10)), arguments: accepted)
    func acceptedShapeScoresLikeScikitLearn(_ shape: Shape) throws {
        let ws = Workspace()
        defer { ws.remove() }
        let dir = try train(shape.name, ws)
        let export = try exporter([dir + "/model.pkl", "--out-dir", dir, "--passthrough", "id:int"] + shape.arguments)
        try #require(export.status == 0, "export_sklearn.py: \(export.err)")
        #expect(export.err.contains("checked by \(Paths.pipeline) check"), "the engine checked it: \(export.err)")
        if let note = shape.note {
            #expect(export.err.contains("note:") && export.err.contains(note), "\(export.err)")
        }
        let toml = try String(contentsOfFile: dir + "/pipeline.toml", encoding: .utf8)
        for field in shape.fields {
            #expect(toml.contains("name = \"\(field)\""), "pipeline.toml declares the field \(field)")
        }
        #expect(toml.contains("kind = \"\(shape.kind)\""))
        if let labels = shape.labels {
            #expect(toml.contains("\n\(labels)\n"), "\(toml)")
        }

        let (count, worst) = try SklearnParity.scoreAndCompare(dir, ws)
        #expect(count > 200)
        print("\(shape.name): \(count) records, max |probability difference| \(worst)")
    }

    /// skl2onnx converts an SVC and a KNeighborsClassifier, but into operators infer does not run:
    /// the exporter's `pipeline check` refuses them, naming the operator, and writes nothing;
    /// --no-check writes them anyway, and `pipeline check` then names the same operator.
    @Test(.timeLimit(.minutes(10)), arguments: ["svc", "knn"])
    func modelTheEngineCannotRunIsRefused(_ name: String) throws {
        let ws = Workspace()
        defer { ws.remove() }
        let dir = try train(name, ws)
        let out = dir + "/out"
        let export = try exporter([dir + "/model.pkl", "--out-dir", out])
        #expect(export.status == 1)
        let message = errorMessage(export.err)
        let reported = message.firstMatch(of: /node '[^']*' \((\w+)\): operator (\w+) is not supported/)
        #expect(reported != nil, "the message names the operator as the engine reports it: \(export.err)")
        if name == "svc" {
            #expect(reported?.2 == "SVMClassifier", "\(export.err)")
        }
        #expect(message.split(separator: "\n").count == 1, "one line: \(message)")
        #expect(!FileManager.default.fileExists(atPath: out), "nothing written to \(out)")

        let unchecked = try exporter([dir + "/model.pkl", "--out-dir", out, "--no-check"])
        try #require(unchecked.status == 0, "--no-check: \(unchecked.err)")
        let check = try pipeline(["check", "-f", out + "/pipeline.toml"])
        #expect(check.status != 0)
        if let op = reported?.2 {
            #expect(check.err.contains("operator \(op) is not supported"), "\(check.err)")
        }
    }

    /// A model skl2onnx has no converter for (NearestCentroid) is two lines — the exception's type
    /// and first line, then a hint — not skl2onnx's pages; --verbose adds its traceback.
    @Test(.timeLimit(.minutes(10)))
    func converterFailureIsShort() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let dir = try train("unconvertible", ws)
        let out = dir + "/out"
        let export = try exporter([dir + "/model.pkl", "--out-dir", out])
        #expect(export.status == 1)
        let message = errorMessage(export.err)
        for word in ["NearestCentroid", "MissingShapeCalculator", "hint:", "--verbose"] {
            #expect(message.contains(word), "the message mentions \(word): \(message)")
        }
        #expect(message.split(separator: "\n").count <= 3 && message.utf8.count <= 1000, "short: \(message)")
        #expect(!export.err.contains("Traceback"))
        #expect(!FileManager.default.fileExists(atPath: out), "nothing written to \(out)")

        let verbose = try exporter([dir + "/model.pkl", "--out-dir", out, "--verbose"])
        #expect(verbose.status == 1)
        #expect(verbose.err.contains("Traceback (most recent call last)") && verbose.err.contains("convert_sklearn"),
                "--verbose shows the traceback: \(verbose.err)")
    }

    /// Without a `pipeline` to check with, the exporter says how to build one and offers --no-check.
    @Test(.timeLimit(.minutes(10)))
    func missingPipelineBinarySaysHowToBuildIt() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let dir = try train("bare-dataframe", ws)
        let out = dir + "/out"
        let export = try exporter([dir + "/model.pkl", "--out-dir", out, "--pipeline", ws.path + "/no-such-pipeline"])
        #expect(export.status == 1)
        let message = errorMessage(export.err)
        for word in ["no-such-pipeline", "swift build -c release", "--no-check"] {
            #expect(message.contains(word), "the message mentions \(word): \(message)")
        }
        #expect(!FileManager.default.fileExists(atPath: out), "nothing written to \(out)")
    }

    /// Trains CASE with tools/walkthrough/shapes.py into a directory of `ws`; returns it.
    private func train(_ name: String, _ ws: Workspace) throws -> String {
        let dir = ws.path + "/" + name
        let python = try SklearnParity.python("tools/walkthrough/shapes.py", [name, dir])
        try #require(python.status == 0, "shapes.py \(name): \(python.err)")
        return dir
    }

    /// Runs tools/export_sklearn.py, checking with the `pipeline` under test unless told otherwise.
    private func exporter(_ arguments: [String]) throws -> Finished {
        let explicit = arguments.contains("--pipeline") || arguments.contains("--no-check")
        return try SklearnParity.python("tools/export_sklearn.py",
                                        arguments + (explicit ? [] : ["--pipeline", Paths.pipeline]))
    }

    /// The exporter's error, from "export_sklearn: error:" to the end (what comes before is
    /// Python's warnings); all of stderr if there is none.
    private func errorMessage(_ stderr: String) -> String {
        guard let start = stderr.range(of: "export_sklearn: error:") else { return stderr }
        return String(stderr[start.lowerBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
