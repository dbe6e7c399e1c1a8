import Foundation
import Testing

/// Model rollouts through the real binaries: a stream switched from version v1 to v2 at the
/// line `pipeline rollout` prints, every record scored by the version it names (checked against
/// runs of each version alone, and against onnxruntime by tools/rollout_check.py); the same
/// output through kill -9 storms during the switch; refused rollouts that leave the stream
/// untouched; a canary's share by batch number, identical under replays; a shadow's figures
/// against tools/shadow_check.py; and a version that crashes or cannot load, rolled back.
@Suite(.serialized) struct RolloutTests {
    static let batchRows = 5

    /// The e2e demo config with `model_version` in the output, named version `version` of `model`.
    static func config(version: String = "v1", model: String = Paths.demoModel, extra: String = "") -> String {
        Records.config(batchRows: batchRows, window: 16, extra: extra)
            .replacingOccurrences(of: "fields = [\"label\", \"score\", \"probabilities\"]",
                                  with: "fields = [\"label\", \"score\", \"probabilities\", \"model_version\"]")
            .replacingOccurrences(of: "path = \"\(Paths.demoModel)\"", with: "path = \"\(model)\"\nversion = \"\(version)\"")
    }

    static var modelV2: String { Paths.root + "/models/demo_v2.onnx" }

    /// Writes `records` in pieces of whole batches no larger than PIPE_BUF, so that the pipe never
    /// hands the source part of a piece: every batch is cut whole, the same in every run.
    static func feed(_ run: Running, _ records: [Substring]) {
        var i = 0
        while i < records.count {
            let piece = records[i..<min(i + 6 * batchRows, records.count)].joined(separator: "\n") + "\n"
            precondition(piece.utf8.count <= 4096, "a piece larger than PIPE_BUF")
            run.write(piece)
            i += 6 * batchRows
        }
    }

    static func lines(_ text: String) -> [Substring] { text.split(separator: "\n") }

    /// A run of `config` whose input is `records`, with `step` run once the first `at` records are written out.
    static func run(_ ws: Workspace, config: String, records: [Substring], at: Int, environment: [String: String] = [:],
                    step: (Running) throws -> Void) throws -> Finished {
        let run = try Running(Paths.pipeline, ["up", "-f", config, "--run-dir", ws.runDir, "--events", ws.path + "/events.jsonl"],
                              environment: ["PIPELINE_HANG_SECONDS": "30"].merging(environment) { $1 })
        feed(run, Array(records[..<at]))
        #expect(run.waitForLines(at) == at, "the first \(at) records written")
        #expect(waitUntil { (try? pipeline(["ps", "--run-dir", ws.runDir]))?.status == 0 }, "the pipeline is up")
        try step(run)
        feed(run, Array(records[at...]))
        run.closeInput()
        return run.finish()
    }

    static func events(_ ws: Workspace, _ kind: String) throws -> [[String: Any]] {
        try String(contentsOfFile: ws.path + "/events.jsonl", encoding: .utf8).split(separator: "\n").compactMap { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["event"] as? String == kind else { return nil }
            return object
        }
    }

    static func python(_ arguments: [String]) throws -> Finished? {
        let probe = try Running("/usr/bin/env", ["python3", "-c", "import numpy, onnxruntime"], stdinFile: "/dev/null").finish()
        guard probe.status == 0 else {
            print("note: python3 with numpy and onnxruntime not found: the onnxruntime check was skipped")
            return nil
        }
        return try Running("/usr/bin/env", ["python3"] + arguments, stdinFile: "/dev/null").finish()
    }

    @Test func aCutoverSwitchesAtTheLineItPrintsAndEachSideIsItsVersionsOwnOutput() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let a = ws.write("a.toml", Self.config(extra: "\n[stage.featurize]\nreplicas = 2\n[stage.infer]\nreplicas = 2\n"))
        let b = ws.write("b.toml", Self.config(version: "v2", model: Self.modelV2))
        let text = Records.jsonl(2_000, seed: 3)
        let input = ws.write("in.jsonl", text)
        let records = Self.lines(text)
        let onlyA = try pipeline(["up", "-f", a, "--run-dir", ws.runDir], stdinFile: input)
        let onlyB = try pipeline(["up", "-f", b, "--run-dir", ws.runDir], stdinFile: input)
        #expect(onlyA.status == 0 && onlyB.status == 0, "\(onlyA.err)\(onlyB.err)")

