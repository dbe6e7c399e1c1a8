/// The pod every workload runs: one container, `pipeline up` (or the stream script around it),
/// non-root with a read-only root file system, the config from the ConfigMap, the run directory
/// on a memory-backed emptyDir, probes on `/healthz`, Prometheus annotations on the metrics port.
struct PodTemplate {
    static let container = "pipeline"

    /// A claim mounted into the pod.
    struct Volume {
        var name: String
        var mountPath: String
        var readOnly: Bool
        var claim: String
    }

    /// An environment variable's value.
    enum EnvValue {
        /// Taken literally (`$(` escaped).
        case value(String)
        /// From the pod's own object (the downward API).
        case fieldRef(String)
    }

    let name: String
    let runName: String
    let options: KubernetesOptions
    let layout: PodLayout
    let resources: PodResources
    let configHash: String
    let image: String
    let version: String

    var configMapName: String { name + "-config" }

    /// The labels every pod of this export is selected by.
    var selector: YAML {
        .map([("app.kubernetes.io/name", .string("pipeline")), ("app.kubernetes.io/instance", .string(name))])
    }

    var labels: YAML {
        guard case .map(let base) = selector else { return selector }
        return .map(base + [("app.kubernetes.io/component", .string(options.stream ? "stream" : "batch")),
                            ("app.kubernetes.io/version", .string(version)),
                            ("app.kubernetes.io/managed-by", .string("pipeline-export"))])
    }

    func metadata(_ objectName: String, annotations: [(String, YAML)] = []) -> YAML {
        var entries: [(String, YAML)] = [("name", .string(objectName)), ("labels", labels)]
        if !annotations.isEmpty { entries.append(("annotations", .map(annotations))) }
        return .map(entries)
    }

    func template(command: [String], env: [(String, EnvValue)], restartPolicy: String, volumes extra: [Volume]) -> YAML {
        var volumes = extra
        if options.model == .volume {
            volumes.append(Volume(name: "model", mountPath: KubernetesOptions.modelMount, readOnly: true,
                                  claim: options.modelClaim ?? name + "-model"))
        }
        let probe = YAML.map([("path", .string("/healthz")), ("port", .string("metrics"))])
        let quantities = YAML.map([("cpu", .string(PodResources.quantity(cpu: resources.millicores))),
                                   ("memory", .string("\(resources.memoryMiB)Mi"))])
        let container = YAML.map([
            ("name", .string(Self.container)),
            ("image", .string(image)),
            ("command", .list(command.map { .string($0) })),
            ("env", .list(env.map { name, value in
                switch value {
                case .value(let text):
                    return .map([("name", .string(name)), ("value", .string(KubernetesExport.escaped(text)))])
                case .fieldRef(let path):
                    return .map([("name", .string(name)), ("valueFrom", .map([("fieldRef", .map([("fieldPath", .string(path))]))]))])
                }
            })),
            ("ports", .list([.map([("name", .string("metrics")), ("containerPort", .int(options.metricsPort)),
                                   ("protocol", .string("TCP"))])])),
            ("resources", .map([("requests", quantities), ("limits", quantities)])),
            // Building a large model's weight cache comes before the metrics server: up to 5 min.
            ("startupProbe", .map([("httpGet", probe), ("periodSeconds", .int(2)), ("failureThreshold", .int(150))])),
            ("readinessProbe", .map([("httpGet", probe), ("periodSeconds", .int(5))])),
            // 503 while a stage has no ready replica (a restart, `pipeline scale STAGE=0`):
            // only a minute of it means the run is stuck.
            ("livenessProbe", .map([("httpGet", probe), ("periodSeconds", .int(10)), ("timeoutSeconds", .int(5)),
                                    ("failureThreshold", .int(6))])),
            ("securityContext", .map([
                ("allowPrivilegeEscalation", .bool(false)),
                ("readOnlyRootFilesystem", .bool(true)),
                ("privileged", .bool(false)),
                ("capabilities", .map([("drop", .list([.string("ALL")]))])),
            ])),
            ("volumeMounts", .list(
                [.map([("name", .string("config")), ("mountPath", .string(layout.configDirectory(runName))), ("readOnly", .bool(true))]),
                 .map([("name", .string("run")), ("mountPath", .string(layout.runRoot))])]
                + volumes.map { v in
                    .map([("name", .string(v.name)), ("mountPath", .string(v.mountPath))] + (v.readOnly ? [("readOnly", .bool(true))] : []))
                })),
        ])
        return .map([
            ("metadata", .map([
                ("labels", labels),
                ("annotations", .map([
                    ("prometheus.io/scrape", .string("true")),
                    ("prometheus.io/port", .string(String(options.metricsPort))),
                    ("prometheus.io/path", .string("/metrics")),
                    ("checksum/config", .string(configHash)),
                ])),
            ])),
            ("spec", .map([
                ("restartPolicy", .string(restartPolicy)),
                ("automountServiceAccountToken", .bool(false)),
                // Service environment variables (`<SERVICE>_PORT`, …) would pour into
                // `pipeline up`'s environment, where `PIPELINE_*` names are settings.
                ("enableServiceLinks", .bool(false)),
                ("terminationGracePeriodSeconds", .int(30)),
                ("securityContext", .map([
                    ("runAsNonRoot", .bool(true)),
                    ("runAsUser", .int(options.uid)),
                    ("runAsGroup", .int(options.uid)),
                    ("fsGroup", .int(options.uid)),
                    ("seccompProfile", .map([("type", .string("RuntimeDefault"))])),
                ])),
                ("containers", .list([container])),
                ("volumes", .list(
                    [.map([("name", .string("config")), ("configMap", .map([("name", .string(configMapName))]))]),
                     // A memory-backed emptyDir is a tmpfs whose root is mode 1777 (sticky, as
                     // /tmp), which the run directory's safety check accepts above it. Its pages
                     // are the pod's memory: bounded by it, not by a second, smaller limit.
                     .map([("name", .string("run")), ("emptyDir", .map([("medium", .string("Memory")),
                                                                        ("sizeLimit", .string("\(resources.memoryMiB)Mi"))]))])]
                    + volumes.map { v in
                        .map([("name", .string(v.name)),
                              ("persistentVolumeClaim", .map([("claimName", .string(v.claim))] + (v.readOnly ? [("readOnly", .bool(true))] : [])))])
                    })),
            ])),
        ])
    }
}
