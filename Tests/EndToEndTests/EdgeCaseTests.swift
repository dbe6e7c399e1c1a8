import Foundation
import Glibc
import Testing

/// Runs that end early or oddly, oversized input, kills that are not the data's fault, stuck
/// replicas, I/O errors and unsafe parents of the run directory.
@Suite(.serialized) struct EdgeCaseTests {
    func restartable(_ text: String, max: Int = 100) -> String {
        var t = text
        for stage in ["ingest", "featurize", "infer", "aggregate"] {
            t += "\n[stage.\(stage)]\nrestart = { max = \(max), within_s = 60 }\n"
        }
        return t
    }

    @Test func runsThatEndWhileReplicasStartDoNotHang() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let csv = ws.write("csv.toml", Records.config(format: "csv", output: "csv"))
        do {
            let r = try Running(Paths.pipeline, ["up", "-f", csv, "--run-dir", ws.runDir])
            r.write("id,amount,hour,country,is_new_customer\n")
            let done = r.finish(seconds: 30)
            #expect(done.status == 0 && done.out == "id,label,score,p_legit,p_fraud\n", "\(done.status) \(done.err)")
        }
        let jsonl = ws.write("jsonl.toml", Records.config())
        do {
            let r = try Running(Paths.pipeline, ["up", "-f", jsonl, "--run-dir", ws.runDir])
            let done = r.finish(seconds: 30)
            #expect(done.status == 0 && done.stdout.isEmpty, "\(done.status) \(done.err)")
        }
        // `down` as soon as the control socket exists, while the replicas are starting.
        let r = try Running(Paths.pipeline, ["up", "-f", jsonl, "--run-dir", ws.runDir])
        #expect(waitUntil { FileManager.default.fileExists(atPath: ws.runDir + "/control.sock") })
        let down = try pipeline(["down", "--run-dir", ws.runDir], seconds: 30)
        #expect(down.status == 0, "\(down.err)")
        #expect(r.waitForExit(seconds: 30))
        #expect(processes(mentioning: ws.path).isEmpty)
    }

    @Test func largeRecordsAreCutIntoFramesThatFit() throws {
        let ws = Workspace()
        defer { ws.remove() }
        // 250 records of ~300 KB: 75 MB in one batch would exceed the 64 MiB frame limit.
        let text = Records.config(batchRows: 256).replacingOccurrences(of: "linger_ms = 2", with: "linger_ms = 10000")
        let cfg = ws.write("pipeline.toml", text)
        let pad = String(repeating: "p", count: 300_000)
        let input = Records.jsonl(250).split(separator: "\n").map { $0.dropLast() + ",\"pad\":\"\(pad)\"}\n" }.joined()
        let r = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.write("input", input), seconds: 120)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.lines.count == 250)
    }

    /// The state page says when a replica is busy with a batch; a kill from outside then must
    /// not make the batch look poisonous.
    @Test func killsFromOutsideAreNeverBlamedOnTheRecord() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", restartable(Records.config(batchRows: 1).replacingOccurrences(
            of: "[input]\n", with: "[input]\nmax_line_bytes = 16777216\n")))
        // One record with many ignored keys (5 MB): slow enough to parse (a large share of a
        // second, whatever the machine's load) that ingest is caught busy with it.
        var heavy = "{\"id\":1,\"amount\":10.5,\"hour\":3,\"country\":\"US\",\"is_new_customer\":false"
        for k in 0..<400_000 { heavy += ",\"k\(k)\":\(k)" }
        heavy += "}\n"
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir])
        #expect(waitUntil { !replicaPids(ws.runDir, "ingest").isEmpty })
        run.write(heavy)
        var kills = 0
        var seen = Set<Int32>()
        while kills < 2 {
            let caught = waitUntil(seconds: 20) {
                guard let pages = try? FileManager.default.contentsOfDirectory(atPath: ws.runDir) else { return false }
                for page in pages where page.hasPrefix("ingest.") && page.hasSuffix(".state") {
                    if let bytes = FileManager.default.contents(atPath: ws.runDir + "/" + page), bytes.count > 13, bytes[13] == 1,
                       let pid = replicaPids(ws.runDir, "ingest").first(where: { !seen.contains($0) }) {
                        seen.insert(pid)
                        return kill(pid, SIGKILL) == 0
                    }
                }
                return false
            }
            #expect(caught, "an ingest replica was seen busy with the record")
            if !caught { break }
            kills += 1
        }
        let result = run.finish()
        #expect(result.status == 0, "\(result.err)")
        #expect(result.lines.count == 1 && result.lines.first?.hasPrefix("{\"id\":1,") == true, "\(result.err)")
        #expect(!result.err.contains("REPLICA_CRASH"))
    }

    @Test func aSecondSignalForcesAStopEvenWhenStdoutIsBlocked() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let input = ws.write("input", Records.jsonl(60_000))
        // Nobody reads stdout: `sleep` holds the pipe's read end.
        let shell = try Running("/bin/bash", ["-c", "'\(Paths.pipeline)' up -f '\(cfg)' --run-dir '\(ws.runDir)' < '\(input)' | sleep 600"])
        var pid: Int32 = 0
        #expect(waitUntil {
            pid = processes(mentioning: "up -f \(cfg)", executable: Paths.pipeline).first ?? 0
            return pid != 0 && FileManager.default.fileExists(atPath: ws.runDir + "/control.sock")
        })
        kill(pid, SIGTERM)
        // Signals of one kind do not queue: the second must come after the first was handled.
        #expect(waitUntil { shell.stderrText.contains("interrupted") })
        kill(pid, SIGTERM)
        #expect(waitUntil(seconds: 15) { processes(mentioning: "up -f \(cfg)", executable: Paths.pipeline).isEmpty }, "the supervisor ended")
        #expect(waitUntil(seconds: 15) { processes(mentioning: ws.runDir + "/control.sock").isEmpty }, "and its replicas")
        for p in processes(mentioning: "sleep 600") { kill(p, SIGKILL) }
        _ = shell.finish()
    }

    /// The run ends on its own (more rejects than `max_errors`) while nobody reads stdout: the
    /// last of the output cannot be written, and signals must still be heard — the first says it
    /// is finishing, the second ends the run at once, keeping the failure's exit code.
    @Test func signalsAreHeardWhileTheLastOutputWaitsForAStalledStdout() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config().replacingOccurrences(of: "[input]\n", with: "[input]\nmax_errors = 0\n"))
        var lines = Records.jsonl(3000).split(separator: "\n").map(String.init)
        lines.insert("not json", at: 1200)
        let input = ws.write("input", lines.joined(separator: "\n") + "\n")
        let shell = try Running("/bin/bash", ["-c", "'\(Paths.pipeline)' up -f '\(cfg)' --run-dir '\(ws.runDir)' < '\(input)' | sleep 600; exit ${PIPESTATUS[0]}"])
        #expect(waitUntil { shell.stderrText.contains("more than input.max_errors = 0") }, "\(shell.stderrText)")
        let pid = processes(mentioning: "up -f \(cfg)", executable: Paths.pipeline).first ?? 0
        #expect(pid != 0, "still there: the output waits for stdout")
        kill(pid, SIGTERM)
        #expect(waitUntil { shell.stderrText.contains("interrupted while stopping") }, "\(shell.stderrText)")
        kill(pid, SIGTERM)
        #expect(waitUntil(seconds: 15) { processes(mentioning: "up -f \(cfg)", executable: Paths.pipeline).isEmpty }, "the supervisor ended")
        // Its last line may still be on its way through the pipe when the process is gone.
        #expect(waitUntil(seconds: 10) { shell.stderrText.contains("stopped without writing what was still queued") }, "\(shell.stderrText)")
        for p in processes(mentioning: "sleep 600", executable: "sleep") { kill(p, SIGKILL) }  // not bash, whose line says it too
        let result = shell.finish()
        #expect(result.status == 5, "the failure's exit code, not the interrupt's: \(result.err)")
        #expect(processes(mentioning: ws.runDir + "/control.sock").isEmpty)
    }

    @Test func inputAndOutputErrorsExitTen() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let data = ws.write("input", Records.jsonl(2000))
        let dir = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.path)
        #expect(dir.status == 10 && dir.err.contains("reading stdin"), "\(dir.err)")
        func shell(_ command: String) throws -> Finished {
            try Running("/bin/bash", ["-c", "'\(Paths.pipeline)' up -f '\(cfg)' --run-dir '\(ws.runDir)' < '\(data)' \(command)"]).finish()
        }
        let full = try shell("> /dev/full")
        #expect(full.status == 10 && full.err.contains("writing stdout"), "\(full.err)")
        let closed = try shell(">&-")
        #expect(closed.status == 10 && closed.err.contains("stdout is closed"), "\(closed.err)")
        #expect(!FileManager.default.fileExists(atPath: ws.runDir + "/lock") || (try? String(contentsOfFile: ws.runDir + "/lock", encoding: .utf8))?.contains("{") != true)
    }

    @Test func parentsOfTheRunDirectoryMustBeSafe() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let open = ws.path + "/open"
        mkdir(open, 0o777)
        chmod(open, 0o777)
        let a = try pipeline(["up", "-f", cfg, "--run-dir", open + "/run"])
        #expect(a.status == 9 && a.err.contains("not sticky"), "\(a.err)")
        chmod(open, 0o777 | S_ISVTX)
        let sticky = try pipeline(["up", "-f", cfg, "--run-dir", open + "/run"])
        #expect(sticky.status == 0, "a sticky world-writable parent (like /tmp) is fine: \(sticky.err)")
        if getuid() == 0 {
            let foreign = ws.path + "/foreign"
            mkdir(foreign, 0o755)
            chown(foreign, 65534, 65534)
            let b = try pipeline(["up", "-f", cfg, "--run-dir", foreign + "/run"])
            #expect(b.status == 9 && b.err.contains("owned by uid 65534"), "\(b.err)")
        }
    }
}

