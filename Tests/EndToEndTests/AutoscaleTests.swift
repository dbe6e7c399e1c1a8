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
        // At least one more (as many as its demand needs at the target, within the budget).
        #expect(line.contains(#/"stage":"infer","from":1,"to":[2-9]/#) && line.contains("batches wait"), "\(line)")
        #expect(scaled.err.contains(#/\[pipeline\] autoscale: infer 1 → [2-9]: busy /#), "\(scaled.err)")
        #expect(scaled.err.contains("[pipeline] autoscale: `pipeline scale` set the minimum of infer to 3"), "\(scaled.err)")
        let after = log.split(separator: "\n").drop { !$0.contains("\"event\":\"scale_answered\"") }
        let laterInfer = after.filter { $0.contains("\"event\":\"autoscaled\",\"stage\":\"infer\"") }
        let counts = laterInfer.compactMap { $0.firstMatch(of: #/"to":(\d+)/#).flatMap { Int($0.1) } }
        #expect(counts.count == laterInfer.count && counts.allSatisfy { $0 >= 3 }, "never below the floor: \(laterInfer)")

        let fixed = try pipeline(["up", "-f", data + "/tabular-mlp.toml", "--run-dir", ws.runDir], stdinFile: input)
        #expect(fixed.status == 0 && fixed.lines.count == 20000)
        #expect(scaled.stdout == fixed.stdout, "the autoscaled run writes exactly what the fixed one does")
    }

    /// A fast phase, then quiet (stdin open, nothing coming): infer grows, then gives its
    /// replica back once the (short) down window has passed; `ps --json`, `/metrics` and `top`
    /// show the budget and the changes; the output is what a fixed run writes.
    @Test func aQuietPhaseGivesTheReplicaBackAndEveryViewShowsIt() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let data = ws.path + "/data"
        let wrote = try pipeline(["bench", "--write-data", data, "--workload", "tabular-mlp", "--records", "100000"])
        #expect(wrote.status == 0, "\(wrote.err)")
        var config = try String(contentsOfFile: data + "/tabular-mlp.toml", encoding: .utf8)
        // A budget of 4 cores: infer grows whatever else this machine is doing (the budget is
        // the user's word; the test is of the mechanism, not of this machine's load).
        config += "\n[autoscale]\ncores = 4\ninterval_s = 0.25\nscale_up_after_s = 0.5\nscale_down_after_s = 2\n"
        let cfg = ws.write("autoscale.toml", config)
        let events = ws.path + "/events.jsonl"
        func log() -> String { (try? String(contentsOfFile: events, encoding: .utf8)) ?? "" }
        let grown = "\"event\":\"autoscaled\",\"stage\":\"infer\",\"from\":1,\"to\":"
        let shrunk = #/"event":"autoscaled","stage":"infer","from":\d+,"to":1,/#

        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--events", events, "--metrics", "127.0.0.1:0"])
        // The fast phase: records as fast as the pipeline takes them, until infer has grown.
        let records = try Data(contentsOf: URL(fileURLWithPath: data + "/tabular-mlp.jsonl"))
        let lines = records.split(separator: 10, omittingEmptySubsequences: false)
        var sent = 0
        while sent < 100_000 && !log().contains(grown) {
            let chunk = lines[sent..<min(sent + 2000, 100_000)]
            run.write(Data(chunk.joined(separator: [10])) + Data([10]))
            sent += chunk.count
        }
        #expect(log().contains(grown), "infer grew during the fast phase (\(sent) records sent): \(log())")
        // The quiet phase: nothing comes; after the down window, infer goes back to one.
        #expect(waitUntil(seconds: 60) { log().contains(shrunk) }, "\(log())")
        #expect(log().contains("below the 60% target"), "the reason says why")
        // What every view must count: the autoscaler's changes, from the event log.
        let changes = log().split(separator: "\n").filter { $0.contains("\"event\":\"autoscaled\"") }.compactMap { line in
            line.firstMatch(of: #/"stage":"(\w+)","from":(\d+),"to":(\d+)/#).map { (String($0.1), Int($0.2)!, Int($0.3)!) }
        }
        let ups = changes.filter { $0.0 == "infer" && $0.2 > $0.1 }.count, downs = changes.filter { $0.0 == "infer" && $0.2 < $0.1 }.count
        let lastFrom = try #require(changes.last { $0.0 == "infer" }).1
        #expect(ups >= 1 && downs >= 1, "\(changes)")

        // The look after the change says what it sees now: quiet, at the minimum.
        var ps = try pipeline(["ps", "--run-dir", ws.runDir, "--json"])
        func inferAutoscale() -> String? { ps.out.firstMatch(of: #/\{"stage":"infer"[^\]]*?"autoscale":\{([^}]*)\}/#).map { String($0.1) } }
        #expect(waitUntil(seconds: 10) {
            ps = (try? pipeline(["ps", "--run-dir", ws.runDir, "--json"])) ?? ps
            return inferAutoscale()?.contains("ms: no change") == true
        }, "\(ps.out)")
        let reason = try #require(inferAutoscale(), "\(ps.out)")
        #expect(reason.contains("\"min\":1,\"max\":64,\"up\":\(ups),\"down\":\(downs),\"reason\":\"busy 0% of 1, batches wait 0.0 ms: no change\""),
                "quiet, at its minimum: \(reason)")
        #expect(ps.out.contains("\"autoscale\":{\"cores\":4.0}"), "\(ps.out)")
        let text = try pipeline(["ps", "--run-dir", ws.runDir])
        #expect(text.out.contains("autoscale: 4.0 cores, \(changes.count) changes so far"), "\(text.out)")
        let address = try #require(run.stderrText.firstMatch(of: #/metrics on http://([^/]+)/#).map { String($0.1) })
        let metrics = try httpGet(address, "/metrics").body
        #expect(metrics.contains("pipeline_autoscale_cores 4.0"), "\(metrics)")
        #expect(metrics.contains("pipeline_autoscale_changes_total{direction=\"up\",stage=\"infer\"} \(ups)"))
        #expect(metrics.contains("pipeline_autoscale_changes_total{direction=\"down\",stage=\"infer\"} \(downs)"))
        #expect(metrics.contains("pipeline_stage_replicas_desired{stage=\"infer\"} 1"))
        let top = try pipeline(["top", "--once", "--run-dir", ws.runDir])
        #expect(top.out.contains("autoscale 4.0 cores  \(changes.count) changes  last: infer \(lastFrom) -> 1 at "), "\(top.out)")

        run.closeInput()
        let scaled = run.finish()
        #expect(scaled.status == 0, "\(scaled.err)")
        #expect(scaled.lines.count == sent)
        let input = ws.write("sent.jsonl", String(decoding: lines[0..<sent].joined(separator: [10]) + [10], as: UTF8.self))
        let fixed = try pipeline(["up", "-f", data + "/tabular-mlp.toml", "--run-dir", ws.runDir], stdinFile: input)
        #expect(fixed.status == 0 && scaled.stdout == fixed.stdout, "the autoscaled run writes exactly what the fixed one does")
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
