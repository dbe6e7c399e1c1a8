import Config
import Foundation
import Messages
import Testing
@testable import Bench
@testable import PipelineCLI
import PipelineSink
import PipelineSupervisor
@testable import PipelineSource

@Suite struct CommandLineTests {
    @Test func upWithScalesAndTarget() throws {
        let command = try parseCommandLine(["up", "-f", "my.toml", "--scale", "infer=3", "--run-dir", "/tmp/r", "--scale", "featurize=2"])
        guard case .up(let o) = command else { Issue.record("not up"); return }
        #expect(o.target.configPath == "my.toml" && o.target.runDirectory == "/tmp/r")
        #expect(o.scales == ["infer": 3, "featurize": 2])
    }

    @Test func upMonitoringFlags() throws {
        let command = try parseCommandLine(["up", "--metrics", "127.0.0.1:0", "--events", "e.jsonl", "--quiet"])
        guard case .up(let o) = command else { Issue.record("not up"); return }
        #expect(o.metricsAddress == "127.0.0.1:0" && o.eventsPath == "e.jsonl" && o.progress == .off)
        guard case .up(let p) = try parseCommandLine(["up", "--metrics", "[::1]:9464", "--progress"]) else { Issue.record("not up"); return }
        #expect(p.metricsAddress == "[::1]:9464" && p.progress == .on)
        for bad in ["9464", "localhost", ":9464", "127.0.0.1:65536", "127.0.0.1:x", "::1:9464"] {
            do {
                _ = try parseCommandLine(["up", "--metrics", bad])
                Issue.record("accepted --metrics \(bad)")
            } catch {
                #expect(error.code == .usage && error.message.hasPrefix("pipeline up: --metrics: "), "\(error.message)")
            }
        }
        #expect(throws: PipelineError.self) { try parseCommandLine(["up", "--metrics"]) }
    }

    @Test func scaleNeedsValidStagesAndCounts() throws {
        guard case .scale(_, let s) = try parseCommandLine(["scale", "infer=4", "ingest=1"]) else { Issue.record("not scale"); return }
        #expect(s.map(\.0) == ["infer", "ingest"] && s.map(\.1) == [4, 1])
        for bad in [["scale"], ["scale", "infer"], ["scale", "infer=x"], ["scale", "infer=65"], ["scale", "infr=2"], ["scale", "--what"]] {
            #expect(throws: PipelineError.self, "\(bad)") { try parseCommandLine(bad) }
        }
        do {
            _ = try parseCommandLine(["scale", "infr=2"])
        } catch {
            #expect(error.code == .usage && error.message.contains("did you mean `infer`"))
        }
    }

    @Test func checkTakesASample() throws {
        #expect(try parseCommandLine(["check", "-f", "p.toml", "--data", "s.jsonl"]) == .check(Target(configPath: "p.toml", configGiven: true), data: "s.jsonl"))
        #expect(try parseCommandLine(["check", "--data=s.csv"]) == .check(Target(), data: "s.csv"))
        #expect(try parseCommandLine(["check"]) == .check(Target(), data: nil))
        for bad in [["check", "--data"], ["check", "--dat", "x"], ["check", "extra"]] {
            #expect(throws: PipelineError.self, "\(bad)") { try parseCommandLine(bad) }
        }
    }

    @Test func helpForEveryCommand() throws {
        for name in ["up", "scale", "ps", "ls", "logs", "down", "check"] {
            guard case .help(let text) = try parseCommandLine([name, "--help"]) else { Issue.record("no help for \(name)"); continue }
            #expect(text.contains("usage: pipeline \(name)"))
        }
        guard case .help(let main) = try parseCommandLine([]) else { Issue.record("no main help"); return }
        #expect(main.contains("commands:"))
        #expect(throws: PipelineError.self) { try parseCommandLine(["frobnicate"]) }
    }

    @Test func psLogsDown() throws {
        #expect(try parseCommandLine(["ps", "--json", "--run-dir", "/r"]) == .ps(Target(runDirectory: "/r"), json: true))
        #expect(try parseCommandLine(["logs", "infer"]) == .logs(Target(), LogsOptions(targets: [.stage(.infer)])))
        #expect(try parseCommandLine(["down", "--file=x.toml"]) == .down(Target(configPath: "x.toml", configGiven: true)))
        #expect(throws: PipelineError.self) { try parseCommandLine(["down", "now"]) }
    }

