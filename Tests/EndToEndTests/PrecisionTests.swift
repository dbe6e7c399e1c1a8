import Bench
import Config
import Foundation
import Testing

/// `[model] precision`: a model run in bfloat16 or int8 through the processes, and `check --data`
/// stating what it costs, checked against the outputs of real runs.
@Suite struct PrecisionTests {
    static func config(precision: String) -> String {
        Records.config(batchRows: 50).replacingOccurrences(
            of: "path = \"\(Paths.demoModel)\"", with: "path = \"\(Paths.demoModel)\"\nprecision = \"\(precision)\"")
    }

    /// Each output line's label and probabilities.
    static func scores(_ output: Data) throws -> [(label: String, probabilities: [Float])] {
        try String(decoding: output, as: UTF8.self).split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let probabilities = try #require(object["probabilities"] as? [Double]).map { Float($0) }
            return (try #require(object["label"] as? String), probabilities)
        }
    }

    @Test(arguments: ["bf16", "int8"])
    func precisionRunsThroughTheProcessesAndCheckStatesItsCost(precision: String) throws {
        let ws = Workspace()
        defer { ws.remove() }
        let input = Records.jsonl(2000, seed: 21)
        let data = ws.write("input.jsonl", input)
        let halfText = Self.config(precision: precision) + "\n[stage.infer]\nreplicas = 2\n"
        let half = ws.write("\(precision).toml", halfText)
        let float = ws.write("float.toml", Self.config(precision: "float32"))

        let events = ws.path + "/events.jsonl"
        let h = try pipeline(["up", "-f", half, "--run-dir", ws.runDir, "--events", events], stdinFile: data)
        #expect(h.status == 0, "\(h.err)")
        // The event log says what the scores were computed with.
        let first = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.contains("\"event\":\"run_started\"") && first.contains("\"precision\":\"\(precision)\""), "\(first)")
        let f = try pipeline(["up", "-f", float, "--run-dir", ws.runDir], stdinFile: data)
        #expect(f.status == 0, "\(f.err)")
        // The processes (weights through the shared cache) compute what one process computes.
        var fused = try FusedPipeline(config: try PipelineConfig.parse(text: halfText, path: half))
        let (expected, _) = try Array(input.utf8).withUnsafeBytes { try fused.run(input: $0) }
        #expect(same(h.stdout, Data(expected)))
        #expect(!same(h.stdout, f.stdout), "\(precision) changed no score")

        let check = try pipeline(["check", "-f", half, "--data", data])
        #expect(check.status == 0, "\(check.err)")
        #expect(check.out.contains("precision: \(precision)\n"), "\(check.out)")
        #expect(check.out.contains("data: \(data): 2000 records scored\n"), "\(check.out)")

        // The figures, computed again from the two runs' outputs.
        let a = try Self.scores(f.stdout), b = try Self.scores(h.stdout)
        try #require(a.count == 2000 && b.count == 2000)
        let sameLabel = zip(a, b).filter { $0.label == $1.label }.count
        var largest: Float = 0
        var sum = 0.0
        for (x, y) in zip(a, b) {
            for (p, q) in zip(x.probabilities, y.probabilities) {
                largest = max(largest, (q - p).magnitude)
                sum += Double((q - p).magnitude)
            }
        }
        let mean = sum / 4000
        #expect(check.out.contains("\(precision) vs float32: same label for \(sameLabel) of 2000 records"), "\(check.out)")
        let line = try #require(check.out.split(separator: "\n").first { $0.contains("score difference") })
        let numbers = line.split(whereSeparator: { $0 == " " || $0 == "," }).compactMap { Double($0) }
        try #require(numbers.count == 2, "\(line)")
        #expect(largest > 0 && abs(numbers[0] - Double(largest)) <= 5e-7, "\(line) vs \(largest)")
        #expect(abs(numbers[1] - mean) <= 5e-7, "\(line) vs \(mean)")
    }

    @Test func checkDataRefusesWhatItCannotScore() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("p.toml", Self.config(precision: "bf16"))
        let missing = try pipeline(["check", "-f", cfg, "--data", ws.path + "/none.jsonl"])
        #expect(missing.status == 2 && missing.err.contains("--data \(ws.path)/none.jsonl: open"), "\(missing.err)")
        let junk = ws.write("junk.jsonl", "not json\nnor this\n")
        let rejected = try pipeline(["check", "-f", cfg, "--data", junk])
        #expect(rejected.status == 11 && rejected.err.contains("no record reached the model (2 records rejected)"), "\(rejected.err)")
        let bad = ws.write("bad.toml", Self.config(precision: "fp16"))
        let refused = try pipeline(["check", "-f", bad])
        #expect(refused.status == 3 && refused.err.contains("`model.precision` must be one of \"float32\", \"int8\", \"bf16\", found \"fp16\""),
                "\(refused.err)")
    }
}
