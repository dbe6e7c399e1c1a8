import Foundation
import Glibc
import Testing

/// Autoscaling through the real binaries: the tabular MLP, whose infer stage is the bottleneck
/// (the more so in a debug build), grows infer on its own, says why, and writes exactly what a
/// fixed run writes.
@Suite(.serialized) struct AutoscaleEndToEndTests {
    @Test func theBottleneckGrowsAndTheOutputIsExactThroughAKill() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let data = ws.path + "/data"
        let wrote = try pipeline(["bench", "--write-data", data, "--workload", "tabular-mlp", "--records", "20000"])
        #expect(wrote.status == 0, "\(wrote.err)")
        var config = try String(contentsOfFile: data + "/tabular-mlp.toml", encoding: .utf8)
        config += "\n[autoscale]\ninterval_s = 0.5\nscale_up_after_s = 1\nscale_down_after_s = 30\n"
        config += "\n[stage.infer]\nrestart = { max = 10, within_s = 30 }\n"
        let cfg = ws.write("autoscale.toml", config)
        let input = data + "/tabular-mlp.jsonl"
        let events = ws.path + "/events.jsonl"

        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--events", events], stdinFile: input)
        #expect(waitUntil(seconds: 60) { (try? String(contentsOfFile: events, encoding: .utf8))?.contains("\"event\":\"autoscaled\"") == true })
        let ps = try pipeline(["ps", "--run-dir", ws.runDir])
        #expect(ps.out.contains("; autoscale: busy "), "\(ps.out)")
        // `pipeline scale` during an autoscaled run sets the stage's minimum.
        let floor = try pipeline(["scale", "--run-dir", ws.runDir, "infer=3"])
        #expect(floor.status == 0, "\(floor.out)\(floor.err)")
        // A kill -9 while autoscaled loses nothing either.
        if let victim = replicaPids(ws.runDir, "infer").max() { kill(victim, SIGKILL) }
        let scaled = run.finish()
        #expect(scaled.status == 0, "\(scaled.err)")
        let log = try String(contentsOfFile: events, encoding: .utf8)
        let line = try #require(log.split(separator: "\n").first { $0.contains("\"event\":\"autoscaled\"") })
        #expect(line.contains("\"stage\":\"infer\",\"from\":1,\"to\":2") && line.contains("batches wait"), "\(line)")
        #expect(scaled.err.contains("[pipeline] autoscale: infer 1 → 2: busy "), "\(scaled.err)")
        #expect(scaled.err.contains("[pipeline] autoscale: `pipeline scale` set the minimum of infer to 3"), "\(scaled.err)")
        let after = log.split(separator: "\n").drop { !$0.contains("\"event\":\"scale_answered\"") }
        let laterInfer = after.filter { $0.contains("\"event\":\"autoscaled\",\"stage\":\"infer\"") }
        let counts = laterInfer.compactMap { $0.firstMatch(of: #/"to":(\d+)/#).flatMap { Int($0.1) } }
        #expect(counts.count == laterInfer.count && counts.allSatisfy { $0 >= 3 }, "never below the floor: \(laterInfer)")

        let fixed = try pipeline(["up", "-f", data + "/tabular-mlp.toml", "--run-dir", ws.runDir], stdinFile: input)
        #expect(fixed.status == 0 && fixed.lines.count == 20000)
        #expect(scaled.stdout == fixed.stdout, "the autoscaled run writes exactly what the fixed one does")
    }

    @Test func theFlagAndTheBoundsAreChecked() throws {
        let ws = Workspace()
        defer { ws.remove() }
        var text = Records.config()
        text += "\n[stage.infer]\nmin_replicas = 3\nmax_replicas = 2\n"
        let cfg = ws.write("bad.toml", text)
        let bad = try pipeline(["check", "-f", cfg])
        #expect(bad.status == 3 && bad.err.contains("`stage.infer.max_replicas` is 2, below min_replicas = 3"), "\(bad.err)")
        let cores = ws.write("cores.toml", Records.config() + "\n[autoscale]\ncores = 0\n")
        let zero = try pipeline(["check", "-f", cores])
        #expect(zero.status == 3 && zero.err.contains("`autoscale.cores` must be from 0.5"), "\(zero.err)")
        // --autoscale with no table: defaults; a small stream just runs.
        let ok = ws.write("ok.toml", Records.config())
        let run = try pipeline(["up", "-f", ok, "--run-dir", ws.runDir, "--autoscale"], stdinFile: ws.write("in", Records.jsonl(300)))
        #expect(run.status == 0 && run.lines.count == 300, "\(run.err)")
    }
}
