import Foundation
import Glibc
import Testing

/// What a docker compose user expects: `logs --follow`, `--tail`, a replica or several stages,
/// the supervisor's events among the logs; `ls`, and commands that find the only running
/// pipeline from any directory; `up --input/--output`, and `up -d`.
@Suite(.serialized) struct ComposeHabitsTests {
    /// The lines of `text` that come from `source` (`infer.2`, `pipeline`).
    func lines(_ text: String, from source: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(source + " | ") }
    }

    /// The sources (`infer.2 | …` → `infer.2`) of `text`'s lines.
    func sources(_ text: String) -> Set<String> {
        Set(text.split(separator: "\n").map { String($0.prefix { $0 != " " }) })
    }

    @Test func logsFollowPrintsNewLinesUntilTheRunEnds() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir])
        defer { kill(run.pid, SIGKILL) }
        run.write(Records.jsonl(100))
        #expect(run.waitForLines(100) == 100)

        // `-f` followed by nothing, or by a stage: follow. Followed by a file: the config.
        let follow = try Running(Paths.pipeline, ["logs", "--run-dir", ws.runDir, "-f"], stdinFile: "/dev/null")
        defer { kill(follow.pid, SIGKILL) }
        let inferOnly = try Running(Paths.pipeline, ["logs", "-f", "infer", "--run-dir", ws.runDir], stdinFile: "/dev/null")
        defer { kill(inferOnly.pid, SIGKILL) }
        #expect(waitUntil { follow.stdoutText.contains("infer.1 | [infer.1] ready") }, "\(follow.stdoutText)\(follow.stderrText)")
        let once = try pipeline(["logs", "-f", cfg, "--run-dir", ws.runDir])
        #expect(once.status == 0 && once.out.contains("infer.1 | [infer.1] ready"), "\(once.out)\(once.err)")

        // A replica started after `logs -f` began: its lines come as it writes them.
        let scale = try pipeline(["scale", "--run-dir", ws.runDir, "infer=2"])
        #expect(scale.status == 0, "\(scale.out)\(scale.err)")
        #expect(waitUntil { follow.stdoutText.contains("infer.2 | [infer.2] ready") }, "\(follow.stdoutText)")
        #expect(waitUntil { inferOnly.stdoutText.contains("infer.2 | [infer.2] ready") }, "\(inferOnly.stdoutText)")
        #expect(waitUntil { follow.stdoutText.contains("pipeline | scale_answered ") }, "\(follow.stdoutText)")
        #expect(!follow.waitForExit(seconds: 0) && !inferOnly.waitForExit(seconds: 0), "both follow while the run goes on")

        run.write(Records.jsonl(100, seed: 2, firstID: 101))
        let result = run.finish()
        #expect(result.status == 0 && result.lines.count == 200, "\(result.err)")
        // The run has ended: so do the followers, after its last lines.
        #expect(follow.waitForExit(seconds: 30) && inferOnly.waitForExit(seconds: 30))
        let followed = follow.finish(), inferFollowed = inferOnly.finish()
        #expect(followed.status == 0 && inferFollowed.status == 0, "\(followed.err)\(inferFollowed.err)")
        #expect(followed.out.contains("infer.2 | [infer.2] stopped after"), "\(followed.out)")
        #expect(lines(followed.out, from: "pipeline").last?.hasPrefix("pipeline | run_finished ") == true, "\(followed.out)")
        #expect(sources(inferFollowed.out) == ["infer.1", "infer.2", "pipeline"], "\(inferFollowed.out)")
        #expect(lines(inferFollowed.out, from: "pipeline").allSatisfy { $0.contains("\"stage\":\"infer\"") }, "\(inferFollowed.out)")
        #expect(processes(mentioning: ws.path).isEmpty)
    }

    @Test func logsSelectReplicasAndStagesTailAndInterleaveTheEvents() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let run = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--scale", "infer=2"],
                               stdinFile: ws.write("input", Records.jsonl(500)))
        #expect(run.status == 0, "\(run.err)")

        let all = try pipeline(["logs", "--run-dir", ws.runDir])
        #expect(all.status == 0 && sources(all.out) == ["pipeline", "ingest.1", "featurize.1", "infer.1", "infer.2", "aggregate.1"],
                "\(all.out)")
        #expect(all.lines.first?.hasPrefix("pipeline | run_started {\"config\":") == true, "\(all.out)")
        #expect(all.lines.last?.hasPrefix("pipeline | run_finished {\"exit_code\":0,") == true, "\(all.out)")

        // Interleaved by time: with the times shown, they never go back, and the supervisor's
        // events stand between the replicas' lines, not before or after them all.
        let stamped = try pipeline(["logs", "--run-dir", ws.runDir, "--timestamps"])
        let times = stamped.lines.map { line in String(line.drop { $0 != "|" }.dropFirst(2).prefix(24)) }
        #expect(times.count == all.lines.count && times.allSatisfy { $0.count == 24 && $0.hasSuffix("Z") && $0.dropFirst(10).first == "T" },
                "\(stamped.out)")
        #expect(times == times.sorted(), "\(stamped.out)")
        let fromPipeline = stamped.lines.map { $0.hasPrefix("pipeline | ") }
        let switches = zip(fromPipeline, fromPipeline.dropFirst()).filter { $0 != $1 }.count
        #expect(switches >= 4, "\(stamped.out)")

        // One replica: its lines and the events about it.
        let one = try pipeline(["logs", "--run-dir", ws.runDir, "infer.2"])
        #expect(one.status == 0 && sources(one.out) == ["infer.2", "pipeline"], "\(one.out)")
        #expect(lines(one.out, from: "infer.2") == lines(all.out, from: "infer.2"))
        #expect(lines(one.out, from: "pipeline").allSatisfy { $0.contains("\"stage\":\"infer\",\"replica\":2,") }, "\(one.out)")
        #expect(lines(one.out, from: "pipeline").contains { $0.hasPrefix("pipeline | replica_exited ") }, "\(one.out)")

        // Several stages.
        let two = try pipeline(["logs", "--run-dir", ws.runDir, "infer", "featurize"])
        #expect(two.status == 0 && sources(two.out) == ["featurize.1", "infer.1", "infer.2", "pipeline"], "\(two.out)")

        // --tail N: the last N lines of each log.
        let tail = try pipeline(["logs", "--run-dir", ws.runDir, "--tail", "1"])
        for source in ["pipeline", "ingest.1", "featurize.1", "infer.1", "infer.2", "aggregate.1"] {
            #expect(lines(tail.out, from: source) == Array(lines(all.out, from: source).suffix(1)), "\(source): \(tail.out)")
        }
        let tailTwo = try pipeline(["logs", "--run-dir", ws.runDir, "--tail=2", "infer.1"])
        #expect(lines(tailTwo.out, from: "infer.1") == Array(lines(all.out, from: "infer.1").suffix(2)), "\(tailTwo.out)")
        #expect(lines(tailTwo.out, from: "pipeline").count == 2, "\(tailTwo.out)")
        let none = try pipeline(["logs", "--run-dir", ws.runDir, "--tail", "0"])
        #expect(none.status == 0 && none.out.isEmpty, "\(none.out)")

        // Mistakes are usage errors.
        for args in [["infer.0"], ["infer.x"], ["nothing"], ["--tail", "-1"], ["--tail"], ["events", "infer"]] {
            let bad = try pipeline(["logs", "--run-dir", ws.runDir] + args)
            #expect(bad.status == 2 && bad.err.hasPrefix("pipeline: error: "), "\(args): \(bad.err)")
        }
    }
}
