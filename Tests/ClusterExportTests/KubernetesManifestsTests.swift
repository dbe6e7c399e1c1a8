@testable import ClusterExport
import Config
import Foundation
import Testing

/// The manifests as a pure function of the config and the options.
@Suite struct KubernetesManifestsTests {
    static let path = "/home/me/fraud/pipeline.toml"

    static func config(name: String = "demo", infer: Int = 2, extra: String = "") -> String {
        """
        # the user's comment stays
        [pipeline]
        name = "\(name)"

        [input]
        format = "jsonl"

        [[input.field]]
        name = "amount"
        type = "float"

        [[feature]]
        field = "amount"
        kind = "identity"

        [model]
        path = "../models/fraud.onnx"   # relative to this file

        [output]
        format = "csv"

        [stage.infer]
        replicas = \(infer)
        \(extra)
        """
    }

    static func source(_ text: String = config(), cacheBytes: Int = 3 << 20, reference: String? = nil) throws -> ExportSource {
        ExportSource(config: try PipelineConfig.parse(text: text, path: path), configText: text, configPath: path,
                     cacheBytes: cacheBytes, driftReference: reference, version: "0.1.0")
    }

    static func make(_ source: ExportSource, _ edit: (inout KubernetesOptions) -> Void = { _ in }) throws -> KubernetesExport {
        var options = KubernetesOptions()
        edit(&options)
        return try KubernetesExport.make(source, options)
    }

    /// The `ExportError` `body` throws, if it throws one.
    static func refusal(_ body: () throws -> Void) -> ExportError? {
        do { try body() } catch let error as ExportError { return error } catch {}
        return nil
    }

    /// The first (only) container of a workload's pod template.
    static func container(_ workload: YAML) -> YAML? {
        guard case .list(let items)? = workload["spec"]?["template"]?["spec"]?["containers"] else { return nil }
        return items.first
    }

    static func strings(_ value: YAML?) -> [String] {
        guard case .list(let items)? = value else { return [] }
        return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
    }

    static func configText(_ export: KubernetesExport) -> String? {
        guard case .string(let text)? = export.manifests.first?.document["data"]?["pipeline.toml"] else { return nil }
        return text
    }