    /// A client command's answer: a success on stdout as the supervisor wrote it; a refusal on
    /// stderr in the words of every refused command.
    @Test func refusedRequestsSayErrorLikeEveryCommand() {
        #expect(ClientCommands.output(of: Reply(status: 0, text: "scaled infer: 1 → 2")) == (1, "scaled infer: 1 → 2\n"))
        #expect(ClientCommands.output(of: Reply(status: 8, text: "the pipeline is stopping"))
                == (2, "pipeline: error: the pipeline is stopping\n"))
        let table = "scaling infer: 1 → 2 did not complete: STAGE …\ningest 1 …\n"
        #expect(ClientCommands.output(of: Reply(status: 6, text: table)) == (2, "pipeline: error: " + table))
    }

    /// `logs -f` is follow where it cannot name a config file: nothing, an option or a log name after it.
    @Test func logsFollowTailAndTargets() throws {
        let follow = LogsOptions(follow: true)
        #expect(try parseCommandLine(["logs", "-f"]) == .logs(Target(), follow))
        #expect(try parseCommandLine(["logs", "-f", "--tail", "5"]) == .logs(Target(), LogsOptions(follow: true, tail: 5)))
        #expect(try parseCommandLine(["logs", "-f", "infer.2", "featurize"])
                == .logs(Target(), LogsOptions(targets: [.replica(.infer, 2), .stage(.featurize)], follow: true)))
        #expect(try parseCommandLine(["logs", "-f", "pipeline"]) == .logs(Target(), LogsOptions(targets: [.pipeline], follow: true)))
        #expect(try parseCommandLine(["logs", "-f", "my.toml"]) == .logs(Target(configPath: "my.toml", configGiven: true), LogsOptions()))
        #expect(try parseCommandLine(["logs", "-f", "my.toml", "-f"])
                == .logs(Target(configPath: "my.toml", configGiven: true), follow))
        #expect(try parseCommandLine(["logs", "--run-dir", "-f", "--follow"]) == .logs(Target(runDirectory: "-f"), follow))
        #expect(try parseCommandLine(["logs", "--file", "infer", "-t", "--tail=all"])
                == .logs(Target(configPath: "infer", configGiven: true), LogsOptions(timestamps: true)))
        #expect(try parseCommandLine(["logs", "events", "--tail", "0"]) == .logs(Target(), LogsOptions(targets: [.events], tail: 0)))
        for bad in [["infer.0"], ["infer.x"], ["infer.2.1"], ["infr"], ["--tail", "-1"], ["--tail"], ["--tail", "x"],
                    ["events", "infer"], ["--what"]] {
            #expect(throws: PipelineError.self, "\(bad)") { try parseCommandLine(["logs"] + bad) }
        }
    }

    @Test func lsTakesJSON() throws {
        #expect(try parseCommandLine(["ls"]) == .ls(json: false))
        #expect(try parseCommandLine(["ls", "--json"]) == .ls(json: true))
        #expect(throws: PipelineError.self) { try parseCommandLine(["ls", "x"]) }
    }

    @Test func upInputAndOutput() throws {
        guard case .up(let o) = try parseCommandLine(["up", "--input=in.jsonl", "--output", "out.jsonl"]) else {
            Issue.record("not up")
            return
        }
        #expect(o.inputPath == "in.jsonl" && o.outputPath == "out.jsonl")
        for bad in [["--input"], ["--output"]] {
            #expect(throws: PipelineError.self, "\(bad)") { try parseCommandLine(["up"] + bad) }
        }
    }

    @Test func upDetachNeedsFilesAndKeepsTheRestOfTheCommandLine() throws {
        guard case .up(let o) = try parseCommandLine(["up", "--input=in.jsonl", "-d", "--output", "out.jsonl", "-f", "p.toml",
                                                      "--scale", "infer=2", "--run-dir", "/r"]) else { Issue.record("not up"); return }
        #expect(o.detach && !o.detachedChild)
        // What the background run is started with: the same, but -d.
        #expect(o.arguments == ["-f", "p.toml", "--run-dir", "/r", "--input", "in.jsonl", "--output", "out.jsonl", "--scale", "infer=2"])
        for bad in [["-d"], ["-d", "--input", "x"], ["--detach", "--output", "x"]] {
            #expect(throws: PipelineError.self, "\(bad)") { try parseCommandLine(["up"] + bad) }
        }
    }

    @Test func rejectLinesAreValidJSON() throws {
        let r = Reject(line: 7, byteOffset: 99, code: .type, field: "amount", message: "expected a number, found \"abc\"",
                       input: Array("{\"amount\":\"abc\",\"t\":\"\u{1}\\\"}".utf8) + [0xFF])
        let line = RejectLine.format(r)
        #expect(line.hasPrefix("{\"line\":7,\"byte_offset\":99,\"stage\":\"ingest\",\"code\":\"TYPE\",\"field\":\"amount\""))
        #expect(line.contains("\\u0001") && line.contains("\u{FFFD}"))
    }
}

