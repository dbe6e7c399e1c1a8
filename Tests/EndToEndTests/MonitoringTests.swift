import Foundation
import Glibc
import Testing

/// The event log and the progress line, through the real binaries.
@Suite(.serialized) struct MonitoringEndToEndTests {
    func events(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    @Test func theEventLogRecordsEveryDecisionOfARun() throws {
        let ws = Workspace()
        defer { ws.remove() }
        var text = Records.config(batchRows: 32)
        text += "\n[stage.infer]\nrestart = { max = 10, within_s = 30 }\n"
        let cfg = ws.write("pipeline.toml", text)
        let file = ws.path + "/events.jsonl"
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--events", file])
        run.write(Records.jsonl(200))
        #expect(run.waitForLines(200) == 200)
        let killed = replicaPids(ws.runDir, "infer")[0]
        kill(killed, SIGKILL)
        #expect(waitUntil { replicaPids(ws.runDir, "infer").contains { $0 != killed } })
        let scale = try pipeline(["scale", "--run-dir", ws.runDir, "featurize=2"])
        #expect(scale.status == 0, "\(scale.err)")
        run.write(Records.jsonl(100, seed: 2, firstID: 201))
        let result = run.finish()
        #expect(result.status == 0 && result.lines.count == 300, "\(result.err)")

        let lines = try events(try String(contentsOfFile: file, encoding: .utf8))
        let names = lines.map { $0["event"] as? String ?? "?" }
        #expect(names.first == "run_started" && names.last == "run_finished")
        #expect(lines.allSatisfy { ($0["time"] as? String)?.hasSuffix("Z") == true && $0["uptime_s"] is Double })
        #expect(names.filter { $0 == "replica_started" }.count == 6, "4 at start, infer's replacement, featurize.2: \(names)")
        let exit = lines.first { $0["event"] as? String == "replica_exited" && $0["pid"] as? Int == Int(killed) }
        #expect(exit?["signal"] as? Int == 9 && exit?["expected"] as? Bool == false && exit?["stage"] as? String == "infer")
        #expect(lines.contains { $0["event"] as? String == "restart_scheduled" && $0["stage"] as? String == "infer" })
        #expect(lines.contains { $0["event"] as? String == "scale_requested" && ($0["replicas"] as? [String: Int])?["featurize"] == 2 })
        #expect(lines.contains { $0["event"] as? String == "scale_answered" && $0["exit_code"] as? Int == 0 })
        #expect(lines.contains { $0["event"] as? String == "run_stopping" && $0["exit_code"] as? Int == 0 })
        #expect(names.filter { $0 == "replica_stopping" }.count == 5, "every live replica is told to exit at the end: \(names)")
        let finished = lines.last!
        #expect(finished["exit_code"] as? Int == 0 && finished["records_read"] as? Int == 300 && finished["records_written"] as? Int == 300)
        // The run directory keeps the same log: `pipeline logs events`.
        let logs = try pipeline(["logs", "--run-dir", ws.runDir, "events"])
        let written = try String(contentsOfFile: file, encoding: .utf8)
        #expect(logs.status == 0 && logs.out == written)
    }

    @Test func progressShowsOnlyOnATerminalUnlessAsked() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let input = ws.write("input", Records.jsonl(3000))
        // stderr is a pipe here: no progress line.
        let piped = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: input)
        #expect(piped.status == 0 && !piped.err.contains("\r"), "\(piped.err)")
        // Forced: the line is drawn in place, then erased before the summary.
        let forced = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--progress"], stdinFile: input)
        #expect(forced.status == 0 && forced.err.contains("\r\u{1B}[Kpipeline "), "\(forced.err)")
        #expect(forced.err.contains(#/\r\x1B\[K\[pipeline\] 3000 records read/#), "the summary starts on a clean line")
        #expect(forced.err.contains(#/ \| \d+% /#), "stdin is a file: how much of it is read")
        // On a terminal (a pty from `script`), by default; not with --quiet.
        let tty = try Running("/usr/bin/script", ["-qec", "'\(Paths.pipeline)' up -f '\(cfg)' --run-dir '\(ws.runDir)' < '\(input)' > /dev/null", "/dev/null"]).finish()
        #expect(tty.status == 0 && tty.out.contains("\r\u{1B}[Kpipeline "), "\(tty.out)")
        let quiet = try Running("/usr/bin/script", ["-qec", "'\(Paths.pipeline)' up -f '\(cfg)' --run-dir '\(ws.runDir)' --quiet < '\(input)' > /dev/null", "/dev/null"]).finish()
        #expect(quiet.status == 0 && !quiet.out.contains("\u{1B}[K") && quiet.out.contains("3000 records read"), "\(quiet.out)")
    }

    /// On a terminal, the progress line never runs into what else goes there.
    @Test func progressStaysOffTheRecordsOnTheSameTerminal() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        var text = ""
        for i in 0..<4000 { text += i % 97 == 5 ? "not json \(i)\n" : Records.jsonl(1, seed: UInt64(i + 1), firstID: i + 1) }
        let input = ws.write("input", text)
        // stdout on the terminal too: the records would scroll through the line, so none.
        let both = try Running("/usr/bin/script", ["-qec", "'\(Paths.pipeline)' up -f '\(cfg)' --run-dir '\(ws.runDir)' < '\(input)'", "/dev/null"]).finish()
        #expect(both.status == 0 && both.out.contains("\"id\":17,") && !both.out.contains("\u{1B}[Kpipeline "), "\(both.out.suffix(300))")
        // stdout to a file, rejected records on the terminal: each starts a line of its own.
        let errs = try Running("/usr/bin/script", ["-qec", "'\(Paths.pipeline)' up -f '\(cfg)' --run-dir '\(ws.runDir)' --progress < '\(input)' > /dev/null", "/dev/null"]).finish()
        #expect(errs.status == 0 && errs.out.contains("\u{1B}[Kpipeline "), "\(errs.out.suffix(300))")
        let rejects = errs.out.ranges(of: "{\"line\":")
        #expect(rejects.count == 42)
        for r in rejects {
            let before = errs.out[..<r.lowerBound]
            // (A terminal writes "\r\n" for a line end.)
            #expect(before.utf8.last == 10 || before.hasSuffix("\u{1B}[K"), "glued: \(before.suffix(60))")
        }
    }

    /// A failed event log is named as such, not as lost rejected records.
    @Test func aFailedEventLogIsNamed() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let input = ws.write("input", Records.jsonl(100))
        let run = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--events", "/dev/full"], stdinFile: input)
        #expect(run.status == 10 && run.lines.count == 100, "\(run.err)")
        #expect(run.err.contains("writing the event log to /dev/full failed"), "\(run.err)")
        #expect(!run.err.contains("rejected records could not be written"), "\(run.err)")
        let missing = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--events", ws.path + "/no/such/dir/e.jsonl"], stdinFile: input)
        #expect(missing.status == 2 && missing.err.hasPrefix("pipeline: error: cannot open --events file \(ws.path)/no/such/dir/e.jsonl: "),
                "\(missing.err)")
    }
}
