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
        let csv = ws.write("csv.toml", Records.config(format: "csv"))
        let badHeader = ws.write("bad.csv", "id,amount,hours,country\n" + Records.csv(300).split(separator: "\n").dropFirst().joined(separator: "\n") + "\n")
        let header = try pipeline(["up", "-f", csv, "--run-dir", ws.runDir], stdinFile: badHeader)
        #expect(header.status == 11, "\(header.err)")
        let lines = header.err.split(separator: "\n")
        #expect(lines.count == 2 && lines[0] == "[pipeline] error: stdin: the CSV header has no column for the required field `hour` "
                + "(header: `id,amount,hours,country`); name the column so, or set `required = false` in [[input.field]]", "\(header.err)")
        #expect(!header.err.contains("MISSING_FIELD"), "no record is rejected one by one")

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
}