@Suite struct BenchDataTests {
    @Test func benchOptionsParse() throws {
        let command = try parseCommandLine(["bench", "--workload", "text-linear", "--records", "5", "--write-data", "d", "--no-kernels"])
        guard case .bench(let o) = command else { Issue.record("not bench"); return }
        #expect(o.workloads.map(\.name) == ["text-linear"] && o.records == 5 && o.dataDirectory == "d" && !o.kernels)
        for bad in [["bench", "--workload", "mlp"], ["bench", "--records", "0"], ["bench", "--write-data"]] {
            #expect(throws: PipelineError.self, "\(bad)") { try parseCommandLine(bad) }
        }
    }

    /// `--write-data` writes configs that pass the preflight checks with their bench model, and
    /// the same records every time.
    @Test func writtenWorkloadsAreValidAndDeterministic() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-data-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = BenchOptions()
        options.records = 50
        let files = try BenchCommand.writeData(options, root: root, to: directory)
        #expect(files.count == 2 * BenchWorkload.all.count)
        for workload in BenchWorkload.all {
            let path = directory + "/\(workload.name).toml"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let config = try PipelineConfig.parse(text: text, path: path)
            _ = try Preflight.check(config)
            let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/\(workload.name).jsonl"))
            #expect(data.split(separator: 10).count == 50)
            let again = directory + "/again.jsonl"
            try workload.writeData(to: again, records: 50)
            #expect(try Data(contentsOf: URL(fileURLWithPath: again)) == data)
        }
    }
}

@Suite struct TopCommandLineTests {
    @Test func topOptions() throws {
        #expect(try parseCommandLine(["top"]) == .top(TopOptions()))
        guard case .top(let o) = try parseCommandLine(["top", "--once", "--run-dir", "/r", "--interval", "0.5"]) else {
            Issue.record("not top"); return
        }
        #expect(o.once && o.intervalSeconds == 0.5 && o.target == Target(runDirectory: "/r"))
        guard case .top(let p) = try parseCommandLine(["top", "--interval=2", "-f", "x.toml"]) else { Issue.record("not top"); return }
        #expect(!p.once && p.intervalSeconds == 2 && p.target == Target(configPath: "x.toml", configGiven: true))
    }

    @Test(arguments: [["top", "--interval"], ["top", "--interval", "0"], ["top", "--interval", "0.05"], ["top", "--interval", "abc"],
                      ["top", "--interval", "3601"], ["top", "--interval", "nan"], ["top", "--interval=-1"], ["top", "--bogus"],
                      ["top", "now"], ["top", "-n", "1"]])
    func badTopArgumentsAreUsageErrors(arguments: [String]) throws {
        let error = #expect(throws: PipelineError.self) { try parseCommandLine(arguments) }
        #expect(error?.code == .usage)
    }

    @Test func topHasHelp() throws {
        guard case .help(let text) = try parseCommandLine(["top", "--help"]) else { Issue.record("no help"); return }
        #expect(text.contains("usage: pipeline top [-f FILE] [--run-dir DIR] [--once] [--interval SECONDS]"))
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 100 })
        // What it does without a terminal, when nothing runs, and how it ends are documented.
        #expect(text.contains("When stdout is not a terminal") && text.contains("top behaves as with"))
        #expect(text.contains("exit 8") && text.contains("q or Ctrl-C quits") && text.contains("\"pipeline: the run ended\""))
        guard case .help(let same) = try parseCommandLine(["help", "top"]) else { Issue.record("no help topic"); return }
        #expect(same == text)
        guard case .help(let main) = try parseCommandLine(["--help"]) else { Issue.record("no main help"); return }
        #expect(main.contains("\n  top "))
        let unknown = #expect(throws: PipelineError.self) { try parseCommandLine(["tops"]) }
        #expect(unknown?.message.contains("ps, ls, top, logs") == true)
    }
}

