import EngineTestSupport
import Foundation
import Glibc
import Testing

/// What a new user trips on, through the real binaries.
@Suite(.serialized) struct NewUserTests {
    /// Zero replicas: refused at start, a deliberate pause when live, said everywhere.
    @Test func zeroReplicasIsAPauseOfARunningPipelineOnly() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let refused = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--scale", "infer=0"])
        #expect(refused.status == 2, "\(refused.err)")
        #expect(refused.err == "pipeline: error: pipeline up: --scale infer=0: every stage needs a replica to start "
                + "(to pause a running pipeline's infer, use `pipeline scale infer=0`)\n")

        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir])
        run.write(Records.jsonl(200))
        #expect(run.waitForLines(200) == 200)
        let pause = try pipeline(["scale", "--run-dir", ws.runDir, "infer=0"])
        #expect(pause.status == 0 && pause.out == "scaled infer: 1 → 0 (paused: batches wait before infer until `pipeline scale infer=N`)\n",
                "\(pause.out)\(pause.err)")
        #expect(run.stderrText.contains("infer paused by `pipeline scale infer=0`"), "\(run.stderrText)")
        run.write(Records.jsonl(200, seed: 2, firstID: 201))
        #expect(waitUntil { (try? pipeline(["ps", "--run-dir", ws.runDir]))?.out.contains("400 records read") == true })
        let ps = try pipeline(["ps", "--run-dir", ws.runDir])
        #expect(ps.out.contains("infer: 0/0 ready (paused: `pipeline scale infer=N` resumes)"), "\(ps.out)")
        let json = try pipeline(["ps", "--run-dir", ws.runDir, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        let stages = try #require(object["stages"] as? [[String: Any]])
        let infer = try #require(stages.first { $0["stage"] as? String == "infer" })
        #expect(infer["paused"] as? Bool == true && infer["desired"] as? Int == 0 && infer["ready"] as? Int == 0)
        #expect(run.lineCount == 200, "nothing passes a paused stage")

        let resume = try pipeline(["scale", "--run-dir", ws.runDir, "infer=1"])
        #expect(resume.status == 0 && resume.out == "scaled infer: 0 → 1\n", "\(resume.out)\(resume.err)")
        let result = run.finish()
        #expect(result.status == 0 && result.lines.count == 400, "\(result.err)")
        #expect(result.err.contains("infer resumed with 1 replica"))
        let events = try String(contentsOfFile: ws.runDir + "/logs/events.log", encoding: .utf8)
        #expect(events.contains("\"event\":\"stage_paused\",\"stage\":\"infer\""), "\(events)")
        #expect(events.contains("\"event\":\"stage_resumed\",\"stage\":\"infer\",\"replicas\":1"))
    }

    /// `ps --json` has what the table has: each stage's ready and desired counts and restarts.
    @Test func psJSONHasEachStage() throws {
        let ws = Workspace()
        defer { ws.remove() }
        var text = Records.config()
        text += "\n[stage.infer]\nrestart = { max = 10, within_s = 30 }\n"
        let cfg = ws.write("pipeline.toml", text)
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--scale", "featurize=2"])
        run.write(Records.jsonl(100))
        #expect(run.waitForLines(100) == 100)
        let killed = replicaPids(ws.runDir, "infer")[0]
        kill(killed, SIGKILL)
        #expect(waitUntil { replicaPids(ws.runDir, "infer").contains { $0 != killed } })
        var stages: [[String: Any]] = []
        #expect(waitUntil {
            guard let json = try? pipeline(["ps", "--run-dir", ws.runDir, "--json"]),
                  let object = try? JSONSerialization.jsonObject(with: json.stdout) as? [String: Any] else { return false }
            stages = object["stages"] as? [[String: Any]] ?? []
            return stages.first { $0["stage"] as? String == "infer" }?["ready"] as? Int == 1
        })
        #expect(stages.map { $0["stage"] as? String } == ["ingest", "featurize", "infer", "aggregate"])
        let featurize = try #require(stages.first { $0["stage"] as? String == "featurize" })
        #expect(featurize["desired"] as? Int == 2 && featurize["paused"] as? Bool == false)
        let infer = try #require(stages.first { $0["stage"] as? String == "infer" })
        #expect(infer["restarts"] as? Int == 1 && infer["restarts_recent"] as? Int == 1 && infer["restart_window_s"] as? Int == 30)
        run.closeInput()
        #expect(run.finish().status == 0)
    }

    /// A header that cannot fill the schema is one error at once; a run that rejects everything fails.
    @Test func runsThatCannotScoreAnythingDoNotExitZero() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let csv = ws.write("csv.toml", Records.config(format: "csv", output: "csv"))
        let badHeader = ws.write("bad.csv", "id,amount,hours,country\n" + Records.csv(300).split(separator: "\n").dropFirst().joined(separator: "\n") + "\n")
        let header = try pipeline(["up", "-f", csv, "--run-dir", ws.runDir], stdinFile: badHeader)
        #expect(header.status == 11, "\(header.err)")
        let lines = header.err.split(separator: "\n")
        #expect(lines.count == 2 && lines[0] == "[pipeline] error: stdin: the CSV header has no column for the required field `hour` "
                + "(header: `id,amount,hours,country`); name the column so, or set `required = false` in [[input.field]]", "\(header.err)")
        #expect(!header.err.contains("MISSING_FIELD"), "no record is rejected one by one")
        #expect(header.out.isEmpty, "not even the CSV output's header: \(header.out)")
        // Read with --input: the message names the file.
        let named = try pipeline(["up", "-f", csv, "--run-dir", ws.runDir, "--input", badHeader])
        #expect(named.status == 11 && named.err.contains("[pipeline] error: \(badHeader): the CSV header has no column"), "\(named.err)")

        // CSV fed to a JSON-lines config: every record rejected.
        let jsonl = ws.write("jsonl.toml", Records.config())
        let input = ws.write("in.csv", Records.csv(300))
        let wrong = try pipeline(["up", "-f", jsonl, "--run-dir", ws.runDir], stdinFile: input)
        #expect(wrong.status == 11 && wrong.out.isEmpty, "\(wrong.err.suffix(500))")
        #expect(wrong.err.contains("[pipeline] error: every record read (301) was rejected: does the input match the config's format (jsonl)"))
        // Said to accept it: max_errors set.
        let allowed = ws.write("allowed.toml", Records.config().replacingOccurrences(of: "[input]\n", with: "[input]\nmax_errors = -1\n"))
        #expect(try pipeline(["up", "-f", allowed, "--run-dir", ws.runDir], stdinFile: input).status == 0)
        // One good record is enough for a run to succeed.
        let mixed = ws.write("mixed.jsonl", "not json\n" + Records.jsonl(1))
        let some = try pipeline(["up", "-f", jsonl, "--run-dir", ws.runDir], stdinFile: mixed)
        #expect(some.status == 0 && some.lines.count == 1, "\(some.err)")
    }

    /// A passthrough field named like an output field, or in CSV like a class's `p_<class>` column,
    /// would write one name twice in every record: refused when the config is loaded (or, for
    /// classes only the model names, once it is), at the passthrough entry, with exit 3.
    @Test func outputNamesThatCollideAreRefused() throws {
        let ws = Workspace()
        defer { ws.remove() }
        func config(passthrough: String, output: String = "jsonl", labels: Bool = true, fields: Bool = true) -> String {
            var text = Records.config(output: output).replacingOccurrences(of: "passthrough = [\"id\"]",
                                                                           with: "passthrough = \(passthrough)")
            for name in ["score", "label", "p_fraud", "p_1"] {
                text = text.replacingOccurrences(of: "[[feature]]\nfield = \"amount\"",
                                                 with: "[[input.field]]\nname = \"\(name)\"\ntype = \"float\"\nrequired = false\n\n"
                                                     + "[[feature]]\nfield = \"amount\"")
            }
            if !labels { text = text.replacingOccurrences(of: "labels = [\"legit\", \"fraud\"]\n", with: "") }
            if !fields { text = text.replacingOccurrences(of: "fields = [\"label\", \"score\", \"probabilities\"]\n", with: "") }
            return text
        }
        func refused(_ text: String, at needle: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let cfg = ws.write("pipeline.toml", text)
            let expected = "pipeline: error: \(cfg):\(position(of: needle, in: text)): \(message)\n"
            let check = try pipeline(["check", "-f", cfg])
            #expect(check.status == 3 && check.err == expected, "\(check.err)", sourceLocation: sourceLocation)
            #expect(check.out.isEmpty, "check says nothing is ok: \(check.out)", sourceLocation: sourceLocation)
        }

        try refused(config(passthrough: "[\"id\", \"score\"]"), at: "\"score\"]",
                    "`output.passthrough[1]` names \"score\", which `output.fields` also writes: each output record would "
                        + "have two \"score\" keys; drop \"score\" from `output.passthrough` or from `output.fields`")
        try refused(config(passthrough: "[\"label\", \"id\"]", output: "csv", fields: false), at: "\"label\", \"id\"]",
                    "`output.passthrough[0]` names \"label\", which `output.fields` also writes (by default: label, score): "
                        + "the CSV header would have two \"label\" columns; drop \"label\" from `output.passthrough`, or set "
                        + "`output.fields` without it")
        try refused(config(passthrough: "[\"id\", \"p_fraud\"]", output: "csv"), at: "\"p_fraud\"]",
                    "`output.passthrough[1]` names \"p_fraud\", the CSV column of the probability of class \"fraud\": "
                        + "the CSV header would have two \"p_fraud\" columns; drop \"p_fraud\" from `output.passthrough`, "
                        + "rename the class in `output.labels`, or drop \"probabilities\" from `output.fields`")
        // Without labels the columns are p_0, p_1: known once the model says how many classes it has.
        try refused(config(passthrough: "[\"id\", \"p_1\"]", output: "csv", labels: false), at: "\"p_1\"]",
                    "`output.passthrough[1]` names \"p_1\", the CSV column of the probability of class 1: "
                        + "the CSV header would have two \"p_1\" columns; drop \"p_1\" from `output.passthrough`, "
                        + "name the classes with `output.labels`, or drop \"probabilities\" from `output.fields`")
        let twice = config(passthrough: "[\"id\", \"id\"]")
        try refused(twice, at: "\"id\"]", "`output.passthrough[1]` repeats \"id\" (first at "
                    + position(of: "[\"id\", \"id\"]", in: twice, offset: 1) + "): each output record would have it twice; "
                    + "list \"id\" once")

        // `up` refuses the same way, before reading anything.
        let cfg = ws.write("score.toml", config(passthrough: "[\"id\", \"score\"]"))
        let input = ws.write("in.jsonl", Records.jsonl(10))
        let up = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: input)
        #expect(up.status == 3 && up.out.isEmpty && up.err.contains("`output.passthrough[1]` names \"score\""), "\(up.err)")
        // A JSON record's "p_fraud" key is no CSV column: nothing collides.
        let json = ws.write("json.toml", config(passthrough: "[\"id\", \"p_fraud\"]"))
        let ok = try pipeline(["up", "-f", json, "--run-dir", ws.runDir], stdinFile: input)
        #expect(ok.status == 0 && ok.lines.count == 10, "\(ok.err)")
    }

    /// A label is written as the class it is: integers as JSON numbers, strings as JSON strings,
    /// whether the config's `labels` name them or the model's classlabels do; the summary counts
    /// classes by those names.
    @Test func labelsKeepTheirType() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let input = ws.write("in.jsonl", Records.jsonl(300))
        let demoLabels = "labels = [\"legit\", \"fraud\"]\n"
        func run(_ text: String, header: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws -> Finished {
            let cfg = ws.write("pipeline.toml", text)
            let result = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: input)
            try #require(result.status == 0 && result.lines.count == (header ? 301 : 300), "\(result.err)",
                         sourceLocation: sourceLocation)
            return result
        }
        /// How many records have each "label", as written (`"legit"`, `0`).
        func labels(_ result: Finished) throws -> [String: Int] {
            var counts: [String: Int] = [:]
            for line in result.lines {
                let match = try #require(line.firstMatch(of: /"label":("[^"]*"|-?[0-9]+),/), "\(line)")
                counts[String(match.1), default: 0] += 1
            }
            return counts
        }
        /// What the summary says after "predicted classes: ".
        func summary(_ result: Finished) -> String {
            result.err.split(separator: "\n").last { $0.contains("predicted classes: ") }
                .map { String($0[$0.range(of: "predicted classes: ")!.upperBound...]) } ?? result.err
        }
        /// The summary expected for `classes` (as written in records) named `names`.
        func expectedSummary(_ counts: [String: Int], _ classes: [String], _ names: [String]) -> String {
            zip(classes, names).map { "\($1): \(counts[$0] ?? 0)" }.joined(separator: ", ")
        }

        // `labels = [0, 1]`: integers.
        let ints = try run(Records.config().replacingOccurrences(of: demoLabels, with: "labels = [0, 1]\n"))
        let intCounts = try labels(ints)
        #expect(Set(intCounts.keys).isSubset(of: ["0", "1"]), "JSON numbers: \(intCounts)")
        #expect(summary(ints) == expectedSummary(intCounts, ["0", "1"], ["0", "1"]), "\(ints.err)")
        // Strings stay strings; the summary names them.
        let strings = try run(Records.config())
        let stringCounts = try labels(strings)
        #expect(Set(stringCounts.keys).isSubset(of: ["\"legit\"", "\"fraud\""]), "\(stringCounts)")
        #expect(summary(strings) == expectedSummary(stringCounts, ["\"legit\"", "\"fraud\""], ["legit", "fraud"]),
                "\(strings.err)")

        // No labels in the config: the model's classes, as the model has them.
        for (attribute, classes) in [(Attr.ints("classlabels_ints", [3, 7]), ["3", "7"]),
                                     (Attr.strings("classlabels_strings", ["cat", "dog"]), ["\"cat\"", "\"dog\""])] {
            // Scores ±(hour - 11.5) / 6.9: both classes come up.
            var coefficients = [Float](repeating: 0, count: 14)
            coefficients[1] = -1
            coefficients[8] = 1
            let classifier = Node(op: "LinearClassifier", inputs: ["x"], outputs: ["label", "probabilities"], name: "lc",
                                  domain: "ai.onnx.ml",
                                  attributes: [.floats("coefficients", coefficients), .floats("intercepts", [0, 0]), attribute,
                                               .string("post_transform", "SOFTMAX")])
            let model = ws.path + "/classes.onnx"
            try Data(ModelBuilder.model(nodes: [classifier], inputs: [("x", ["N", 7])], outputs: ["label", "probabilities"]))
                .write(to: URL(fileURLWithPath: model))
            let text = Records.config().replacingOccurrences(of: demoLabels, with: "")
                .replacingOccurrences(of: Paths.demoModel, with: model)
            let result = try run(text)
            let counts = try labels(result)
            #expect(counts.count == 2 && Set(counts.keys) == Set(classes), "\(counts)")
            let names = classes.map { $0.replacingOccurrences(of: "\"", with: "") }
            #expect(summary(result) == expectedSummary(counts, classes, names), "\(result.err)")
            let csv = try run(text.replacingOccurrences(of: "format = \"jsonl\"\npassthrough", with: "format = \"csv\"\npassthrough"),
                              header: true)
            #expect(csv.lines.first == "id,label,score,p_\(names[0]),p_\(names[1])", "\(csv.lines.first ?? "")")
            #expect(csv.lines.dropFirst().allSatisfy { $0.split(separator: ",")[1] == names[0] || $0.split(separator: ",")[1] == names[1] })
        }
    }
}

/// `line:column` of the first `needle` in `text` (plus `offset` characters), as config errors give it.
private func position(of needle: String, in text: String, offset: Int = 0) -> String {
    guard let range = text.range(of: needle) else { return "?" }
    let before = text[..<range.lowerBound]
    let line = before.split(separator: "\n", omittingEmptySubsequences: false).count
    let lineStart = before.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex
    return "\(line):\(text.unicodeScalars[lineStart..<range.lowerBound].count + 1 + offset)"
}