    @Test func aJobScoresPartIOfNOnEachPod() throws {
        let export = try Self.make(try Self.source()) { $0.splits = 4 }
        #expect(export.manifests.map(\.fileName) == ["configmap.yaml", "job.yaml"])
        let job = export.manifests[1].document
        #expect(job["kind"] == .string("Job"))
        #expect(job["spec"]?["completionMode"] == .string("Indexed"))
        #expect(job["spec"]?["completions"] == .int(4))
        #expect(job["spec"]?["parallelism"] == .int(4))
        #expect(job["spec"]?["backoffLimitPerIndex"] == .int(2))
        #expect(job["spec"]?["template"]?["spec"]?["restartPolicy"] == .string("Never"))
        let command = Self.strings(Self.container(job)?["command"])
        #expect(command == ["pipeline", "up", "-f", "/etc/pipeline/demo/pipeline.toml", "--run-dir", "/run/pipeline/demo",
                            "--metrics", "0.0.0.0:9464", "--quiet", "--input", "/data/input.jsonl",
                            "--split", "$(JOB_COMPLETION_INDEX)/4", "--output", "/data/parts/part-$(JOB_COMPLETION_INDEX).csv",
                            "--errors", "/data/parts/part-$(JOB_COMPLETION_INDEX).errors.jsonl",
                            "--stats", "/data/parts/part-$(JOB_COMPLETION_INDEX).stats.json",
                            "--events", "/data/parts/part-$(JOB_COMPLETION_INDEX).events.jsonl"])
        #expect(job.text.contains("claimName: demo-data"))
        #expect(job.text.contains("fieldPath: \"metadata.annotations['batch.kubernetes.io/job-completion-index']\""))
    }

    @Test func theConfigMapHoldsTheConfigAsThePodReadsIt() throws {
        let export = try Self.make(try Self.source())
        let text = try #require(Self.configText(export))
        #expect(text == Self.config().replacingOccurrences(of: "\"../models/fraud.onnx\"", with: "\"/models/fraud.onnx\""))
        #expect(text.contains("# the user's comment stays"))
        let carried = try PipelineConfig.parse(text: text, path: "/etc/pipeline/demo/pipeline.toml")
        #expect(carried.model.path == "/models/fraud.onnx")
        #expect(carried.pipeline.name == "demo")
    }

    @Test func theModelComesFromTheImageOrAClaim() throws {
        let inImage = try Self.make(try Self.source()) { $0.modelPath = "/opt/models/v3.onnx" }
        #expect(try PipelineConfig.parse(text: try #require(Self.configText(inImage)), path: "/p.toml").model.path == "/opt/models/v3.onnx")
        #expect(!inImage.manifests[1].document.text.contains("/models"))

        let onVolume = try Self.make(try Self.source()) { $0.model = .volume }
        let text = onVolume.manifests[1].document.text
        #expect(text.contains("- name: model\n              mountPath: /models\n              readOnly: true"))
        #expect(text.contains("claimName: demo-model\n            readOnly: true"))
        let named = try Self.make(try Self.source()) { $0.model = .volume; $0.modelClaim = "weights"; $0.modelPath = "/models/fraud/v3.onnx" }
        #expect(named.manifests[1].document.text.contains("claimName: weights"))
        #expect(Self.configText(named)?.contains("path = \"/models/fraud/v3.onnx\"") == true)
    }

    @Test func aStreamIsAStatefulSetRunningTheScriptWithAHeadlessService() throws {
        let export = try Self.make(try Self.source()) {
            $0.stream = true
            $0.source = "consume --partition $POD_INDEX --since $(date +%s)"
            $0.sink = "produce"
            $0.replicas = 3
        }
        #expect(export.manifests.map(\.kind) == ["ConfigMap", "Service", "StatefulSet"])
        let service = export.manifests[1].document
        #expect(service["spec"]?["clusterIP"] == .string("None"))
        let set = export.manifests[2].document
        #expect(set["spec"]?["replicas"] == .int(3))
        #expect(set["spec"]?["serviceName"] == .string("demo"))
        #expect(set["spec"]?["podManagementPolicy"] == .string("Parallel"))
        let container = try #require(Self.container(set))
        let command = Self.strings(container["command"])
        #expect(command.count == 3 && command[0] == "sh" && command[1] == "-c")
        #expect(command[2].contains("pipeline up -f /etc/pipeline/demo/pipeline.toml --run-dir /run/pipeline/demo --metrics 0.0.0.0:9464 --quiet --input \"$io/in\" --output \"$io/out\" &"))
        // `$(` would be a Kubernetes variable: escaped.
        #expect(set.text.contains("value: \"consume --partition $POD_INDEX --since $$(date +%s)\""))
        #expect(set.text.contains("fieldPath: \"metadata.labels['apps.kubernetes.io/pod-index']\""))
        #expect(set["spec"]?["template"]?["spec"]?["restartPolicy"] == .string("Always"))
    }

    @Test func everyPodIsLockedDown() throws {
        for stream in [false, true] {
            let export = try Self.make(try Self.source()) { $0.stream = stream; $0.source = stream ? "a" : nil; $0.sink = stream ? "b" : nil }
            let workload = export.manifests.last!.document
            let pod = try #require(workload["spec"]?["template"]?["spec"])
            #expect(pod["securityContext"]?["runAsNonRoot"] == .bool(true))
            #expect(pod["securityContext"]?["runAsUser"] == .int(65532))
            #expect(pod["securityContext"]?["seccompProfile"]?["type"] == .string("RuntimeDefault"))
            #expect(pod["automountServiceAccountToken"] == .bool(false))
            #expect(pod["enableServiceLinks"] == .bool(false))
            let container = try #require(Self.container(workload))
            #expect(container["securityContext"]?["readOnlyRootFilesystem"] == .bool(true))
            #expect(container["securityContext"]?["allowPrivilegeEscalation"] == .bool(false))
            #expect(container["securityContext"]?["capabilities"]?["drop"] == .list([.string("ALL")]))
            for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
                #expect(container[probe]?["httpGet"]?["path"] == .string("/healthz"), "\(probe)")
                #expect(container[probe]?["httpGet"]?["port"] == .string("metrics"), "\(probe)")
            }
            #expect(workload.text.contains("medium: Memory"))
            let annotations = workload["spec"]?["template"]?["metadata"]?["annotations"]
            #expect(annotations?["prometheus.io/scrape"] == .string("true"))
            #expect(annotations?["prometheus.io/port"] == .string("9464"))
            #expect(annotations?["prometheus.io/path"] == .string("/metrics"))
        }
    }

    /// The event log lives in the pod's memory-backed run directory: Jobs and streams rotate it
    /// small enough to stay within the memory counted for logs, however long the pod runs.
    @Test func everyPodRotatesItsEventLogWithinItsMemory() throws {
        let job = try Self.make(try Self.source())
        let stream = try Self.make(try Self.source()) { $0.stream = true; $0.source = "a"; $0.sink = "b" }
        for workload in [job.manifests[1].document, stream.manifests[2].document] {
            guard case .list(let env)? = Self.container(workload)?["env"] else { Issue.record("no env"); continue }
            var values: [String: String] = [:]
            for entry in env { if case .string(let n)? = entry["name"], case .string(let v)? = entry["value"] { values[n] = v } }
            #expect(values["PIPELINE_LOG_MAX_SIZE"] == "4M" && values["PIPELINE_LOG_KEEP"] == "2", "\(values)")
        }
        // The newest file and the rotated ones, each at most the size (and what 100 ms adds).
        #expect((PodResources.logKeep + 1) * 4 <= PodResources.runDirectoryLogsMiB)
    }

    @Test func resourcesComeFromTheReplicaCountsAndTheCache() throws {
        // 1 + 1 + 2 + 1 replicas; a 3 MiB cache.
        let r = try Self.make(try Self.source()).resources
        #expect(r.millicores == 5 * 1000 + 250)
        #expect(r.replicas == 5)
        #expect(r.memoryMiB == 48 + 5 * 16 + 3 + 16)
        #expect(r.sizing == "cpu: 5 replicas + 0.25 supervisor = 5250m; memory: 48 supervisor + 5 replicas × 16 + 3 weight cache + 16 logs MiB = 147Mi")
        let job = try Self.make(try Self.source()).manifests[1].document.text
        #expect(job.contains("cpu: \"5250m\"\n              memory: \"147Mi\""))
        #expect(job.contains("sizeLimit: \"147Mi\""))
        // A cache of one byte is a MiB.
        #expect(try Self.make(try Self.source(cacheBytes: 1)).resources.memoryMiB == 48 + 80 + 1 + 16)

        let extra = try Self.make(try Self.source()) { $0.extraCPU = 0.5; $0.extraMemoryMiB = 256 }.resources
        #expect(extra.millicores == 5750 && extra.memoryMiB == 147 + 256)
        let set = try Self.make(try Self.source()) { $0.cpu = 2; $0.memoryMiB = 1024 }.resources
        #expect(set.millicores == 2000 && set.memoryMiB == 1024)
        #expect(set.sizing == "cpu: --cpu = 2; memory: --memory = 1024Mi")
    }

    @Test func anAutoscaledPodIsSizedByItsBudget() throws {
        let withCores = try Self.source(Self.config(extra: "\n[autoscale]\ncores = 3\ntarget = 0.6\n"))
        let r = try Self.make(withCores).resources
        #expect(r.millicores == 3000)
        // ceil(3 / 0.6) + one per stage = 9, at least the 5 it starts with.
        #expect(r.replicas == 9)
        #expect(r.memoryMiB == 48 + 9 * 16 + 3 + 16)
        // Bounded by the stages' maximums.
        let capped = try Self.source(Self.config(infer: 1, extra: "max_replicas = 2\n\n[autoscale]\ncores = 8\n"
                                                 + "[stage.ingest]\nmax_replicas = 1\n[stage.featurize]\nmax_replicas = 1\n"
                                                 + "[stage.aggregate]\nmax_replicas = 1\n"))
        #expect(try Self.make(capped).resources.replicas == 5)
    }

    @Test func anAutoscaledConfigWithoutCoresTakesThemFromCPUOrIsRefused() throws {
        let source = try Self.source(Self.config(extra: "\n[autoscale]\ntarget = 0.5\n"))
        let refused = try #require(Self.refusal { _ = try Self.make(source) })
        #expect(refused.kind == .config)
        #expect(refused.message.contains("[autoscale] has no `cores`") && refused.message.contains("--cpu"), "\(refused.message)")
        let export = try Self.make(source) { $0.cpu = 2.5 }
        let text = try #require(Self.configText(export))
        #expect(text.contains("[autoscale]\ncores = 2.5\ntarget = 0.5\n"))
        #expect(try PipelineConfig.parse(text: text, path: "/p.toml").autoscale?.cores == 2.5)
        #expect(export.resources.millicores == 2500)

        let inline = try Self.source("autoscale = { target = 0.5 }\n" + Self.config())
        #expect(throws: ExportError.self) { try Self.make(inline) { $0.cpu = 2 } }
    }

    @Test func theDriftReferenceTravelsInTheConfigMap() throws {
        let reference = "{\"records\": 100}\n"
        let source = try Self.source(Self.config(extra: "\n[drift]\nreference = \"ref/reference.json\"\n"), reference: reference)
        let export = try Self.make(source)
        let data = export.manifests[0].document["data"]
        #expect(data?["drift-reference.json"] == .string(reference))
        let text = try #require(Self.configText(export))
        #expect(try PipelineConfig.parse(text: text, path: "/p.toml").drift?.reference == "/etc/pipeline/demo/drift-reference.json")

        let huge = try Self.source(Self.config(extra: "\n[drift]\nreference = \"r.json\"\n"), reference: String(repeating: "x", count: 1_000_001))
        let refused = try #require(Self.refusal { _ = try Self.make(huge) })
        #expect(refused.kind == .config)
        #expect(refused.message.contains("more than a ConfigMap holds (1000000)"), "\(refused.message)")
    }

    @Test func namesAreKubernetesNames() throws {
        #expect(try Self.make(try Self.source(Self.config(name: "Fraud_v2.prod"))).manifests[1].name == "fraud-v2-prod")
        #expect(try Self.make(try Self.source(Self.config(name: "2fraud"))) { $0.name = "fraud" }.manifests[1].name == "fraud")
        #expect(throws: ExportError.self) { try Self.make(try Self.source(Self.config(name: "2fraud"))) }
        #expect(KubernetesOptions.objectName(forRun: "-x") == nil)
        #expect(KubernetesOptions.objectName(forRun: String(repeating: "a", count: 53)) == nil)
        // Without `name`, the config keeps the one it had: the ConfigMap is mounted under it.
        let unnamed = Self.config().replacingOccurrences(of: "name = \"demo\"\n", with: "")
        let export = try Self.make(try Self.source(unnamed))
        #expect(export.manifests[1].document.text.contains("mountPath: /etc/pipeline/fraud"))
    }

    /// Options that do not fit together, and what the refusal says.
    static let misfits: [(KubernetesOptions, String)] = [
        ({ var o = KubernetesOptions(); o.stream = true; return o }(), "--stream needs --source CMD and --sink CMD"),
        ({ var o = KubernetesOptions(); o.source = "a"; return o }(), "--source and --sink go with --stream"),
        ({ var o = KubernetesOptions(); o.stream = true; o.source = "a"; o.sink = "b"; o.splits = 2; return o }(), "--splits is for a Job over a file"),
        ({ var o = KubernetesOptions(); o.replicas = 2; return o }(), "--replicas goes with --stream"),
        ({ var o = KubernetesOptions(); o.modelClaim = "m"; return o }(), "--model-claim goes with --model volume"),
        ({ var o = KubernetesOptions(); o.model = .volume; o.modelPath = "/opt/m.onnx"; return o }(), "--model-path must be under it"),
        ({ var o = KubernetesOptions(); o.inputPath = "data/in.jsonl"; return o }(), "--input takes an absolute path"),
        ({ var o = KubernetesOptions(); o.partsDirectory = "/data/../parts"; return o }(), "--parts takes an absolute path"),
        ({ var o = KubernetesOptions(); o.cpu = 2; o.extraCPU = 1; return o }(), "give one"),
        ({ var o = KubernetesOptions(); o.dataClaim = "Data"; return o }(), "is not a Kubernetes name"),
        ({ var o = KubernetesOptions(); o.uid = 0; return o }(), "never run as root"),
        ({ var o = KubernetesOptions(); o.image = "a b"; return o }(), "is not an image reference"),
    ]

    @Test(arguments: misfits)
    func optionsThatDoNotFitAreRefused(_ options: KubernetesOptions, _ says: String) throws {
        let refused = try #require(Self.refusal { try options.validate() })
        #expect(refused.kind == .usage)
        #expect(refused.message.contains(says), "\(refused.message)")
    }

    @Test func theSameInputGivesTheSameBytes() throws {
        let a = try Self.make(try Self.source()) { $0.splits = 3 }
        let b = try Self.make(try Self.source()) { $0.splits = 3 }
        #expect(YAML.stream(a.manifests.map(\.document)) == YAML.stream(b.manifests.map(\.document)))
        // A changed config changes the pods' checksum annotation (a StatefulSet then rolls).
        let c = try Self.make(try Self.source(Self.config(infer: 3))) { $0.splits = 3 }
        #expect(a.manifests[1].document["spec"]?["template"]?["metadata"]?["annotations"]?["checksum/config"]
                != c.manifests[1].document["spec"]?["template"]?["metadata"]?["annotations"]?["checksum/config"])
    }

    /// What Kubernetes does to a command, an argument or an environment value: `$$` is `$`,
    /// `$(NAME)` the variable (left as written when there is none), any other `$` itself.
    static func expand(_ text: String, _ variables: [String: String]) -> String {
        let s = Array(text)
        var out = ""
        var i = 0
        while i < s.count {
            guard s[i] == "$", i + 1 < s.count else { out.append(s[i]); i += 1; continue }
            if s[i + 1] == "$" {
                out.append("$")
                i += 2
            } else if s[i + 1] == "(", let close = s[(i + 2)...].firstIndex(of: ")") {
                let name = String(s[(i + 2)..<close])
                out += variables[name] ?? "$(" + name + ")"
                i = close + 1
            } else {
                out.append(s[i])
                out.append(s[i + 1])
                i += 2
            }
        }
        return out
    }

    @Test(arguments: ["a $(B) $$ $x $", "$$(B)", "$", "$$", "$(", "x$(y", "$((1+2))", "echo $(date) $HOME ${X}", ""])
    func whatKubernetesExpandsComesBackAsWritten(_ text: String) {
        #expect(Self.expand(KubernetesExport.escaped(text), ["B": "bee", "date": "now", "y": "why"]) == text)
    }

    @Test func dollarsKubernetesWouldExpandAreDoubled() {
        #expect(KubernetesExport.escaped("a $(B) $$ $x $") == "a $$(B) $$$ $x $")
        #expect(KubernetesExport.fnv1a("") == "cbf29ce484222325")
        #expect(KubernetesExport.fnv1a("a") == "af63dc4c8601ec8c")
    }

    @Test func cpuQuantitiesAreWholeCoresOrThousandths() {
        #expect(PodResources.quantity(cpu: 2000) == "2")
        #expect(PodResources.quantity(cpu: 1250) == "1250m")
        #expect(PodResources.decimal(250) == "0.25")
        #expect(PodResources.decimal(2050) == "2.05")
        #expect(PodResources.decimal(3000) == "3")
    }
}