        var reply = Finished(status: -1, stdout: Data(), stderr: Data())
        let result = try Self.run(ws, config: a, records: records, at: 1_000) { _ in
            reply = try pipeline(["rollout", "--run-dir", ws.runDir, b])
        }
        #expect(reply.status == 0, "\(reply.err)")
        #expect(reply.out == "rolled out v2: every record from input line 1001 on is scored by v2; before it, v1\n", "\(reply.out)")
        #expect(result.status == 0, "\(result.err)")
        #expect(result.lines.count == 2_000)
        #expect(Array(result.lines[..<1_000]) == Array(onlyA.lines[..<1_000]), "before line 1001: v1's own output")
        #expect(Array(result.lines[1_000...]) == Array(onlyB.lines[1_000...]), "from line 1001: v2's own output")
        #expect(result.lines[999].hasSuffix("\"model_version\":\"v1\"}") && result.lines[1_000].hasSuffix("\"model_version\":\"v2\"}"))
        #expect(Array(result.lines[..<1_000]) != Array(onlyB.lines[..<1_000]), "the two versions score differently")
        let steps = try Self.events(ws, "rollout").map { $0["step"] as? String }
        #expect(steps == ["loading", "switched"])
        #expect(result.err.contains("rollout: rolled out v2: every record from input line 1001 on"), "\(result.err)")

