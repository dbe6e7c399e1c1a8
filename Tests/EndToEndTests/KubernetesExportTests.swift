import ClusterExport
import Config
import Foundation
import Glibc
import Testing

/// `pipeline export kubernetes`, run: the files it writes, its refusals, the manifests checked
/// by `kubernetes-validate --strict` against Kubernetes 1.33 (when installed; `.ci/run` installs
/// it), and a stream pod's script run on this machine around the real `pipeline up`.
@Suite struct KubernetesExportTests {
    static let config = Paths.root + "/compose/pipeline.toml"

    /// `kubernetes-validate --strict -k 1.33.0 FILES`, or nil (with a note) when it is not installed.
    static func validate(_ files: [String]) throws -> Finished? {
        let r = try Running("/usr/bin/env", ["kubernetes-validate", "--strict", "-k", "1.33.0"] + files, stdinFile: "/dev/null").finish()
        if r.status == 127 {
            print("note: kubernetes-validate not found (pip install kubernetes-validate): the manifests' schema check was skipped")
            return nil
        }
        return r
    }

    @Test func aJobExportIsTwoFilesThatKubernetesAccepts() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let out = ws.path + "/k8s"
        let r = try pipeline(["export", "kubernetes", "-f", Self.config, "--splits", "3", "--out", out, "--image", "registry.example/pipeline:1"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.isEmpty)
        #expect(r.err.hasPrefix("pipeline: wrote configmap.yaml, job.yaml to \(out): an Indexed Job of 3 pods, each cpu 4250m, memory 129Mi ("),
                "\(r.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["configmap.yaml", "job.yaml"])
        let job = try String(contentsOfFile: out + "/job.yaml", encoding: .utf8)
        for line in ["completionMode: Indexed", "completions: 3", "backoffLimitPerIndex: 2", "image: registry.example/pipeline:1",
                     "- \"$(JOB_COMPLETION_INDEX)/3\"", "- \"/data/parts/part-$(JOB_COMPLETION_INDEX).jsonl\"", "medium: Memory",
                     "readOnlyRootFilesystem: true", "runAsNonRoot: true", "path: /healthz", "prometheus.io/port: \"9464\""] {
            #expect(job.contains(line), "job.yaml has no `\(line)`")
        }
        let configMap = try String(contentsOfFile: out + "/configmap.yaml", encoding: .utf8)
        #expect(configMap.contains("    path = \"/models/demo.onnx\"   # made by tools/make_test_models.py\n"))

        guard let checked = try Self.validate([out + "/configmap.yaml", out + "/job.yaml"]) else { return }
        #expect(checked.status == 0, "\(checked.out)\(checked.err)")
        print("kubernetes-validate on the Job export:\n" + checked.out + checked.err)
        // It would notice: a misspelled field is refused.
        let misspelled = ws.write("misspelled.yaml", job.replacingOccurrences(of: "backoffLimitPerIndex:", with: "backoffLimitPerIndx:"))
        let refused = try #require(try Self.validate([misspelled]))
        #expect(refused.status != 0)
        #expect((refused.out + refused.err).contains("'backoffLimitPerIndx' was unexpected"), "\(refused.out)\(refused.err)")
        print("kubernetes-validate on a misspelled copy (exit \(refused.status)):\n" + refused.out + refused.err)
    }

