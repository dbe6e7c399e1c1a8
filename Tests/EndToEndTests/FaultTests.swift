import Foundation
import Glibc
import Testing

/// Faults injected into real runs: kill -9, SIGSTOP, poison records, crash loops, bad input,
/// slow consumers, `| head`, a dead supervisor, unsafe run directories, protocol garbage.
/// Each compares the output with a fault-free run of the same input.
@Suite(.serialized) struct FaultTests {
    /// A config whose stages may restart often (the faults below are deliberate).
    func config(batchRows: Int = 32, extra: String = "") -> String {
        var text = Records.config(batchRows: batchRows, extra: extra)
        for stage in ["ingest", "featurize", "infer", "aggregate"] {
            text += "\n[stage.\(stage)]\nrestart = { max = 100, within_s = 30 }\n"
        }
        return text
    }

    func reference(_ ws: Workspace, _ cfg: String, _ input: String) throws -> Finished {
        let r = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir + "-ref"], stdinFile: ws.write("ref-input", input))
        #expect(r.status == 0, "\(r.err)")
        return r
    }

    @Test(arguments: ["ingest", "featurize", "infer", "aggregate"])
    func killNineDuringAStreamLosesNothing(stage: String) throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", config())
        let parts = (0..<5).map { Records.jsonl(400, seed: 21 + UInt64($0), firstID: 1 + 400 * $0) }
        let expected = try reference(ws, cfg, parts.joined())
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir])
        var killed: [Int32] = []
        for (i, part) in parts.enumerated() {
            run.write(part)
            if i < 4 {
                #expect(run.waitForLines(400 * i + 1) > 400 * i, "stream moving before kill \(i)")
                #expect(waitUntil { !replicaPids(ws.runDir, stage).isEmpty })
                for pid in replicaPids(ws.runDir, stage) where kill(pid, SIGKILL) == 0 { killed.append(pid) }
            }
        }
        // Reaped while the run goes on: a reaped process leaves /proc; a zombie stays there.
        #expect(waitUntil { killed.allSatisfy { !FileManager.default.fileExists(atPath: "/proc/\($0)") } },
                "every killed replica reaped")
        #expect(zombieChildren(of: run.pid).isEmpty)
        let kills = killed.count
        let result = run.finish()
        #expect(kills >= 4)
        #expect(result.status == 0, "\(result.err)")
        #expect(same(result.stdout, expected.stdout), "byte-identical to the fault-free run")
        let summary = runSummary(result.err)
        #expect(summary != nil && summary == runSummary(expected.err), "summaries count committed batches once: \(result.err)")
        #expect(result.err.contains("restarting it"))
        #expect(processes(mentioning: ws.path).isEmpty)
    }

    /// A replica that sends a frame failing validation (after a valid hello: it is one of ours,
    /// gone wrong) is the one at fault: its receiver drops the connection and goes on, the
    /// supervisor kills and replaces the sender, and what was on the connection comes again.
    // A replica receives the frame garbled by ingest, the sink the one garbled by aggregate
    // (the decisions that follow are the control core's, tested there for every stage).
    @Test(arguments: ["ingest", "aggregate"])
    func aReplicaSendingAnInvalidFrameIsReplaced(stage: String) throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", config())
        let input = Records.jsonl(2000, seed: 41)
        let expected = try reference(ws, cfg, input)
        let result = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.write("input", input),
                                 environment: ["PIPELINE_TEST_GARBLE_ONCE": "\(stage):\(ws.path)/garbled"]).finish()
        #expect(FileManager.default.fileExists(atPath: ws.path + "/garbled"), "a frame was garbled")
        #expect(result.status == 0, "\(result.err)")
        #expect(same(result.stdout, expected.stdout), "byte-identical to the fault-free run")
        #expect(runSummary(result.err) == runSummary(expected.err))
        let blamed = result.err.split(separator: "\n").contains {
            $0.contains("\(stage).1 (pid ") && $0.contains(") sent ") && $0.hasSuffix("a frame that failed validation: killing it")
        }
        #expect(blamed, "\(result.err)")
        #expect(result.err.contains("restarting it"), "\(result.err)")
    }

    @Test func aStoppedReplicaIsKilledAndReplaced() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", config())
        let first = Records.jsonl(300, seed: 31), second = Records.jsonl(300, seed: 32, firstID: 301)
        let expected = try reference(ws, cfg, first + second)
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir],
                              environment: ["PIPELINE_HANG_SECONDS": "1"])
        run.write(first)
        #expect(run.waitForLines(300) == 300)
        let stopped = replicaPids(ws.runDir, "infer")
        #expect(stopped.count == 1)
        for pid in stopped { kill(pid, SIGSTOP) }
        run.write(second)
        let result = run.finish()
        #expect(result.status == 0, "\(result.err)")
        #expect(result.err.contains(/infer\.1 \(pid \d+\) sent no heartbeat for \d+\.\d s: killing it/), "durations with one decimal: \(result.err)")
        #expect(same(result.stdout, expected.stdout))
    }

    // The first stage (its batches cut by the source) and the last (its outputs to the sink);
    // blame and isolation are the control core's, tested there.
    @Test(arguments: ["ingest", "aggregate"])
    func aPoisonRecordBecomesOneErrorLine(stage: String) throws {
        let ws = Workspace()
        defer { ws.remove() }
        // The country travels to the output, so the marker reaches every stage's frames.
        let cfg = ws.write("pipeline.toml", config(batchRows: 64).replacingOccurrences(
            of: "passthrough = [\"id\"]", with: "passthrough = [\"id\", \"country\"]"))
        var lines = Records.jsonl(500, seed: 41).split(separator: "\n").map(String.init)
        lines[76] = lines[76].replacingOccurrences(of: "\"country\":\"", with: "\"country\":\"POISON")
        let input = lines.joined(separator: "\n") + "\n"
        var clean = lines
        clean.remove(at: 76)
        let expected = try reference(ws, cfg, clean.joined(separator: "\n") + "\n")
        let result = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.write("input", input),
                                 environment: ["PIPELINE_TEST_CRASH_ON": "\(stage):POISON"]).finish()
        #expect(result.status == 0, "\(result.err)")
        #expect(same(result.stdout, expected.stdout), "every other record scored, in order")
        let errors = result.err.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(errors.count == 1)
        #expect(errors.first?.contains("\"line\":77,") == true && errors.first?.contains("REPLICA_CRASH") == true)
        #expect(result.err.contains("499 written, 1 rejected (REPLICA_CRASH 1)"))
    }

    /// A record whose output no frame can carry (here: over a limit lowered for the test; 64 MiB
    /// otherwise) fails its batch at the replica that made it; the batch is isolated like a
    /// poison record's, and that record alone becomes an error line.
    @Test func aRecordWhoseOutputIsTooLargeBecomesOneErrorLine() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", config(batchRows: 32).replacingOccurrences(
            of: "passthrough = [\"id\"]", with: "passthrough = [\"id\", \"country\"]"))
        var lines = Records.jsonl(300, seed: 43).split(separator: "\n").map(String.init)
        lines[76] = lines[76].replacingOccurrences(of: "\"country\":\"", with: "\"country\":\"" + String(repeating: "W", count: 40_000))
        let input = lines.joined(separator: "\n") + "\n"
        var clean = lines
        clean.remove(at: 76)
        let expected = try reference(ws, cfg, clean.joined(separator: "\n") + "\n")
        let result = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.write("input", input),
                                 environment: ["PIPELINE_TEST_MAX_FRAME": "aggregate:16384"]).finish()
        #expect(result.status == 0, "\(result.err)")
        #expect(same(result.stdout, expected.stdout), "every other record scored, in order")
        let errors = result.err.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(errors.count == 1 && errors.first?.contains("\"line\":77,") == true && errors.first?.contains("REPLICA_CRASH") == true,
                "\(result.err)")
        #expect(result.err.contains("299 written, 1 rejected (REPLICA_CRASH 1)"), "\(result.err)")
    }

    @Test func aStageThatCannotStartFailsFastWithItsLog() throws {
        let ws = Workspace()
        defer { ws.remove() }
        // The real binaries, but an `infer` that dies at once, as one with a broken model would.
        let bin = ws.path + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for name in ["pipeline", "ingest", "featurize", "aggregate"] {
            try FileManager.default.copyItem(atPath: Paths.binaries + "/" + name, toPath: bin + "/" + name)
        }
        // Written by another process: a file this (threaded) process held open for writing could
        // be inherited by a concurrent fork and make its exec fail with ETXTBSY.
        let script = "#!/bin/sh\necho 'infer: cannot map the model: Input/output error' >&2\nexit 3\n"
        let writer = try Running("/bin/sh", ["-c", "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"", "sh", script, bin + "/infer"])
        #expect(writer.finish().status == 0)
        let cfg = ws.write("pipeline.toml", config())
        let result = try Running(bin + "/pipeline", ["up", "-f", cfg, "--run-dir", ws.runDir],
                                 stdinFile: ws.write("input", Records.jsonl(100))).finish(seconds: 60)
        #expect(result.status == 6, "status \(result.status): \(result.err)")
        #expect(result.err.contains("infer.1 failed to start (exited with status 3)"))
        #expect(result.err.contains("cannot map the model"), "its stderr is shown")
        #expect(processes(mentioning: ws.path).isEmpty)
    }

    @Test func tooManyCrashesFailTheRunNamingTheStage() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config(batchRows: 16, extra: "") + "\n[stage.infer]\nrestart = { max = 2, within_s = 60 }\n")
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir])
        run.write(Records.jsonl(200))
        #expect(run.waitForLines(200) == 200)
        var killed = Set<Int32>()
        for _ in 0..<3 {
            #expect(waitUntil { replicaPids(ws.runDir, "infer").contains { !killed.contains($0) } })
            for pid in replicaPids(ws.runDir, "infer") where !killed.contains(pid) {
                kill(pid, SIGKILL)
                killed.insert(pid)
            }
        }
        // The run fails on its own, its input still open.
        #expect(run.waitForExit(seconds: 30))
        let result = run.finish()
        #expect(result.status == 6, "\(result.err)")
        #expect(result.err.contains("stage infer failed") && result.err.contains("last committed input line 200"), "\(result.err)")
        #expect(result.lines.count == 200, "committed output is flushed")
        #expect(processes(mentioning: ws.path).isEmpty)
    }
}
