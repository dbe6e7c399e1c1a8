import Foundation
import Testing

/// What the tests of tools/export_sklearn.py share: whether Python has the tooling, running it,
/// and comparing `pipeline up` with scikit-learn record by record.
enum SklearnParity {
    static let tolerance = 1e-5

    /// Whether `python3 -c "import sklearn, skl2onnx, onnx, onnxruntime"` works.
    static let toolingAvailable = imports("sklearn, skl2onnx, onnx, onnxruntime")
    static let toolingMissing: Comment =
        "python3 with scikit-learn, skl2onnx, onnx and onnxruntime is not available (pip install scikit-learn skl2onnx onnx onnxruntime)"

    /// The same, with pandas (models fitted on a DataFrame).
    static let dataFrameToolingAvailable = toolingAvailable && imports("pandas")
    static let dataFrameToolingMissing: Comment =
        "python3 with scikit-learn, skl2onnx, onnx, onnxruntime and pandas is not available (pip install scikit-learn skl2onnx onnx onnxruntime pandas)"

    private static func imports(_ modules: String) -> Bool {
        guard let r = try? Running("/usr/bin/env", ["python3", "-c", "import \(modules)"], stdinFile: "/dev/null") else {
            return false
        }
        return r.finish(seconds: 120).status == 0
    }

    /// Runs `python3 script arguments…` with the built binaries first on PATH (so the exporter's
    /// `pipeline check` uses the `pipeline` under test when it is not given one).
    static func python(_ script: String, _ arguments: [String], seconds: Double = 900) throws -> Finished {
        let path = Paths.binaries + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        return try Running("/usr/bin/env", ["python3", Paths.root + "/" + script] + arguments, stdinFile: "/dev/null",
                           environment: ["PATH": path]).finish(seconds: seconds)
    }

    /// A label as written: a JSON number (an integer class) or a JSON string.
    enum Label: Decodable, Equatable, CustomStringConvertible {
        case int(Int)
        case string(String)

        init(from decoder: Decoder) throws {
            let value = try decoder.singleValueContainer()
            if let int = try? value.decode(Int.self) { self = .int(int) } else { self = .string(try value.decode(String.self)) }
        }

        var description: String {
            switch self {
            case .int(let int): "\(int)"
            case .string(let string): "\"\(string)\""
            }
        }
    }

    struct Expected: Decodable {
        var id: Int
        var label: Label
        var probabilities: [Double]
    }

    struct Scored: Decodable {
        var id: Int
        var label: Label
        var score: Double
        var probabilities: [Double]
    }

    /// Runs `pipeline up` on DIR/pipeline.toml with DIR/records.jsonl and compares every output
    /// record with DIR/expected.jsonl (scikit-learn's predict_proba): same ids in the same order,
    /// same labels (of the same JSON type), every probability within `tolerance`. Returns the records and the largest
    /// difference.
    static func scoreAndCompare(_ dir: String, _ ws: Workspace,
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
                #expect(difference <= tolerance,
                        "record \(e.id): pipeline \(s.probabilities), predict_proba \(e.probabilities)",
                        sourceLocation: sourceLocation)
            }
            #expect(s.label == e.label, "record \(e.id): label \(s.label), scikit-learn \(e.label)",
                    sourceLocation: sourceLocation)
        }
        return (scored.count, worst)
    }
}