    @Test func aStreamExportIsAStatefulSetAndAServiceThatKubernetesAccepts() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let out = ws.path + "/k8s"
        // An earlier Job export in the same directory is replaced, not mixed in.
        #expect(try pipeline(["export", "kubernetes", "-f", Self.config, "--out", out]).status == 0)
        let r = try pipeline(["export", "kubernetes", "-f", Self.config, "--out", out, "--stream", "--replicas", "3",
                              "--source", "kafka-console-consumer.sh --bootstrap-server kafka:9092 --topic tx --partition $POD_INDEX",
                              "--sink", "kafka-console-producer.sh --bootstrap-server kafka:9092 --topic scored",
                              "--model", "volume", "--model-claim", "fraud-models", "--extra-memory", "512Mi", "--extra-cpu", "0.5"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err == "pipeline: wrote configmap.yaml, service.yaml, statefulset.yaml to \(out): a StatefulSet of 3 pods, each cpu 4750m, "
                + "memory 641Mi (cpu: 4 replicas + 0.25 supervisor + 0.5 extra = 4750m; memory: 48 supervisor + 4 replicas × 16 + 1 weight cache"
                + " + 16 logs MiB + 512 extra = 641Mi)\n")
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files == ["configmap.yaml", "service.yaml", "statefulset.yaml"])
        let set = try String(contentsOfFile: out + "/statefulset.yaml", encoding: .utf8)
        for line in ["kind: StatefulSet", "replicas: 3", "serviceName: demo", "claimName: fraud-models", "value: \"kafka-console-consumer.sh",
                     "fieldPath: \"metadata.labels['apps.kubernetes.io/pod-index']\""] {
            #expect(set.contains(line), "statefulset.yaml has no `\(line)`")
        }
        guard let checked = try Self.validate(files.map { out + "/" + $0 }) else { return }
        #expect(checked.status == 0, "\(checked.out)\(checked.err)")
        let misspelled = ws.write("misspelled.yaml", set.replacingOccurrences(of: "readOnlyRootFilesystem:", with: "readOnlyRootFileSystem:"))
        let refused = try #require(try Self.validate([misspelled]))
        #expect(refused.status != 0)
        #expect((refused.out + refused.err).contains("'readOnlyRootFileSystem' was unexpected"), "\(refused.out)\(refused.err)")
    }

    @Test func withoutOutTheManifestsAreOneStreamOnStdout() throws {
        let r = try pipeline(["export", "kubernetes", "-f", Self.config, "--splits", "2"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.hasPrefix("---\napiVersion: v1\nkind: ConfigMap\n"))
        #expect(r.out.contains("\n---\napiVersion: batch/v1\nkind: Job\n"))
        #expect(r.err.hasPrefix("pipeline: wrote ConfigMap demo-config, Job demo to stdout: "), "\(r.err)")
        // The same config and options give the same bytes.
        #expect(try pipeline(["export", "kubernetes", "-f", Self.config, "--splits", "2"]).out == r.out)
    }

    @Test func whatCannotBeExportedIsOneLineAndAnExitCode() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let base = try String(contentsOfFile: Self.config, encoding: .utf8)
            .replacingOccurrences(of: "\"../models/demo.onnx\"", with: "\"\(Paths.demoModel)\"")
        let autoscaled = ws.write("autoscaled.toml", base + "\n[autoscale]\ntarget = 0.6\n")
        let noModel = ws.write("nomodel.toml", base.replacingOccurrences(of: Paths.demoModel, with: ws.path + "/missing.onnx"))
        let cases: [([String], Int32, String)] = [
            (["export"], 2, "pipeline: error: pipeline export: say what to export to: `pipeline export kubernetes` (see `pipeline export --help`)\n"),
            (["export", "helm"], 2, "pipeline: error: pipeline export: unknown target `helm`; there is one: kubernetes\n"),
            (["export", "kubernetes", "--stream", "--source", "cat"], 2,
             "pipeline: error: pipeline export kubernetes: --stream needs --source CMD and --sink CMD (the commands each pod reads records from and writes them to)\n"),
            (["export", "kubernetes", "--splits", "0"], 2, "pipeline: error: pipeline export kubernetes: --splits takes a whole number from 1 to 100000, not `0`\n"),
            (["export", "kubernetes", "--memory", "1G"], 2,
             "pipeline: error: pipeline export kubernetes: --memory takes a size in Mi, Gi or Ti, such as 512Mi or 2Gi, not `1G`\n"),
            (["export", "kubernetes", "--frobnicate"], 2, "pipeline: error: pipeline export kubernetes: unexpected argument `--frobnicate` (see `pipeline export --help`)\n"),
            (["export", "kubernetes", "-f", autoscaled], 3,
             "pipeline: error: \(autoscaled): [autoscale] has no `cores`: in a pod the autoscaler would take the node's CPUs for its budget; "
                + "set `cores` in the config, or give --cpu (it becomes `cores`)\n"),
        ]
        for (arguments, status, said) in cases {
            let r = try pipeline(arguments, directory: Paths.root)
            #expect(r.status == status, "\(arguments): \(r.err)")
            #expect(r.err == said, "\(arguments)")
            #expect(r.out.isEmpty)
        }
        let missing = try pipeline(["export", "kubernetes", "-f", noModel])
        #expect(missing.status == 4, "\(missing.err)")
        #expect(missing.err.hasPrefix("pipeline: error: ") && missing.err.contains("missing.onnx"), "\(missing.err)")
        // With --cpu, the budget goes into the pod's config.
        let sized = try pipeline(["export", "kubernetes", "-f", autoscaled, "--cpu", "2"])
        #expect(sized.status == 0, "\(sized.err)")
        #expect(sized.out.contains("    [autoscale]\n    cores = 2\n    target = 0.6\n"))
        #expect(sized.out.contains("cpu: \"2\""))
    }

    /// What the YAML says is what a YAML reader reads: the config text and tricky strings, through
    /// PyYAML (a YAML 1.1 reader, as Kubernetes' is); skipped without python3 and PyYAML.
    @Test func theYAMLReadsBackAsWritten() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let tricky = ["true", "no", "9464", "0.1.0", "1:20", "-f", "a: b", "#x", "", " lead", "trail ", "tab\there", "é€😀",
                      "quote\"back\\slash", "\u{1}\u{85}\u{2028}", "$(JOB_COMPLETION_INDEX)/4", "multi\nline\n", "no final\nnewline",
                      "  indented\nfirst\n", "\n\nblank lines\n\n", "a\r\nb"]
        let doc = YAML.map([("values", .list(tricky.map { .string($0) })),
                            ("nested", .map([("k", .list([.map([("x", .string("multi\nline\n")), ("y", .int(-3))])]))]))])
        let file = ws.write("tricky.yaml", doc.text)
        let script = "import json, sys, yaml\nd = yaml.safe_load(open(sys.argv[1]))\nprint(json.dumps(d))"
        let r = try Running("/usr/bin/env", ["python3", "-c", script, file], stdinFile: "/dev/null").finish()
        guard r.status == 0 else {
            print("note: python3 with PyYAML not found (\(r.err.split(separator: "\n").last ?? "")): the YAML read-back was skipped")
            return
        }
        let read = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(read["values"] as? [String] == tricky, "\(r.out)")
        let nested = (read["nested"] as? [String: Any])?["k"] as? [[String: Any]]
        #expect(nested?.first?["x"] as? String == "multi\nline\n")
        #expect(nested?.first?["y"] as? Int == -3)
    }

    // MARK: The stream pod's script, run here

    /// A stream export whose pod paths are in `ws` and whose `pipeline` is the built one; the
    /// ConfigMap's files are written where the pod would find them. Returns the container's
    /// script (as Kubernetes would hand it to `sh -c`) and its environment.
    static func streamPod(_ ws: Workspace, source: String, sink: String) throws -> (script: String, environment: [String: String]) {
        let text = try String(contentsOfFile: config, encoding: .utf8)
        var options = KubernetesOptions()
        options.stream = true
        options.source = source
        options.sink = sink
        options.modelPath = Paths.demoModel
        var layout = PodLayout()
        layout.configRoot = ws.path + "/etc"
        layout.runRoot = ws.path + "/run"
        layout.pipeline = Paths.pipeline
        let source = ExportSource(config: try PipelineConfig.parse(text: text, path: config), configText: text, configPath: config,
                                  cacheBytes: 0, version: "test")
        let export = try KubernetesExport.make(source, options, layout: layout)
        let configDirectory = layout.configDirectory(source.config.pipeline.name)
        try FileManager.default.createDirectory(atPath: configDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: layout.runRoot, withIntermediateDirectories: true)
        guard case .map(let data)? = export.manifests[0].document["data"] else { throw CocoaError(.fileReadCorruptFile) }
        for (key, value) in data {
            guard case .string(let content) = value else { continue }
            try content.write(toFile: configDirectory + "/" + key, atomically: true, encoding: .utf8)
        }
        let container = export.manifests[2].document["spec"]?["template"]?["spec"]?["containers"]
        guard case .list(let containers)? = container, case .list(let command)? = containers.first?["command"],
              case .string(let script)? = command.last, case .list(let env)? = containers.first?["env"] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        var environment: [String: String] = ["POD_INDEX": "0"]
        for entry in env {
            if case .string(let name)? = entry["name"], case .string(let value)? = entry["value"] { environment[name] = unescape(value) }
        }
        // Here, a free loopback port rather than the pod's 0.0.0.0:9464.
        return (unescape(script).replacingOccurrences(of: "--metrics 0.0.0.0:9464", with: "--metrics 127.0.0.1:0"), environment)
    }

    /// The Indexed Job's pods, run here one after the other as the Job controller would run
    /// them (index I in `JOB_COMPLETION_INDEX`; pod 1 killed with -9 once it has written
    /// something, then retried): the parts, concatenated in index order, are one run's output
    /// over the whole input, rejected records included.
    @Test func theJobsPodsRunHereMakeOneRunsOutput() throws {
        let ws = Workspace()
        defer { ws.remove() }
        var lines = Records.jsonl(6_000, seed: 31).split(separator: "\n").map(String.init)
        for i in stride(from: 100, to: lines.count, by: 777) { lines[i] = "{\"id\":\(i)}" }
        let input = ws.write("input.jsonl", lines.joined(separator: "\n") + "\n")
        let parts = ws.path + "/parts"
        try FileManager.default.createDirectory(atPath: parts, withIntermediateDirectories: true)
        let text = try String(contentsOfFile: Self.config, encoding: .utf8)
        var options = KubernetesOptions()
        options.splits = 3
        options.inputPath = input
        options.partsDirectory = parts
        options.modelPath = Paths.demoModel
        var layout = PodLayout()
        layout.configRoot = ws.path + "/etc"
        layout.runRoot = ws.path + "/run"
        layout.pipeline = Paths.pipeline
        let source = ExportSource(config: try PipelineConfig.parse(text: text, path: Self.config), configText: text, configPath: Self.config,
                                  cacheBytes: 0, version: "test")
        let export = try KubernetesExport.make(source, options, layout: layout)
        let configDirectory = layout.configDirectory(source.config.pipeline.name)
        try FileManager.default.createDirectory(atPath: configDirectory, withIntermediateDirectories: true)
        guard case .map(let data)? = export.manifests[0].document["data"] else { throw CocoaError(.fileReadCorruptFile) }
        for (key, value) in data {
            guard case .string(let content) = value else { continue }
            try content.write(toFile: configDirectory + "/" + key, atomically: true, encoding: .utf8)
        }
        let job = export.manifests[1].document
        guard case .list(let containers)? = job["spec"]?["template"]?["spec"]?["containers"],
              case .list(let command)? = containers.first?["command"] else { throw CocoaError(.fileReadCorruptFile) }
        let words = command.compactMap { value -> String? in if case .string(let s) = value { Self.unescape(s) } else { nil } }
        var outputs = Data(), errors = Data()
        for index in 0..<3 {
            // Each pod has its own run directory (its own emptyDir); metrics on a free loopback port.
            let runRoot = ws.path + "/run-\(index)"
            try FileManager.default.createDirectory(atPath: runRoot, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o1777])
            let argv = words.map { $0.replacingOccurrences(of: "$(JOB_COMPLETION_INDEX)", with: "\(index)")
                .replacingOccurrences(of: layout.runRoot, with: runRoot).replacingOccurrences(of: "0.0.0.0:9464", with: "127.0.0.1:0") }
            #expect(argv.first == Paths.pipeline && argv.contains("--split") && argv.contains("\(index)/3"), "\(argv)")
            let part = parts + "/part-\(index).jsonl"
            if index == 1 {
                let first = try Running(argv[0], Array(argv.dropFirst()), stdinFile: "/dev/null")
                #expect(waitUntil { ((try? FileManager.default.attributesOfItem(atPath: part)[.size] as? Int) ?? 0) > 0 || !first.process.isRunning })
                kill(first.pid, SIGKILL)
                _ = first.finish()
                #expect(waitUntil { processes(mentioning: runRoot).isEmpty })
            }
            let pod = try Running(argv[0], Array(argv.dropFirst()), stdinFile: "/dev/null").finish()
            #expect(pod.status == 0, "pod \(index): \(pod.err)")
            outputs += try Data(contentsOf: URL(fileURLWithPath: part))
            errors += try Data(contentsOf: URL(fileURLWithPath: parts + "/part-\(index).errors.jsonl"))
        }
        let whole = try pipeline(["up", "-f", Self.config, "--run-dir", ws.path + "/whole", "--input", input, "--errors", ws.path + "/whole.err"])
        #expect(whole.status == 0, "\(whole.err)")
        let wholeErrors = try Data(contentsOf: URL(fileURLWithPath: ws.path + "/whole.err"))
        #expect(!errors.isEmpty && errors == wholeErrors, "the rejected records too, with the whole file's line numbers")
        #expect(outputs == whole.stdout, "the parts concatenated are one run's output")
    }

    /// `$$` as Kubernetes reads it (the scripts hold no `$(VAR)`).
    static func unescape(_ text: String) -> String { text.replacingOccurrences(of: "$$", with: "$") }

    @Test func theStreamScriptRunsTheSourceThroughPipelineUpIntoTheSink() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let input = Paths.root + "/examples/transactions.jsonl"
        let scored = ws.path + "/scored.jsonl"
        let pod = try Self.streamPod(ws, source: "cat '\(input)'", sink: "cat > '\(scored)'")
        let r = try Running("/bin/sh", ["-c", pod.script], stdinFile: "/dev/null", environment: pod.environment).finish(seconds: 60)
        #expect(r.status == 0, "\(r.err)")
        let direct = try pipeline(["up", "-f", Self.config, "--run-dir", ws.path + "/direct"], stdinFile: input)
        #expect(direct.status == 0)
        #expect(same(try Data(contentsOf: URL(fileURLWithPath: scored)), direct.stdout))
        #expect(runSummary(r.err) == runSummary(direct.err), "\(r.err)")
    }

    @Test func aPodStoppedMidStreamWritesWhatItReadAndStops() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let input = Paths.root + "/examples/transactions.jsonl"
        let scored = ws.path + "/scored.jsonl"
        // A source that never ends: the sample, then nothing, forever.
        let never = ws.write("never", "")
        let pod = try Self.streamPod(ws, source: "cat '\(input)'; exec tail -f '\(never)'", sink: "cat > '\(scored)'")
        let running = try Running("/bin/sh", ["-c", pod.script], stdinFile: "/dev/null", environment: pod.environment)
        func lines() -> Int { (try? String(contentsOfFile: scored, encoding: .utf8))?.split(separator: "\n").count ?? 0 }
        #expect(waitUntil(seconds: 60) { lines() == 1000 })
        kill(running.process.processIdentifier, SIGTERM)  // what the kubelet does to the container
        let r = running.finish(seconds: 60)
        #expect(r.status == 130, "\(r.err)")
        #expect(r.err.contains("[pipeline] 1000 records read, 1000 written, 0 rejected"), "\(r.err)")
        #expect(lines() == 1000)
        #expect(processes(mentioning: never).isEmpty, "the source was left running")
    }

    @Test func aPipelineThatCannotStartEndsThePodWithItsExitCode() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let never = ws.write("never", "")
        let pod = try Self.streamPod(ws, source: "exec tail -f '\(never)'", sink: "cat > /dev/null")
        // The model the pod's config names is not there: `pipeline up` exits 4 before opening
        // either FIFO, and the source and sink waiting to open theirs are let go.
        try FileManager.default.removeItem(atPath: ws.path + "/etc/demo/pipeline.toml")
        let broken = try String(contentsOfFile: Self.config, encoding: .utf8)
            .replacingOccurrences(of: "\"../models/demo.onnx\"", with: "\"\(ws.path)/missing.onnx\"")
        _ = ws.write("etc/demo/pipeline.toml", broken)
        let r = try Running("/bin/sh", ["-c", pod.script], stdinFile: "/dev/null", environment: pod.environment).finish(seconds: 60)
        #expect(r.status == 4, "\(r.err)")
        #expect(r.err.contains("missing.onnx"), "\(r.err)")
        #expect(processes(mentioning: never).isEmpty, "the source was left running")
    }
}

