import Bench
import Config
import Foundation
import PipelineCLI
import Testing

/// The real binaries, end to end: `pipeline up` with stdin/stdout, several replica counts, CSV,
/// live scaling, ps, logs, down, and the errors a user meets first.
@Suite(.serialized) struct PipelineTests {
    struct Scored: Decodable {
        var id: Int
        var label: String
        var score: Double
        var probabilities: [Double]
    }

    func decode(_ lines: [String]) throws -> [Scored] {
        try lines.map { try JSONDecoder().decode(Scored.self, from: Data($0.utf8)) }
    }

    func up(_ ws: Workspace, config: String, input: String, _ extra: [String] = []) throws -> Finished {
        let cfg = ws.write("pipeline.toml", config)
        let data = ws.write("input", input)
        return try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir] + extra, stdinFile: data)
    }

    @Test func jsonLinesAreScoredInOrder() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let r = try up(ws, config: Records.config(), input: Records.jsonl(2000))
        #expect(r.status == 0, "\(r.err)")
        let scored = try decode(r.lines)
        #expect(scored.map(\.id) == Array(1...2000))
        for s in scored {
            #expect(["legit", "fraud"].contains(s.label))
            #expect(abs(s.probabilities.reduce(0, +) - 1) < 1e-5)
            #expect(s.score == s.probabilities.max())
        }
        #expect(r.err.contains("2000 records read, 2000 written, 0 rejected"), "\(r.err)")
        #expect(processes(mentioning: ws.path).isEmpty, "no replica outlives the run")
    }

    @Test func csvInputGivesTheSameOutputAsJSONLines() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let json = try up(ws, config: Records.config(), input: Records.jsonl(700))
        let csv = try up(ws, config: Records.config(format: "csv"), input: Records.csv(700))
        #expect(json.status == 0 && csv.status == 0, "\(json.err)\n\(csv.err)")
        #expect(json.lines.count == 700)
        #expect(same(csv.stdout, json.stdout))
    }

    @Test func csvOutputHasAHeaderAndOneRowPerRecord() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let r = try up(ws, config: Records.config(output: "csv"), input: Records.jsonl(10))
        #expect(r.status == 0, "\(r.err)")
        #expect(r.lines.first == "id,label,score,p_legit,p_fraud")
        #expect(r.lines.count == 11)
        #expect(r.lines[1].hasPrefix("1,"))
    }

    @Test(arguments: [["--scale", "infer=3"],
                      ["--scale", "ingest=2", "--scale", "featurize=2", "--scale", "infer=3", "--scale", "aggregate=2"]])
    func replicaCountsDoNotChangeTheOutput(scales: [String]) throws {
        let ws = Workspace()
        defer { ws.remove() }
        let input = Records.jsonl(3000, seed: 7)
        let one = try up(ws, config: Records.config(batchRows: 32), input: input)
        let many = try up(ws, config: Records.config(batchRows: 32), input: input, scales)
        #expect(one.status == 0 && many.status == 0, "\(one.err)\n\(many.err)")
        #expect(one.lines.count == 3000)
        #expect(same(many.stdout, one.stdout), "byte-identical output whatever the replica counts")
    }

    /// Scales up and down while records stream in; the output equals the one-replica run.
    @Test func liveScalingLosesAndRepeatsNothing() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config(batchRows: 16))
        let parts = (0..<4).map { Records.jsonl(500, seed: 11 + UInt64($0), firstID: 1 + 500 * $0) }
        let reference = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.write("all", parts.joined()))
        #expect(reference.status == 0, "\(reference.err)")

        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir])
        run.write(parts[0])
        #expect(run.waitForLines(1) >= 1, "the stream started")
        let up = try pipeline(["scale", "--run-dir", ws.runDir, "infer=3", "featurize=2"])
        #expect(up.status == 0, "\(up.out)\(up.err)")
        #expect(up.out.contains("infer: 1 → 3"))

        let ps = try pipeline(["ps", "--json", "--run-dir", ws.runDir])
        #expect(ps.status == 0, "\(ps.err)")
        let status = try JSONSerialization.jsonObject(with: ps.stdout) as? [String: Any]
        let replicas = status?["replicas"] as? [[String: Any]] ?? []
        #expect(replicas.filter { $0["stage"] as? String == "infer" }.count == 3)
        #expect(replicas.allSatisfy { ($0["pid"] as? Int ?? 0) > 0 && $0["state"] as? String == "ready" })

        run.write(parts[1])
        #expect(run.waitForLines(1000) >= 1000)
        let down = try pipeline(["scale", "--run-dir", ws.runDir, "infer=1", "featurize=1", "ingest=2"])
        #expect(down.status == 0, "\(down.out)\(down.err)")
        run.write(parts[2])
        let again = try pipeline(["scale", "--run-dir", ws.runDir, "aggregate=2", "infer=2"])
        #expect(again.status == 0, "\(again.out)\(again.err)")
        run.write(parts[3])
        let result = run.finish()
        #expect(result.status == 0, "\(result.err)")
        #expect(same(result.stdout, reference.stdout))
        let logs = try pipeline(["logs", "--run-dir", ws.runDir, "infer"])
        #expect(logs.out.contains("infer.3 | "), "a scaled-away replica's log is kept")
        #expect(!logs.out.contains("ingest.1 | "))
        #expect(processes(mentioning: ws.path).isEmpty)
    }

    /// Scale-downs while batches are in flight: the leaving replicas finish what they hold.
    @Test func scalingDownUnderLoadLosesNothing() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config(batchRows: 8, window: 64))
        let parts = (0..<3).map { Records.jsonl(1500, seed: 71 + UInt64($0), firstID: 1 + 1500 * $0) }
        let reference = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir + "-ref"], stdinFile: ws.write("all", parts.joined()))
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--scale", "infer=3", "--scale", "featurize=3",
                                               "--scale", "aggregate=2"])
        #expect(waitUntil { replicaPids(ws.runDir, "infer").count == 3 })
        run.write(parts[0])
        // No waiting for output: the stages still hold batches when their replicas are told to leave.
        let down = try pipeline(["scale", "--run-dir", ws.runDir, "infer=1", "featurize=1", "aggregate=1"])
        #expect(down.status == 0, "\(down.out)\(down.err)")
        run.write(parts[1])
        let again = try pipeline(["scale", "--run-dir", ws.runDir, "infer=2", "ingest=2"])
        #expect(again.status == 0, "\(again.out)\(again.err)")
        run.write(parts[2])
        let down2 = try pipeline(["scale", "--run-dir", ws.runDir, "infer=1", "ingest=1"])
        #expect(down2.status == 0, "\(down2.out)\(down2.err)")
        let result = run.finish()
        #expect(result.status == 0, "\(result.err)")
        #expect(same(result.stdout, reference.stdout))
        #expect(processes(mentioning: ws.path).isEmpty)
    }

    @Test func downStopsARunThatIsStillReading() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir])
        run.write(Records.jsonl(100))
        #expect(run.waitForLines(100) == 100)
        let second = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir])
        #expect(second.status == 7, "\(second.err)")
        #expect(second.err.contains("already running") && second.err.contains("pid \(run.pid)"))
        let down = try pipeline(["down", "--run-dir", ws.runDir])
        #expect(down.status == 0, "\(down.err)")
        let result = run.finish()
        #expect(result.status == 0, "\(result.err)")
        #expect(result.lines.count == 100)
        let after = try pipeline(["ps", "--run-dir", ws.runDir])
        #expect(after.status == 8 && after.err.contains("no pipeline is running"))
        #expect(processes(mentioning: ws.path).isEmpty)
    }

    @Test func configErrorsAreOneLineWithAPosition() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let bad = Records.config().replacingOccurrences(of: "batch_rows", with: "batch_row")
        let r = try up(ws, config: bad, input: "")
        #expect(r.status == 3)
        #expect(r.err.contains("pipeline.toml:3:1:") && r.err.contains("did you mean"), "\(r.err)")
        #expect(r.err.split(separator: "\n").count == 1)

        let wide = Records.config().replacingOccurrences(of: "[\"US\", \"DE\", \"FR\", \"GB\"]", with: "[\"US\", \"DE\"]")
        let w = try up(ws, config: wide, input: "")
        #expect(w.status == 3 && w.err.contains("the model's input"), "\(w.err)")

        let missing = Records.config().replacingOccurrences(of: Paths.demoModel, with: ws.path + "/none.onnx")
        let m = try up(ws, config: missing, input: "")
        #expect(m.status == 4 && m.err.contains("none.onnx"), "\(m.err)")

        // An operator the engine does not run: named with its node, before anything starts.
        let conv = Records.config().replacingOccurrences(of: Paths.demoModel, with: Paths.root + "/Tests/EngineTests/Fixtures/unsupported_op.onnx")
        let c = try up(ws, config: conv, input: Records.jsonl(3))
        #expect(c.status == 4 && c.err.contains("Conv"), "\(c.err)")
        #expect(c.stdout.isEmpty)
    }

    @Test func checkDescribesTheModel() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let r = try pipeline(["check", "-f", cfg])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("making 7 columns"))
        #expect(r.out.contains("input  features: tensor(float) [N, 7]  (fed)"), "\(r.out)")
        #expect(r.out.contains("output probabilities: tensor(float) [N, 2]  (read: 2 columns)"), "\(r.out)")
        #expect(r.out.contains("output label: tensor(int64) [N]"), "\(r.out)")
        #expect(r.out.contains("operators: Gemm×2, Relu×1, Softmax×1, ArgMax×1"), "\(r.out)")
    }

    @Test func emptyInputIsFine() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let r = try up(ws, config: Records.config(), input: "")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.stdout.isEmpty)
    }
}