@Suite struct RolloutCommandLineTests {
    @Test func rolloutForms() throws {
        guard case .rollout(let t, let r) = try parseCommandLine(["rollout", "-f", "p.toml", "models/v2.onnx"]) else { Issue.record("not rollout"); return }
        #expect(t.configPath == "p.toml" && r.mode == .cutover && r.path.hasSuffix("/models/v2.onnx") && r.path.hasPrefix("/"))
        guard case .rollout(_, let c) = try parseCommandLine(["rollout", "new.toml", "--canary", "12.5"]) else { Issue.record("not rollout"); return }
        #expect(c.mode == .canary && c.percent == 12.5)
        guard case .rollout(_, let c2) = try parseCommandLine(["rollout", "--canary=10%", "new.toml"]) else { Issue.record("not rollout"); return }
        #expect(c2.mode == .canary && c2.percent == 10)
        guard case .rollout(_, let s) = try parseCommandLine(["rollout", "q.onnx", "--shadow"]) else { Issue.record("not rollout"); return }
        #expect(s.mode == .shadow)
        guard case .rollout(_, let p) = try parseCommandLine(["rollout", "--promote"]) else { Issue.record("not rollout"); return }
        #expect(p.mode == .promote && p.path.isEmpty)
        guard case .rollout(_, let a) = try parseCommandLine(["rollout", "--abort"]) else { Issue.record("not rollout"); return }
        #expect(a.mode == .abort)
    }

    @Test func badRolloutsAreUsageErrors() {
        for args in [["rollout"], ["rollout", "--canary", "0", "a.onnx"], ["rollout", "--canary", "100", "a.onnx"], ["rollout", "--canary", "x", "a.onnx"],
                     ["rollout", "--canary", "1.234", "a.onnx"], ["rollout", "--promote", "a.onnx"], ["rollout", "--shadow", "--canary", "5", "a.onnx"],
                     ["rollout", "a.onnx", "b.onnx"], ["rollout", "--canary"], ["rollout", "--bogus"]] {
            do {
                _ = try parseCommandLine(args)
                Issue.record("accepted \(args)")
            } catch {
                #expect(error.code == .usage && error.message.hasPrefix("pipeline rollout"), "\(args): \(error.message)")
            }
        }
    }
}

@Suite struct ExportCommandLineTests {
    @Test func exportKubernetesTakesItsOptions() throws {
        let command = try parseCommandLine(["export", "-f", "p.toml", "kubernetes", "--splits=8", "--out", "k8s", "--image", "r/p:1",
                                            "--model", "volume", "--model-claim", "models", "--cpu", "1500m", "--memory", "2Gi",
                                            "--metrics-port", "9100", "--uid", "1000", "--input", "/data/tx.csv", "--parts=/data/out"])
        guard case .export(let o) = command else { Issue.record("not export"); return }
        #expect(o.target.configPath == "p.toml" && o.outDirectory == "k8s")
        let k = o.kubernetes
        #expect(k.splits == 8 && k.image == "r/p:1" && k.model == .volume && k.modelClaim == "models")
        #expect(k.cpu == 1.5 && k.memoryMiB == 2048 && k.metricsPort == 9100 && k.uid == 1000)
        #expect(k.inputPath == "/data/tx.csv" && k.partsDirectory == "/data/out" && !k.stream)

        guard case .export(let s) = try parseCommandLine(["export", "kubernetes", "--stream", "--source", "cat in", "--sink", "cat > out",
                                                          "--replicas", "3", "--extra-cpu", "0.5", "--extra-memory", "256Mi"])
        else { Issue.record("not export"); return }
        #expect(s.kubernetes.stream && s.kubernetes.source == "cat in" && s.kubernetes.sink == "cat > out" && s.kubernetes.replicas == 3)
        #expect(s.kubernetes.extraCPU == 0.5 && s.kubernetes.extraMemoryMiB == 256 && s.outDirectory == nil)

        guard case .help(let help) = try parseCommandLine(["export", "kubernetes", "--help"]) else { Issue.record("no help"); return }
        #expect(help.hasPrefix("usage: pipeline export kubernetes [-f FILE]"))
    }

    @Test func badExportsAreUsageErrors() {
        for args in [["export"], ["export", "--out", "x"], ["export", "compose"], ["export", "kubernetes", "--splits"],
                     ["export", "kubernetes", "--splits", "x"], ["export", "kubernetes", "--cpu", "lots"], ["export", "kubernetes", "--memory", "512"],
                     ["export", "kubernetes", "--model", "s3"], ["export", "kubernetes", "--sink", "cat"], ["export", "kubernetes", "--stream"],
                     ["export", "kubernetes", "--replicas", "2"], ["export", "kubernetes", "--input", "in.jsonl"], ["export", "kubernetes", "extra"]] {
            do {
                _ = try parseCommandLine(args)
                Issue.record("accepted \(args)")
            } catch {
                #expect(error.code == .usage && error.message.hasPrefix("pipeline export"), "\(args): \(error.message)")
            }
        }
    }
}