/// The small faults found by trying to break it: each was wrong before.
@Suite(.serialized) struct SmallFaultTests {
    /// A line of nothing but white space is not a record, however long: it is skipped, not
    /// rejected as too long (read at once or in pieces, the same).
    @Test func aLongBlankLineIsNoRecord() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let records = Records.jsonl(300)
        var lines = records.split(separator: "\n").map(String.init)
        lines.insert(String(repeating: " ", count: 3 << 20) + "\t", at: 100)
        let r = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.write("input", lines.joined(separator: "\n") + "\n"))
        #expect(r.status == 0)
        #expect(r.err.contains("301 records read") == false && r.err.contains("300 records read, 300 written, 0 rejected"), "\(r.err)")
        let expected = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.write("clean", records))
        #expect(same(r.stdout, expected.stdout))
    }

    /// A replica scaled away while it is still starting is told to stop (killed when it does
    /// not); its going, connection reset included, is not an error worth a line, and the scale
    /// requests say what happened.
    @Test func scalingAwayAReplicaThatIsStillStartingIsQuiet() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir],
                              environment: ["PIPELINE_TEST_HOLD_READY": "infer:2", "PIPELINE_STOP_SECONDS": "1"])
        run.write(Records.jsonl(100))
        #expect(run.waitForLines(100) == 100)
        let up = try Running(Paths.pipeline, ["scale", "--run-dir", ws.runDir, "infer=2"], stdinFile: "/dev/null")
        let log = ws.runDir + "/logs/infer.2.log"
        #expect(waitUntil { (try? String(contentsOfFile: log, encoding: .utf8))?.contains("holding back its ready") == true })
        let held = replicaPids(ws.runDir, "infer").max() ?? 0
        let down = try pipeline(["scale", "--run-dir", ws.runDir, "infer=1"])
        #expect(down.status == 0 && down.out.contains("scaled infer: 2 → 1"), "\(down.out)\(down.err)")
        let first = up.finish()
        #expect(first.status == 0 && first.out.contains("then a later request changed it: infer is at 1"), "\(first.out)\(first.err)")
        #expect(waitUntil { kill(held, 0) != 0 }, "the held replica is gone")
        run.write(Records.jsonl(100, seed: 2, firstID: 101))
        let result = run.finish()
        #expect(result.status == 0 && result.lines.count == 200, "\(result.err)")
        // It ignored its shutdown (it reads nothing), so it was killed: the one line about it.
        // Its connection, reset as it died with the shutdown unread, is no error to report.
        let errors = result.err.split(separator: "\n").filter { $0.contains("error") }
        #expect(errors == ["[pipeline] error: infer.2 (pid \(held)) did not stop within 1.0 s: killed"], "\(result.err)")
    }
}