        let output = ws.write("out.jsonl", result.out)
        if let check = try Self.python([Paths.root + "/tools/rollout_check.py", "--config", a, "--new", b, "--input", input,
                                        "--output", output, "--old-version", "v1", "--new-version", "v2", "--line", "1001", "--json"]) {
            #expect(check.status == 0, "\(check.out)\(check.err)")
            #expect(check.out.contains("\"records\": 2000"), "\(check.out)")
        }
    }

    /// The rollout is asked for while 1000 records are on their way (batches of v1 in flight), and
    /// every featurize, infer and aggregate replica is killed with -9 while v2 loads, at the
    /// switch and after it: each side of the line `rollout` prints is still its version's own output.
    @Test func killNineStormsDuringTheSwitchChangeNothing() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let restart = "\n[stage.featurize.restart]\nmax = 100\n[stage.infer.restart]\nmax = 100\n[stage.aggregate.restart]\nmax = 100\n"
        let a = ws.write("a.toml", Self.config(extra: "\n[stage.infer]\nreplicas = 2\n" + restart))
        let b = ws.write("b.toml", Self.config(version: "v2", model: Self.modelV2))
        let text = Records.jsonl(3_000, seed: 4)
        let input = ws.write("in.jsonl", text)
        let records = Self.lines(text)
        let onlyA = try pipeline(["up", "-f", a, "--run-dir", ws.runDir], stdinFile: input)
        let onlyB = try pipeline(["up", "-f", b, "--run-dir", ws.runDir], stdinFile: input)
        var kills = 0
        func storm() {
            for stage in ["featurize", "infer", "aggregate"] {
                #expect(waitUntil { !replicaPids(ws.runDir, stage).isEmpty }, "\(stage) replaced")
                for pid in replicaPids(ws.runDir, stage) where kill(pid, SIGKILL) == 0 { kills += 1 }
            }
        }
        var line = 0
        let stormed = try Self.run(ws, config: a, records: records, at: 200) { run in
            Self.feed(run, Array(records[200..<1_200]))
            let rollout = try Running(Paths.pipeline, ["rollout", "--run-dir", ws.runDir, b], stdinFile: "/dev/null")
            storm()
            let reply = rollout.finish()
            #expect(reply.status == 0, "\(reply.out)\(reply.err)")
            line = Int(reply.out.firstMatch(of: /from input line (\d+) on/).map { String($0.1) } ?? "") ?? 0
            storm()
            Self.feed(run, Array(records[1_200..<2_000]))
            storm()
            // What the run reads after this step: lines 201 on once more (see below).
        }
        #expect(stormed.status == 0, "\(stormed.err)")
        #expect(kills >= 9, "\(kills) kills")
        #expect(line > 200 && line <= 2_001, "switched at line \(line)")
        // Input lines: 1–200, 201–1200, 1201–2000 (the step), then 201–3000 again (`run`'s last feed):
        // 3800 records; the switch is somewhere in the first 2000.
        let expected = Array(onlyA.lines[..<(line - 1)]) + Array(onlyB.lines[(line - 1)..<2_000]) + Array(onlyB.lines[200...])
        #expect(stormed.lines.count == expected.count)
        #expect(stormed.lines == expected, "each side of line \(line) is its version's own output")
    }

    /// A canary promoted, and one aborted: from the line each prints, every record is the promoted
    /// version's, or the live one's.
    @Test func aCanaryPromotedOrAbortedHoldsFromTheLineItPrints() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let a = ws.write("a.toml", Self.config())
        let b = ws.write("b.toml", Self.config(version: "v2", model: Self.modelV2))
        let records = Self.lines(Records.jsonl(2_000, seed: 10))
        for (option, keeps) in [("--promote", "v2"), ("--abort", "v1")] {
            var reply = ""
            let result = try Self.run(ws, config: a, records: records, at: 0) { run in
                let started = try pipeline(["rollout", "--run-dir", ws.runDir, b, "--canary", "50"])
                #expect(started.status == 0, "\(started.err)")
                Self.feed(run, Array(records[..<1_000]))
                #expect(run.waitForLines(1_000) == 1_000)
                let answer = try pipeline(["rollout", "--run-dir", ws.runDir, option])
                #expect(answer.status == 0, "\(answer.err)")
                reply = answer.out
            }
            #expect(result.status == 0, "\(result.err)")
            #expect(reply.contains("every record from input line 1001 on is scored by \(keeps)"), "\(reply)")
            let before = result.lines[..<1_000], after = result.lines[1_000..<3_000]
            #expect(before.contains { $0.hasSuffix("\"v1\"}") } && before.contains { $0.hasSuffix("\"v2\"}") }, "the canary mixed both")
            #expect(after.allSatisfy { $0.hasSuffix("\"\(keeps)\"}") }, "after \(option): all \(keeps)")
        }
    }

    /// After the switch a featurize replica is lost and its replacement cannot start with v2:
    /// rolled back to v1, which the next replacement starts with.
    @Test func aReplicaThatCannotStartWithTheNewVersionRollsItBack() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let a = ws.write("a.toml", Self.config())
        let b = ws.write("b.toml", Self.config(version: "v2", model: Self.modelV2))
        let text = Records.jsonl(1_000, seed: 11)
        let input = ws.write("in.jsonl", text)
        let onlyA = try pipeline(["up", "-f", a, "--run-dir", ws.runDir], stdinFile: input)
        let result = try Self.run(ws, config: a, records: Self.lines(text), at: 300, environment: ["PIPELINE_TEST_FAIL_VERSION": "featurize:v2@start"]) { _ in
            let reply = try pipeline(["rollout", "--run-dir", ws.runDir, b])
            #expect(reply.status == 0, "\(reply.err)")
            for pid in replicaPids(ws.runDir, "featurize") { kill(pid, SIGKILL) }
            #expect(waitUntil { (try? String(contentsOfFile: ws.path + "/events.jsonl", encoding: .utf8))?.contains("\"rolled_back\"") == true })
        }
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out == onlyA.out, "every record v1's")
        #expect(result.err.contains("rollout: rolled back from v2 to v1 (featurize."), "\(result.err)")
    }

    @Test func refusedRolloutsLeaveTheStreamUntouched() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let a = ws.write("a.toml", Self.config())
        // Six feature columns for a model that takes seven.
        let narrow = ws.write("narrow.toml", Self.config(version: "v2", model: Self.modelV2)
            .replacingOccurrences(of: "[[feature]]\nfield = \"is_new_customer\"\nkind = \"identity\"\n", with: ""))
        // Another [input]: hour read as a float.
        let otherInput = ws.write("other.toml", Self.config(version: "v2", model: Self.modelV2)
            .replacingOccurrences(of: "name = \"hour\"\ntype = \"int\"", with: "name = \"hour\"\ntype = \"float\""))
        // CSV rows in the middle of a JSON-lines output.
        let otherFormat = ws.write("csv.toml", Self.config(version: "v2", model: Self.modelV2)
            .replacingOccurrences(of: "format = \"jsonl\"\npassthrough", with: "format = \"csv\"\npassthrough"))
        let text = Records.jsonl(600, seed: 5)
        let input = ws.write("in.jsonl", text)
        let onlyA = try pipeline(["up", "-f", a, "--run-dir", ws.runDir], stdinFile: input)
        var replies: [Finished] = []
        var caches: [[String]] = []
        func weightFiles() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: ws.runDir)) ?? []).filter { $0.hasPrefix("infer-weights-") }.sorted()
        }
        let result = try Self.run(ws, config: a, records: Self.lines(text), at: 300) { _ in
            caches.append(weightFiles())
            for target in [narrow, otherInput, ws.path + "/missing.onnx", otherFormat] {
                replies.append(try pipeline(["rollout", "--run-dir", ws.runDir, target]))
            }
            caches.append(weightFiles())
        }
        // v2's weights were prepared for the narrow config before its width was refused: gone.
        #expect(caches.count == 2 && caches[0] == caches[1], "\(caches)")
        #expect(replies.map(\.status) == [3, 3, 4, 3], "\(replies.map(\.status))")
        #expect(replies.allSatisfy { $0.out.isEmpty })
        #expect(replies[0].err.contains("rollout refused: the features make 6 columns per record") && replies[0].err.contains("takes 7"), "\(replies[0].err)")
        #expect(replies[1].err.contains("its [input] must be the running config's: input field `hour` is float in the new config, int in the running one"), "\(replies[1].err)")
        #expect(replies[2].err.contains("rollout refused") && replies[2].err.contains("missing.onnx"), "\(replies[2].err)")
        #expect(replies[3].err.contains("[output] format is \"csv\" in the new config, \"jsonl\" in the running one"), "\(replies[3].err)")
        #expect(replies.allSatisfy { $0.err.hasPrefix("pipeline: error: rollout refused: ") && $0.err.contains("goes on untouched with v1") })
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out == onlyA.out, "the stream went on untouched")
        let refused = try Self.events(ws, "rollout").filter { $0["step"] as? String == "refused" }
        #expect(refused.count >= 3)
    }

    /// 1000 batches, 10 % to the canary: exactly 100 of them (by batch number), and the same
    /// records scored by the same versions when replicas are killed meanwhile.
    @Test func aCanaryScoresItsShareByBatchNumberEvenUnderReplays() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let restart = "\n[stage.featurize.restart]\nmax = 100\n[stage.infer.restart]\nmax = 100\n[stage.aggregate.restart]\nmax = 100\n"
        let a = ws.write("a.toml", Self.config(extra: restart))
        let b = ws.write("b.toml", Self.config(version: "v2", model: Self.modelV2))
        let records = Self.lines(Records.jsonl(5_000, seed: 6))
        var reply = ""
        let clean = try Self.run(ws, config: a, records: records, at: 0) { _ in
            reply = try pipeline(["rollout", "--run-dir", ws.runDir, b, "--canary", "10"]).out
        }
        #expect(reply.contains("canary v2 started at input line 1: it scores 10 % of the batches"), "\(reply)")
        #expect(clean.status == 0, "\(clean.err)")
        let versions = clean.lines.map { $0.hasSuffix("\"v2\"}") ? 1 : 0 }
        #expect(versions.count == 5_000)
        // Per batch of 5 records: one version each, and exactly every tenth batch is the canary's.
        let batches = stride(from: 0, to: 5_000, by: Self.batchRows).map { Set(versions[$0..<($0 + Self.batchRows)]) }
        #expect(batches.allSatisfy { $0.count == 1 }, "a batch is scored by one version")
        let canary = batches.enumerated().filter { $0.element == [1] }.map(\.offset)
        #expect(canary.count == 100 && canary == Array(stride(from: 9, to: 1_000, by: 10)), "\(canary.prefix(12))")

        var kills = 0
        let stormed = try Self.run(ws, config: a, records: records, at: 0) { run in
            let reply = try pipeline(["rollout", "--run-dir", ws.runDir, b, "--canary", "10"])
            #expect(reply.status == 0, "\(reply.err)")
            Self.feed(run, Array(records[..<2_500]))
            for stage in ["featurize", "infer", "aggregate"] {
                for pid in replicaPids(ws.runDir, stage) where kill(pid, SIGKILL) == 0 { kills += 1 }
            }
        }
        #expect(stormed.status == 0, "\(stormed.err)")
        #expect(kills >= 3)
        #expect(Array(stormed.lines[..<2_500]) == Array(clean.lines[..<2_500]), "replays keep each batch's version")
        #expect(Array(stormed.lines[2_500...]) == Array(clean.lines), "(then the whole input again, batch numbers going on: 500 is a multiple of 10)")
    }

    @Test func aShadowsFiguresAreWhatPythonComputesOnTheSameRecords() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let a = ws.write("a.toml", Self.config(extra: "\n[stage.aggregate]\nreplicas = 2\n[metrics]\nlisten = \"127.0.0.1:0\"\n"))
        let text = Records.jsonl(3_000, seed: 7)
        let input = ws.write("in.jsonl", text)
        let onlyA = try pipeline(["up", "-f", a, "--run-dir", ws.runDir], stdinFile: input)
        var ps = "", metrics = ""
        let result = try Self.run(ws, config: a, records: Self.lines(text), at: 500) { run in
            let reply = try pipeline(["rollout", "--run-dir", ws.runDir, Self.modelV2, "--shadow"])
            #expect(reply.status == 0 && reply.out.contains("shadow 574b9f2ab86c started at input line 501"), "\(reply.out)\(reply.err)")
            Self.feed(run, Array(Self.lines(text)[500...]))
            #expect(run.waitForLines(3_000) == 3_000)
            #expect(waitUntil { (try? pipeline(["ps", "--run-dir", ws.runDir]))?.out.contains("shadow 574b9f2ab86c: 2500 records compared") == true })
            ps = try pipeline(["ps", "--run-dir", ws.runDir]).out
            let address = try #require(run.stderrText.firstMatch(of: #/metrics on http://([0-9.]+:[0-9]+)/metrics/#).map { String($0.1) })
            metrics = try httpGet(address, "/metrics").body
            #expect(try pipeline(["rollout", "--run-dir", ws.runDir, "--abort"]).status == 0)
        }
        #expect(result.status == 0, "\(result.err)")
        // The shadow wrote nothing: the output is v1's alone (lines 501… fed twice).
        #expect(Array(result.lines[..<3_000]) == onlyA.lines && Array(result.lines[3_000...]) == Array(onlyA.lines[500...]))
        #expect(ps.contains("versions: v1 primary") && ps.contains("574b9f2ab86c shadow"), "\(ps)")
        #expect(metrics.contains("pipeline_shadow_records_total{version=\"574b9f2ab86c\"} 2500"), "\(metrics)")
        #expect(metrics.contains("pipeline_model_version_info{version=\"v1\",role=\"primary\"} 1") || metrics.contains("pipeline_model_version_info{role=\"primary\",version=\"v1\"} 1"), "\(metrics)")
        let shadow = try #require(try Self.events(ws, "shadow").last)
        #expect(shadow["final"] as? Bool == true && shadow["records"] as? Int == 2_500)
        if let check = try Self.python([Paths.root + "/tools/shadow_check.py", "--config", a, "--new", Self.modelV2, "--input", input,
                                        "--skip-lines", "500", "--json"]) {
            #expect(check.status == 0, "\(check.err)")
            let figures = try #require(try JSONSerialization.jsonObject(with: check.stdout) as? [String: Any])
            #expect(figures["records"] as? Int == 2_500)
            #expect(figures["label_disagreements"] as? Int == shadow["label_disagreements"] as? Int, "\(figures) vs \(shadow)")
            let ours = try #require(shadow["max_probability_difference"] as? Double), theirs = try #require(figures["max_probability_difference"] as? Double)
            #expect(abs(ours - theirs) < 1e-6, "\(ours) vs \(theirs)")
            let oursMean = try #require(shadow["mean_max_probability_difference"] as? Double)
            let theirsMean = try #require(figures["mean_max_probability_difference"] as? Double)
            #expect(abs(oursMean - theirsMean) < 1e-6, "\(oursMean) vs \(theirsMean)")
        }
    }

    /// A new version whose replicas crash on its batches: rolled back past restart.max, the
    /// batches it held scored again by v1, nothing lost or rejected.
    @Test func aVersionThatCrashesIsRolledBackAndItsBatchesRescored() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let a = ws.write("a.toml", Self.config(extra: "\n[stage.infer.restart]\nmax = 2\nwithin_s = 60\n"))
        let b = ws.write("b.toml", Self.config(version: "v2", model: Self.modelV2))
        let text = Records.jsonl(1_500, seed: 8)
        let input = ws.write("in.jsonl", text)
        let onlyA = try pipeline(["up", "-f", a, "--run-dir", ws.runDir], stdinFile: input)
        var reply = Finished(status: -1, stdout: Data(), stderr: Data())
        let result = try Self.run(ws, config: a, records: Self.lines(text), at: 500, environment: ["PIPELINE_TEST_CRASH_VERSION": "infer:v2"]) { _ in
            reply = try pipeline(["rollout", "--run-dir", ws.runDir, b])
        }
        #expect(reply.status == 0, "the switch itself happened: \(reply.err)")
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out == onlyA.out, "every record scored by v1 in the end, none lost, none twice")
        #expect(result.err.contains("rollout: rolled back from v2 to v1 (infer replicas crashed 3 times on its batches within 60.0 s (restart.max 2))"), "\(result.err)")
        #expect(!result.err.contains("REPLICA_CRASH"))
        let steps = try Self.events(ws, "rollout").map { $0["step"] as? String }
        #expect(steps == ["loading", "switched", "rolled_back"], "\(steps)")
    }

    /// The live model with `precision = "int8"`, shadowed: the same file, so the same sha prefix,
    /// with a suffix for what differs; its figures are int8's cost on live records.
    @Test func anInt8ShadowOfTheLiveModelIsAVersionOfItsOwn() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let unnamed = Self.config().replacingOccurrences(of: "\nversion = \"v1\"", with: "")
        let a = ws.write("a.toml", unnamed)
        let q = ws.write("q.toml", unnamed.replacingOccurrences(of: "[model]\n", with: "[model]\nprecision = \"int8\"\n"))
        let same = ws.write("same.toml", unnamed)
        let records = Self.lines(Records.jsonl(1_000, seed: 12))
        var replies: [Finished] = []
        let result = try Self.run(ws, config: a, records: records, at: 0) { run in
            replies.append(try pipeline(["rollout", "--run-dir", ws.runDir, same, "--shadow"]))
            replies.append(try pipeline(["rollout", "--run-dir", ws.runDir, q, "--shadow"]))
            Self.feed(run, Array(records))
            #expect(run.waitForLines(1_000) == 1_000)
            replies.append(try pipeline(["rollout", "--run-dir", ws.runDir, "--abort"]))
        }
        #expect(result.status == 0, "\(result.err)")
        #expect(replies[0].status == 2 && replies[0].err.contains("version aadff3884d0b is already the live version"), "\(replies[0].err)")
        #expect(replies[1].status == 0 && replies[1].out.contains(/^shadow aadff3884d0b-[0-9a-f]{6} started at input line 1:/), "\(replies[1].out)")
        let shadow = try #require(try Self.events(ws, "shadow").last)
        #expect(shadow["records"] as? Int == 1_000)
        let largest = try #require(shadow["max_probability_difference"] as? Double)
        #expect(largest > 0 && largest < 0.05, "int8 moves the probabilities a little: \(largest)")
    }

    /// Months of rollouts leave only the live versions' weights in the run directory (a pod's
    /// memory): a version that retires takes its weight cache with it, the one kept for a
    /// rollback keeps its own.
    @Test func aRetiredVersionTakesItsWeightCacheWithIt() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let a = ws.write("a.toml", Self.config())
        let b = ws.write("b.toml", Self.config(version: "v2", model: Self.modelV2))
        let c = ws.write("c.toml", Self.config(version: "v3").replacingOccurrences(of: "[model]\n", with: "[model]\nprecision = \"int8\"\n"))
        let records = Self.lines(Records.jsonl(600, seed: 13))
        func caches() -> Set<String> {
            Set(((try? FileManager.default.contentsOfDirectory(atPath: ws.runDir)) ?? []).filter { $0.hasPrefix("infer-weights-") && $0.hasSuffix(".cache") })
        }
        let run = try Running(Paths.pipeline, ["up", "-f", a, "--run-dir", ws.runDir], environment: ["PIPELINE_HANG_SECONDS": "30"])
        defer { _ = run.finish() }
        Self.feed(run, Array(records[..<200]))
        #expect(run.waitForLines(200) == 200)
        let v1 = caches()
        #expect(v1.count == 1, "\(v1)")
        #expect(try pipeline(["rollout", "--run-dir", ws.runDir, b]).status == 0)
        Self.feed(run, Array(records[200..<400]))
        #expect(run.waitForLines(400) == 400)
        let v2 = caches().subtracting(v1)
        #expect(v2.count == 1, "\(caches())")
        #expect(try pipeline(["rollout", "--run-dir", ws.runDir, c]).status == 0)
        Self.feed(run, Array(records[400...]))
        #expect(run.waitForLines(600) == 600)
        // v1's batches are all written: it retires; v2 stays loaded for a rollback.
        #expect(waitUntil { caches().count == 2 && caches().isDisjoint(with: v1) }, "\(caches())")
        #expect(caches().isSuperset(of: v2))
        #expect(waitUntil { run.stderrText.contains("rollout: version v1 retired") && run.stderrText.contains("the weights of model versions no longer live") },
                "\(run.stderrText)")
        run.closeInput()
        let done = run.finish()
        #expect(done.status == 0, "\(done.err)")
        #expect(Set(done.lines.suffix(100).compactMap { $0.firstMatch(of: /"model_version":"(v\d)"/).map { String($0.1) } }) == ["v3"])
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: ws.runDir)) ?? []).filter { $0.hasPrefix("infer-weights-") }
        #expect(left.isEmpty, "the run's end removes the rest: \(left)")
    }

    /// A replica builds a new version in its own loop, sending no heartbeat meanwhile; one that
    /// takes longer than the heartbeat limit (`PIPELINE_TEST_SLOW_VERSION`: 4 s, the limit 2 s)
    /// is not killed as hung, and the rollout goes through.
    @Test func aReplicaSlowToBuildTheVersionIsNotKilled() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let a = ws.write("a.toml", Self.config())
        let b = ws.write("b.toml", Self.config(version: "v2", model: Self.modelV2))
        let records = Self.lines(Records.jsonl(300, seed: 14))
        var reply = Finished(status: -1, stdout: Data(), stderr: Data())
        let result = try Self.run(ws, config: a, records: records, at: 100,
                                  environment: ["PIPELINE_HANG_SECONDS": "2", "PIPELINE_TEST_SLOW_VERSION": "infer:v2@4"]) { _ in
            reply = try pipeline(["rollout", "--run-dir", ws.runDir, b])
        }
        #expect(reply.status == 0 && reply.out.contains("rolled out v2"), "\(reply.err)")
        #expect(result.status == 0, "\(result.err)")
        #expect(!result.err.contains("killing it"), "\(result.err)")
        #expect(try Self.events(ws, "replica_killed").isEmpty)
        #expect(result.lines.count == 300 && result.lines.last?.hasSuffix("\"model_version\":\"v2\"}") == true)
    }

    @Test func aVersionTheReplicasCannotLoadIsRefused() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let a = ws.write("a.toml", Self.config())
        let b = ws.write("b.toml", Self.config(version: "v2", model: Self.modelV2))
        let text = Records.jsonl(400, seed: 9)
        let input = ws.write("in.jsonl", text)
        let onlyA = try pipeline(["up", "-f", a, "--run-dir", ws.runDir], stdinFile: input)
        var reply = Finished(status: -1, stdout: Data(), stderr: Data())
        let result = try Self.run(ws, config: a, records: Self.lines(text), at: 200, environment: ["PIPELINE_TEST_FAIL_VERSION": "aggregate:v2"]) { _ in
            reply = try pipeline(["rollout", "--run-dir", ws.runDir, b])
        }
        #expect(reply.status == 6, "\(reply.status)")
        #expect(reply.err.contains("rollout refused: version v2: aggregate.1 cannot load it: model version v2 made to fail"), "\(reply.err)")
        #expect(result.status == 0 && result.out == onlyA.out, "\(result.err)")
    }
}
