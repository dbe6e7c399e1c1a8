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

    /// `--profile-data` writes the drift reference from the training records; `pipeline profile`
    /// makes the same bins and counts from them through the stages (the score's edges aside:
    /// scikit-learn's float64 probabilities against the model's float32), and `up` over those
    /// same records, in one window, finds no drift at all. Integer classes (labels "0", "1") and
    /// a text field (its length) included.
    @Test(.timeLimit(.minutes(10)), arguments: ["int-classes", "hashing"])
    func exportedProfileIsThePipelinesProfile(_ name: String) throws {
        let ws = Workspace()
        defer { ws.remove() }
        let dir = try train(name, ws)
        let records = dir + "/records.jsonl"
        let export = try exporter([dir + "/model.pkl", "--out-dir", dir, "--passthrough", "id:int", "--profile-data", records])
        try #require(export.status == 0, "export_sklearn.py: \(export.err)")
        let count = try String(contentsOfFile: records, encoding: .utf8).split(separator: "\n").count
        let toml = dir + "/pipeline.toml"
        let text = try String(contentsOfFile: toml, encoding: .utf8)
        try #require(text.hasSuffix("[drift]\nreference = \"reference.json\"\n"), "\(text)")
        try (text + "window = \(count)\n").write(toFile: toml, atomically: true, encoding: .utf8)

        let ours = try pipeline(["profile", "-f", toml], stdinFile: records)
        try #require(ours.status == 0, "\(ours.err)")
        func load(_ data: Data) throws -> [String: Any] { try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]) }
        let exported = try load(Data(contentsOf: URL(fileURLWithPath: dir + "/reference.json"))), profiled = try load(ours.stdout)
        #expect(exported["records"] as? Int == count && profiled["records"] as? Int == count)
        let a = try #require(exported["fields"] as? [[String: Any]]), b = try #require(profiled["fields"] as? [[String: Any]])
        #expect(NSArray(array: a).isEqual(to: b), "exported \(a)\nprofiled \(b)")
        if name == "hashing" { #expect(a.first?["kind"] as? String == "text_length") }
        let labels = { (p: [String: Any]) in (p["predictions"] as? [[String: Any]])?.first { $0["name"] as? String == "label" } }
        #expect(labels(exported)?["values"] as? [String] == (name == "int-classes" ? ["0", "1"] : ["high", "low", "mid"]))
        #expect(labels(exported)?["counts"] as? [Int] == labels(profiled)?["counts"] as? [Int])

        let events = ws.path + "/events.jsonl"
        let run = try pipeline(["up", "-f", toml, "--run-dir", ws.runDir, "--events", events], stdinFile: records)
        try #require(run.status == 0, "\(run.err)")
        let window = try #require(try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .first { $0["event"] as? String == "drift_window" })
        #expect(window["records"] as? Int == count && window["partial"] == nil)
        for f in try #require(window["fields"] as? [[String: Any]]) where !(f["field"] as! String).hasPrefix("prediction.") {
            #expect(f["value"] as? Double == 0, "the training records against their own profile: \(f)")
        }
        #expect(!run.err.contains("drift alert"), "\(run.err)")
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
