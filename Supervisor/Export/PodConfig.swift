import Config

/// Where things are inside a pod. Tests move them to run a pod's command on this machine.
public struct PodLayout: Sendable, Equatable {
    /// The ConfigMap is mounted at `<configRoot>/<run name>`, so that a config without
    /// `[pipeline] name` keeps the name it had (the default is its directory's name).
    public var configRoot = "/etc/pipeline"
    /// The memory-backed emptyDir; the run directory is `<runRoot>/<run name>`.
    public var runRoot = "/run/pipeline"
    /// How the container runs `pipeline` (found on the image's PATH).
    public var pipeline = "pipeline"

    public init() {}

    public func configDirectory(_ runName: String) -> String { configRoot + "/" + runName }
    public func configFile(_ runName: String) -> String { configDirectory(runName) + "/" + PodConfig.configKey }
    public func runDirectory(_ runName: String) -> String { runRoot + "/" + runName }
}

/// The config as a pod needs it, and the ConfigMap's data: the user's file with only the
/// values that name this machine changed (comments and layout kept).
struct PodConfig {
    static let configKey = "pipeline.toml"
    static let referenceKey = "drift-reference.json"
    /// A ConfigMap holds at most 1 MiB in all (etcd's object limit); keep room for the rest.
    static let maxBytes = 1_000_000

    /// The ConfigMap's entries, in order.
    var data: [(key: String, value: String)]
    /// The rewritten config text.
    var text: String

    /// - Parameters:
    ///   - modelPath: the model file's path inside the container.
    ///   - cores: the autoscaler's budget to write into `[autoscale]` when the config has none.
    /// - Throws: `ExportError` (`.config`) for what cannot be carried into a pod.
    static func make(_ source: ExportSource, modelPath: String, cores: Double?, layout: PodLayout) throws(ExportError) -> PodConfig {
        let config = source.config
        let runName = config.pipeline.name
        let podPath = layout.configFile(runName)
        var text = source.configText
        var data: [(key: String, value: String)] = []
        func edit(_ body: (String) throws(ConfigError) -> String?) throws(ExportError) -> String? {
            do { return try body(text) } catch { throw ExportError(.config, error.description) }
        }
        text = try edit { t throws(ConfigError) in
            try TOMLEdit.replacingString(at: ["model", "path"], in: t, file: source.configPath, with: modelPath)
        }!
        if config.drift != nil {
            guard let reference = source.driftReference else {
                throw ExportError(.config, "\(source.configPath): [drift] reference was not read")
            }
            text = try edit { t throws(ConfigError) in
                try TOMLEdit.replacingString(at: ["drift", "reference"], in: t, file: source.configPath,
                                             with: layout.configDirectory(runName) + "/" + referenceKey)
            }!
            data.append((referenceKey, reference))
        }
        if let autoscale = config.autoscale, autoscale.cores == nil {
            guard let cores else {
                throw ExportError(.config, "\(source.configPath): [autoscale] has no `cores`: in a pod the autoscaler would take "
                                  + "the node's CPUs for its budget; set `cores` in the config, or give --cpu (it becomes `cores`)")
            }
            let literal = PodResources.decimal(Int((cores * 1000).rounded(.up)))
            guard let added = try edit({ t throws(ConfigError) in
                try TOMLEdit.addingKey("cores", literal: literal, toTable: "autoscale", in: t, file: source.configPath)
            }) else {
                throw ExportError(.config, "\(source.configPath): [autoscale] has no `cores`, and is not written as an `[autoscale]` "
                                  + "table this export can add it to: set `cores` in the config")
            }
            text = added
        }
        // The pod's config must say what was meant, read where the pod reads it.
        let carried: PipelineConfig
        do {
            carried = try PipelineConfig.parse(text: text, path: podPath)
        } catch {
            throw ExportError(.config, "the config as rewritten for the pod does not parse (\(error.message)); this is a bug")
        }
        guard carried.model.path == modelPath, carried.pipeline.name == runName,
              carried.drift?.reference == config.drift.map({ _ in layout.configDirectory(runName) + "/" + referenceKey }),
              carried.autoscale == nil || carried.autoscale?.cores != nil else {
            throw ExportError(.config, "the config as rewritten for the pod does not say what was meant; this is a bug")
        }
        data.insert((configKey, text), at: 0)
        let bytes = data.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        if bytes > maxBytes {
            throw ExportError(.config, "the config" + (config.drift == nil ? "" : " and its [drift] reference")
                              + " take \(bytes) bytes: more than a ConfigMap holds (\(maxBytes)); profile fewer fields or fewer bins")
        }
        return PodConfig(data: data, text: text)
    }
}
