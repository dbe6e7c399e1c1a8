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

    /// An environment whose run-directory root is inside `ws` (`$XDG_RUNTIME_DIR/pipeline/<name>`).
    func privateRoot(_ ws: Workspace) -> [String: String] {
        let xdg = ws.path + "/xdg"
        mkdir(xdg, 0o700)
        return ["XDG_RUNTIME_DIR": xdg]
    }

    /// A config like `Records.config()` naming its pipeline `name`.
    func config(_ ws: Workspace, name: String) -> String {
        ws.write(name + ".toml", Records.config().replacingOccurrences(of: "name = \"e2e\"", with: "name = \"\(name)\""))
    }

    func gone(_ pid: Int32) -> Bool { processGone(pid) }

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

    @Test func lsListsRunningPipelinesAndCommandsFindTheOnlyOne() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let env = privateRoot(ws)
        let root = env["XDG_RUNTIME_DIR"]! + "/pipeline"
        let elsewhere = ws.path + "/elsewhere"
        mkdir(elsewhere, 0o700)
        let one = config(ws, name: "e2e-one"), two = config(ws, name: "e2e-two")

        let nothing = try pipeline(["ps"], environment: env, directory: elsewhere)
        #expect(nothing.status == 8 && nothing.err.contains("no pipeline is running"), "\(nothing.err)")

        let first = try Running(Paths.pipeline, ["up", "-f", one], environment: env)
        defer { kill(first.pid, SIGKILL) }
        first.write(Records.jsonl(50))
        #expect(first.waitForLines(50) == 50, "\(first.stderrText)")
        // From a directory without compose/pipeline.toml: the only running pipeline.
        let ps = try pipeline(["ps"], environment: env, directory: elsewhere)
        #expect(ps.status == 0 && ps.out.contains("infer: 1/1 ready"), "\(ps.out)\(ps.err)")

        let second = try Running(Paths.pipeline, ["up", "-f", two, "--scale", "infer=2"], environment: env)
        defer { kill(second.pid, SIGKILL) }
        second.write(Records.jsonl(50))
        #expect(second.waitForLines(50) == 50, "\(second.stderrText)")

        // Once infer.2 of the second is ready too (its output needs only one).
        var ls = try pipeline(["ls"], environment: env, directory: elsewhere)
        #expect(waitUntil {
            ls = (try? pipeline(["ls"], environment: env, directory: elsewhere)) ?? ls
            return ls.out.contains("infer=2,")
        }, "\(ls.out)")
        #expect(ls.status == 0, "\(ls.err)")
        let rows = ls.lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.first == ["NAME", "PID", "UPTIME", "REPLICAS", "CONFIG", "RUN", "DIR"], "\(ls.out)")
        let listed = rows.dropFirst().sorted { $0[0] < $1[0] }
        #expect(listed.count == 2, "\(ls.out)")
        if listed.count == 2 {
            #expect(listed[0][0] == "e2e-one" && listed[0][1] == "\(first.pid)" && listed[0][4] == one && listed[0][5] == root + "/e2e-one",
                    "\(ls.out)")
            #expect(listed[1][0] == "e2e-two" && listed[1][1] == "\(second.pid)" && listed[1][4] == two && listed[1][5] == root + "/e2e-two",
                    "\(ls.out)")
            #expect(listed[0][3] == "ingest=1,featurize=1,infer=1,aggregate=1" && listed[1][3] == "ingest=1,featurize=1,infer=2,aggregate=1",
                    "\(ls.out)")
            #expect(listed.allSatisfy { $0[2].hasSuffix("s") }, "\(ls.out)")
        }
        let json = try pipeline(["ls", "--json"], environment: env, directory: elsewhere)
        let objects = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [[String: Any]], "\(json.out)")
        #expect(Set(objects.compactMap { $0["name"] as? String }) == ["e2e-one", "e2e-two"], "\(json.out)")
        #expect(objects.allSatisfy { ($0["replicas"] as? [String: Int])?["ingest"] == 1 && $0["config"] is String && $0["pid"] is Int })

        // Two are running: which one is not guessed.
        for command in ["ps", "down", "logs"] {
            let ambiguous = try pipeline([command], environment: env, directory: elsewhere)
            #expect(ambiguous.status == 2 && ambiguous.err.contains(root + "/e2e-one") && ambiguous.err.contains(root + "/e2e-two"),
                    "\(command): \(ambiguous.err)")
        }
        let named = try pipeline(["ps", "-f", two], environment: env, directory: elsewhere)
        #expect(named.status == 0 && named.out.contains("infer: 2/2 ready"), "\(named.out)\(named.err)")

        let downTwo = try pipeline(["down", "--run-dir", root + "/e2e-two"], environment: env, directory: elsewhere)
        #expect(downTwo.status == 0, "\(downTwo.err)")
        #expect(second.finish().status == 0)
        // One left: `logs` and `down` find it.
        let logs = try pipeline(["logs"], environment: env, directory: elsewhere)
        #expect(logs.status == 0 && logs.out.contains("infer.1 | [infer.1] ready"), "\(logs.out)\(logs.err)")
        let down = try pipeline(["down"], environment: env, directory: elsewhere)
        #expect(down.status == 0, "\(down.err)")
        let result = first.finish()
        #expect(result.status == 0 && result.lines.count == 50, "\(result.err)")
        let empty = try pipeline(["ls"], environment: env, directory: elsewhere)
        #expect(empty.status == 0 && empty.lines == ["NAME  PID  UPTIME  REPLICAS  CONFIG  RUN DIR"], "\(empty.out)")
        #expect(processes(mentioning: ws.path).isEmpty)
    }

    @Test func upReadsAndWritesFilesWhenAsked() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let input = ws.write("input.jsonl", Records.jsonl(2000) + "not json\n")
        let reference = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: input)
        #expect(reference.status == 0 && reference.lines.count == 2000, "\(reference.err)")

        // Created or truncated: an older, longer file is replaced.
        let out = ws.write("out.jsonl", String(repeating: "stale\n", count: 100_000))
        let files = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--input", input, "--output", out])
        #expect(files.status == 0 && files.stdout.isEmpty, "\(files.err)")
        #expect(same(try Data(contentsOf: URL(fileURLWithPath: out)), reference.stdout))
        #expect(runSummary(files.err) == runSummary(reference.err) && files.err.contains("JSON_SYNTAX"), "\(files.err)")
        let fresh = ws.path + "/fresh.jsonl"
        let created = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--input=" + input, "--output=" + fresh])
        #expect(created.status == 0, "\(created.err)")
        #expect(same(try Data(contentsOf: URL(fileURLWithPath: fresh)), reference.stdout))

        // What cannot be read or written is said at once: exit 10, like other input errors.
        let missing = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--input", ws.path + "/nope"])
        #expect(missing.status == 10 && missing.err == "pipeline: error: cannot open --input \(ws.path)/nope: No such file or directory\n",
                "\(missing.err)")
        let directory = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--input", ws.path])
        #expect(directory.status == 10 && directory.err.contains("--input \(ws.path): it is a directory"), "\(directory.err)")
        let unwritable = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--input", input, "--output", ws.path + "/no/out"])
        #expect(unwritable.status == 10 && unwritable.err.contains("cannot open --output \(ws.path)/no/out: No such file or directory"),
                "\(unwritable.err)")
        #expect(!FileManager.default.fileExists(atPath: ws.path + "/no"))
        #expect(processes(mentioning: ws.path).isEmpty)
    }

    @Test func upDetachReturnsOnceReadyAndTheRunGoesOn() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let records = Records.jsonl(300)
        let reference = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir + "-ref"], stdinFile: ws.write("input", records))
        // Detached needs both files: it has no terminal.
        for args in [["-d"], ["--detach", "--input", ws.path + "/input"], ["-d", "--output", ws.path + "/out.jsonl"]] {
            let refused = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir] + args)
            #expect(refused.status == 2 && refused.err.contains("needs --input FILE and --output FILE"), "\(args): \(refused.err)")
        }

        // Its input is a FIFO this test writes to: the run lasts as long as the test keeps it open.
        let fifo = ws.path + "/in.fifo", out = ws.path + "/out.jsonl"
        #expect(mkfifo(fifo, 0o600) == 0)
        let up = try pipeline(["up", "-d", "-f", cfg, "--run-dir", ws.runDir, "--input", fifo, "--output", out], seconds: 60)
        #expect(up.status == 0, "\(up.out)\(up.err)")
        let pid = try #require(up.out.firstMatch(of: #/pid (\d+)/#).flatMap { Int32($0.1) }, "\(up.out)")
        defer { kill(pid, SIGKILL) }
        #expect(up.out.contains(ws.runDir) && !gone(pid), "\(up.out)")
        let ps = try pipeline(["ps", "--run-dir", ws.runDir])
        #expect(ps.status == 0 && ps.out.contains("infer: 1/1 ready") && ps.out.contains("aggregate: 1/1 ready"), "\(ps.out)\(ps.err)")

        let writer = open(fifo, O_WRONLY)
        #expect(writer >= 0)
        defer { close(writer) }
        #expect(records.utf8.withContiguousStorageIfAvailable { write(writer, $0.baseAddress, $0.count) } == records.utf8.count)
        #expect(waitUntil { (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n").count == 300 })
        let logs = try pipeline(["logs", "--run-dir", ws.runDir])
        #expect(logs.status == 0 && logs.out.contains("infer.1 | [infer.1] ready"), "\(logs.out)")
        // A second one in the same run directory fails before it is ready: its error and code come back.
        let again = try pipeline(["up", "-d", "-f", cfg, "--run-dir", ws.runDir, "--input", fifo, "--output", ws.path + "/again"])
        #expect(again.status == 7 && again.err.contains("already running") && again.err.contains("pid \(pid)"), "\(again.err)")

        let down = try pipeline(["down", "--run-dir", ws.runDir])
        #expect(down.status == 0, "\(down.out)\(down.err)")
        #expect(waitUntil { gone(pid) })
        #expect(same(try Data(contentsOf: URL(fileURLWithPath: out)), reference.stdout))
        let log = try String(contentsOfFile: ws.runDir + "/logs/pipeline.log", encoding: .utf8)
        #expect(log.contains("300 records read, 300 written, 0 rejected"), "\(log)")

        // One that reads a whole file and ends by itself.
        let whole = ws.path + "/whole.jsonl"
        let finishing = try pipeline(["up", "--detach", "-f", cfg, "--run-dir", ws.runDir, "--input", ws.path + "/input", "--output", whole])
        #expect(finishing.status == 0, "\(finishing.err)")
        let second = try #require(finishing.out.firstMatch(of: #/pid (\d+)/#).flatMap { Int32($0.1) }, "\(finishing.out)")
        #expect(waitUntil { gone(second) })
        #expect(same(try Data(contentsOf: URL(fileURLWithPath: whole)), reference.stdout))

        // A model that cannot be loaded: the supervisor's error and exit code, after it took the run directory.
        let broken = ws.write("broken.toml", Records.config().replacingOccurrences(of: Paths.demoModel, with: ws.path + "/missing.onnx"))
        let failed = try pipeline(["up", "-d", "-f", broken, "--run-dir", ws.runDir, "--input", ws.path + "/input", "--output", whole])
        #expect(failed.status == 4 && failed.err.contains("missing.onnx") && failed.out.isEmpty, "\(failed.out)\(failed.err)")
        #expect(processes(mentioning: ws.path).isEmpty)
    }
}
