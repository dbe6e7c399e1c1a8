import Config

/// What the manifests are made from besides the options: the config as read, and what the
/// command measured or read beside it.
public struct ExportSource: Sendable {
    /// The config, parsed where it lies (its paths absolute).
    public var config: PipelineConfig
    /// The file's text, as written.
    public var configText: String
    /// The file's path, for messages.
    public var configPath: String
    /// The weight cache's size for this model and precision (what the memory-backed run
    /// directory holds besides logs), in bytes.
    public var cacheBytes: Int
    /// The `[drift] reference` file's text, when the config has `[drift]`.
    public var driftReference: String?
    /// The pipeline's version: the default image's tag.
    public var version: String

    public init(config: PipelineConfig, configText: String, configPath: String, cacheBytes: Int,
                driftReference: String? = nil, version: String) {
        self.config = config
        self.configText = configText
        self.configPath = configPath
        self.cacheBytes = cacheBytes
        self.driftReference = driftReference
        self.version = version
    }
}

/// One Kubernetes object and the file it is written to.
public struct Manifest: Sendable, Equatable {
    /// `configmap.yaml`, `job.yaml`, `statefulset.yaml`, `service.yaml`.
    public var fileName: String
    public var kind: String
    public var name: String
    public var document: YAML
}

/// The manifests of one export, in the order to apply them, and each pod's size.
public struct KubernetesExport: Sendable, Equatable {
    public var manifests: [Manifest]
    public var resources: PodResources

    /// Every file name an export can write (a new export into a directory removes the ones it
    /// does not write, so that `kubectl apply -f DIR` applies this export alone).
    public static let fileNames = ["configmap.yaml", "job.yaml", "service.yaml", "statefulset.yaml"]