/// The processes compute exactly what the four stages compute chained in one process.
@Suite struct FusedEquivalenceTests {
    @Test func processesMatchTheFusedPipeline() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let text = Records.config(batchRows: 50) + "\n[stage.infer]\nreplicas = 2\n"
        let cfg = ws.write("pipeline.toml", text)
        let input = Records.jsonl(1234, seed: 3) + "not json\n" + Records.jsonl(10, seed: 4, firstID: 5000)
        let data = ws.write("input", input)
        let run = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: data)
        #expect(run.status == 0, "\(run.err)")
        var fused = try FusedPipeline(config: try PipelineConfig.parse(text: text, path: cfg))
        let (output, rejects) = try Array(input.utf8).withUnsafeBytes { try fused.run(input: $0) }
        #expect(same(run.stdout, Data(output)))
        #expect(rejects.map(\.line) == [1235])
        #expect(run.err.contains("\"line\":1235") && run.err.contains("JSON_SYNTAX"))
    }

    /// Batches are cut by timing (linger, idle input, replays), so a record's output must not
    /// depend on which batch it lands in.
    @Test func outputDoesNotDependOnBatchBoundaries() throws {
        let input = Array(Records.jsonl(1000, seed: 9).utf8)
        var outputs: [[UInt8]] = []
        for rows in [1, 3, 7, 64, 256, 1000] {
            let text = Records.config(batchRows: rows)
            var fused = try FusedPipeline(config: try PipelineConfig.parse(text: text, path: "/tmp/x.toml"))
            outputs.append(try input.withUnsafeBytes { try fused.run(input: $0) }.output)
        }
        #expect(outputs.allSatisfy { $0 == outputs[0] })
    }
}