extension KubernetesExportTests {
    /// README "Running on a cluster": the first example says what the command says.
    @Test func theReadmeExampleIsWhatExportSays() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let sample = ReadmeTests.block(after: "and says on stderr what it wrote and how it sized the pods:")
        #expect(sample.first == "$ pipeline export kubernetes --splits 4 --out k8s/", "\(sample)")
        let r = try pipeline(["export", "kubernetes", "--splits", "4", "--out", ws.path + "/k8s/"], directory: Paths.root)
        #expect(r.status == 0)
        #expect(r.err == sample.dropFirst().joined(separator: "\n").replacingOccurrences(of: "k8s/", with: ws.path + "/k8s/") + "\n",
                "\(r.err)")
    }
}

extension KubernetesExportTests {
    /// A config with `[drift]`: its reference travels in the ConfigMap, where the pod's config
    /// now points; a reference that does not fit the config is refused as `up` would refuse it.
    @Test func theDriftReferenceTravelsWithTheConfig() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let base = try String(contentsOfFile: Self.config, encoding: .utf8)
            .replacingOccurrences(of: "\"../models/demo.onnx\"", with: "\"\(Paths.demoModel)\"")
        let plain = ws.write("plain.toml", base)
        let profiled = try pipeline(["profile", "-f", plain, "--output", ws.path + "/reference.json"],
                                    stdinFile: Paths.root + "/examples/transactions.jsonl")
        #expect(profiled.status == 0, "\(profiled.err)")
        let cfg = ws.write("drift.toml", base + "\n[drift]\nreference = \"reference.json\"\nwindow = 500\n")
        let out = ws.path + "/k8s"
        let r = try pipeline(["export", "kubernetes", "-f", cfg, "--out", out])
        #expect(r.status == 0, "\(r.err)")
        let configMap = try String(contentsOfFile: out + "/configmap.yaml", encoding: .utf8)
        #expect(configMap.contains("    reference = \"/etc/pipeline/demo/drift-reference.json\"\n"))
        #expect(configMap.contains("  drift-reference.json: "))
        if let checked = try Self.validate([out + "/configmap.yaml", out + "/job.yaml"]) {
            #expect(checked.status == 0, "\(checked.out)\(checked.err)")
        }
        // The ConfigMap's copy is the file, byte for byte (read back when PyYAML is there).
        let script = "import sys, yaml\nsys.stdout.write(yaml.safe_load(open(sys.argv[1]))['data']['drift-reference.json'])"
        let read = try Running("/usr/bin/env", ["python3", "-c", script, out + "/configmap.yaml"], stdinFile: "/dev/null").finish()
        if read.status == 0 {
            #expect(read.stdout == (try Data(contentsOf: URL(fileURLWithPath: ws.path + "/reference.json"))))
        }

        _ = ws.write("reference.json", "{\"profile\": \"something else\"}\n")
        let refused = try pipeline(["export", "kubernetes", "-f", cfg, "--out", out])
        #expect(refused.status == 3, "\(refused.err)")
        #expect(refused.err.hasPrefix("pipeline: error: [drift] reference "), "\(refused.err)")
    }
}