    /// The manifests for `source` and `options`: a pure function of them (no clock, no file).
    /// - Throws: `ExportError`: `.usage` for options that do not fit, `.config` for what the
    ///   config cannot carry into a pod.
    public static func make(_ source: ExportSource, _ options: KubernetesOptions, layout: PodLayout = PodLayout()) throws(ExportError) -> KubernetesExport {
        try options.validate()
        let config = source.config
        let runName = config.pipeline.name
        guard let name = options.name ?? KubernetesOptions.objectName(forRun: runName) else {
            throw ExportError(.usage, "pipeline export kubernetes: the pipeline's name `\(runName)` is not a Kubernetes name "
                              + "(lowercase letters, digits and `-`, starting with a letter, at most 52 characters): give --name")
        }
        let modelFile = ConfigPath.lastComponent(config.model.path)
        let modelPath = options.modelPath ?? KubernetesOptions.modelMount + "/" + modelFile
        let cores = config.autoscale.map { $0.cores ?? options.cpu } ?? nil
        let resources = PodResources.compute(config, cores: cores, cacheBytes: source.cacheBytes, options: options)
        let podConfig = try PodConfig.make(source, modelPath: modelPath, cores: cores, layout: layout)

        let pod = PodTemplate(name: name, runName: runName, options: options, layout: layout, resources: resources,
                              configHash: fnv1a(podConfig.data.map { $0.key + "\u{0}" + $0.value + "\u{0}" }.joined()),
                              image: options.image ?? "pipeline:\(source.version)", version: source.version)
        let configMap = Manifest(fileName: "configmap.yaml", kind: "ConfigMap", name: pod.configMapName, document: .map([
            ("apiVersion", .string("v1")),
            ("kind", .string("ConfigMap")),
            ("metadata", pod.metadata(pod.configMapName)),
            ("data", .map(podConfig.data.map { ($0.key, .string($0.value)) })),
        ]))
        var up = [layout.pipeline, "up", "-f", layout.configFile(runName), "--run-dir", layout.runDirectory(runName),
                  "--metrics", "0.0.0.0:\(options.metricsPort)", "--quiet"]
        if options.stream {
            // A name no run directory can have (run names do not start with a dot).
            let script = StreamScript.text(up: up, io: layout.runRoot + "/.stream")
            let statefulSet = Manifest(fileName: "statefulset.yaml", kind: "StatefulSet", name: name, document: .map([
                ("apiVersion", .string("apps/v1")),
                ("kind", .string("StatefulSet")),
                ("metadata", pod.metadata(name, annotations: [("pipeline/sizing", .string(resources.sizing))])),
                ("spec", .map([
                    ("serviceName", .string(name)),
                    ("replicas", .int(options.replicas)),
                    ("podManagementPolicy", .string("Parallel")),
                    ("selector", .map([("matchLabels", pod.selector)])),
                    ("template", pod.template(command: ["sh", "-c", escaped(script)], env: [
                        ("POD_INDEX", .fieldRef("metadata.labels['apps.kubernetes.io/pod-index']")),
                        (StreamScript.sourceVariable, .value(options.source!)),
                        (StreamScript.sinkVariable, .value(options.sink!)),
                    ] + PodResources.logEnvironment, restartPolicy: "Always", volumes: [])),
                ])),
            ]))
            let service = Manifest(fileName: "service.yaml", kind: "Service", name: name, document: .map([
                ("apiVersion", .string("v1")),
                ("kind", .string("Service")),
                ("metadata", pod.metadata(name)),
                ("spec", .map([
                    ("clusterIP", .string("None")),
                    ("selector", pod.selector),
                    ("ports", .list([.map([("name", .string("metrics")), ("port", .int(options.metricsPort)),
                                           ("targetPort", .string("metrics"))])])),
                ])),
            ]))
            return KubernetesExport(manifests: [configMap, service, statefulSet], resources: resources)
        }

        let ext = config.output.format.rawValue
        let input = options.inputPath ?? KubernetesOptions.dataMount + "/input." + config.input.format.rawValue
        let parts = options.partsDirectory ?? KubernetesOptions.dataMount + "/parts"
        let index = "$(JOB_COMPLETION_INDEX)"
        let part = escaped(parts) + "/part-" + index
        up += ["--input", escaped(input), "--split", "\(index)/\(options.splits)", "--output", part + "." + ext,
               "--errors", part + ".errors.jsonl", "--stats", part + ".stats.json", "--events", part + ".events.jsonl"]
        let claim = options.dataClaim ?? name + "-data"
        let job = Manifest(fileName: "job.yaml", kind: "Job", name: name, document: .map([
            ("apiVersion", .string("batch/v1")),
            ("kind", .string("Job")),
            ("metadata", pod.metadata(name, annotations: [("pipeline/sizing", .string(resources.sizing))])),
            ("spec", .map([
                ("completionMode", .string("Indexed")),
                ("completions", .int(options.splits)),
                ("parallelism", .int(options.splits)),
                ("backoffLimitPerIndex", .int(2)),
                ("podFailurePolicy", .map([("rules", .list([
                    // Exit codes a retry cannot change: usage, config, model, too many rejects,
                    // environment, input that cannot fit (README "Exit codes").
                    .map([("action", .string("FailIndex")),
                          ("onExitCodes", .map([("containerName", .string(PodTemplate.container)), ("operator", .string("In")),
                                                ("values", .list([2, 3, 4, 5, 9, 11].map { .int($0) }))]))]),
                    // A pod taken away (preemption, a drained node) is not the run's failure.
                    .map([("action", .string("Ignore")),
                          ("onPodConditions", .list([.map([("type", .string("DisruptionTarget")), ("status", .string("True"))])]))]),
                ]))])),
                ("template", pod.template(command: up, env: [
                    // Set by the Job controller too; declared so that `$(JOB_COMPLETION_INDEX)` is
                    // expanded in the arguments whatever the version.
                    ("JOB_COMPLETION_INDEX", .fieldRef("metadata.annotations['batch.kubernetes.io/job-completion-index']")),
                ] + PodResources.logEnvironment, restartPolicy: "Never", volumes: [
                    PodTemplate.Volume(name: "data", mountPath: KubernetesOptions.dataMount, readOnly: false, claim: claim),
                ])),
            ])),
        ]))
        return KubernetesExport(manifests: [configMap, job], resources: resources)
    }

    /// `text` as Kubernetes takes it literally in a command, an argument or an environment
    /// value, where `$(NAME)` is a variable: a `$` before `$` or `(` is doubled.
    static func escaped(_ text: String) -> String {
        var out = ""
        var scalars = text.unicodeScalars.makeIterator()
        var next = scalars.next()
        while let c = next {
            next = scalars.next()
            out.unicodeScalars.append(c)
            if c == "$", next == "$" || next == "(" { out += "$" }
        }
        return out
    }

    /// FNV-1a, 64 bits, as 16 hex digits: the pods' `checksum/config` annotation, which changes
    /// with the ConfigMap's data so that applying a new config rolls a StatefulSet's pods.
    static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
