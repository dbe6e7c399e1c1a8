import Messages

/// The validated contents of a `pipeline.toml` (DESIGN.md section 5).
///
/// Built by `PipelineConfig.parse(text:path:)` (see `ConfigLoader.swift`); every value here has
/// already been type- and range-checked, and every path is absolute (resolved against the
/// config file's directory).
public struct PipelineConfig: Sendable, Equatable {
    public var pipeline: PipelineSection
    public var input: InputSpec
    public var features: [FeatureSpec]
    public var model: ModelSpec
    public var output: OutputSpec
    /// Per-stage settings, keyed by stage; a stage without a `[stage.X]` table gets defaults.
    public var stages: [StageKind: StageSpec]
    /// Directory of the config file; relative paths in the file were resolved against it.
    public var baseDirectory: String
    /// `[metrics]`
    public var metrics: MetricsSpec
    /// `[autoscale]`, or nil when the replica counts stay as set.
    public var autoscale: AutoscaleSpec?
    /// `[drift]`, or nil when the run watches no drift.
    public var drift: DriftSpec?
    /// What the stages count for the drift watch: the bins of `drift.reference`, read by the
    /// supervisor (the config file only names it) and handed to every replica with its config.
    public var driftPlan: DriftPlan?

    public init(pipeline: PipelineSection, input: InputSpec, features: [FeatureSpec], model: ModelSpec,
                output: OutputSpec, stages: [StageKind: StageSpec], baseDirectory: String, metrics: MetricsSpec = MetricsSpec()) {
        self.metrics = metrics
        self.pipeline = pipeline
        self.input = input
        self.features = features
        self.model = model
        self.output = output
        self.stages = stages
        self.baseDirectory = baseDirectory
    }

    /// Settings of one stage, defaults filled in.
    public func stage(_ kind: StageKind) -> StageSpec { stages[kind] ?? StageSpec() }

    /// This run's config with the model part (`[[feature]]`, `[model]`, `[output]`) of `other`:
    /// what a rolled-out version runs with (the run keeps its own input, stages and the rest).
    public func withModelPart(of other: PipelineConfig) -> PipelineConfig {
        var c = self
        c.features = other.features
        c.model = other.model
        c.output = other.output
        return c
    }
}

/// The four processing stages. Their order is the data path's, `NodeKind.dataPath`.
public enum StageKind: String, Sendable, CaseIterable, Comparable, Hashable {
    case ingest, featurize, infer, aggregate

    /// The stages in data-path order.
    public static let allCases: [StageKind] = NodeKind.dataPath.compactMap { StageKind(rawValue: $0.name) }

    /// The data-path node of this stage.
    public var node: NodeKind { NodeKind.dataPath.first { $0.name == rawValue }! }

    public static func < (a: StageKind, b: StageKind) -> Bool { a.order < b.order }
    public var order: Int { Self.allCases.firstIndex(of: self)! }

    /// The stage that feeds this one (nil: the source feeds ingest).
    public var previous: StageKind? { node.upstream.flatMap { StageKind(rawValue: $0.name) } }

    /// The stage this one feeds (nil: aggregate feeds the sink).
    public var next: StageKind? { node.downstream.flatMap { StageKind(rawValue: $0.name) } }
}

/// `[pipeline]`
public struct PipelineSection: Sendable, Equatable {
    /// Run-directory name; default: the config file's directory name.
    public var name: String
    /// Rows (records) per batch; default 256, range 1...65536.
    public var batchRows: Int = 256
    /// Longest wait to fill a batch while input keeps coming; default 2, range 0...10000.
    public var lingerMs: Int = 2
    /// Most batches in flight (uncommitted) at once; default 64, range 1...4096.
    public var window: Int = 64

    public init(name: String, batchRows: Int = 256, lingerMs: Int = 2, window: Int = 64) {
        self.name = name
        self.batchRows = batchRows
        self.lingerMs = lingerMs
        self.window = window
    }
}

public enum InputFormat: String, Sendable, Equatable, CaseIterable { case jsonl, csv }

/// `[input]` plus its `[[input.field]]` schema.
public struct InputSpec: Sendable, Equatable {
    public var format: InputFormat = .jsonl
    /// Stop after this many rejected records; -1 = never (default).
    public var maxErrors: Int = -1
    /// `max_errors` was written in the config. Without it, a run that rejects every record it
    /// read fails (exit 11); with it, the user has said how many rejects are acceptable.
    public var maxErrorsSet = false
    /// Longest accepted input record in bytes (default 1 MiB, at most 32 MiB); longer ones are rejected.
    public var maxLineBytes: Int = 1 << 20
    /// The schema, in declaration order. Fields not listed are ignored.
    public var fields: [FieldSpec]

    public init(format: InputFormat = .jsonl, maxErrors: Int = -1, maxLineBytes: Int = 1 << 20,
                fields: [FieldSpec]) {
        self.format = format
        self.maxErrors = maxErrors
        self.maxLineBytes = maxLineBytes
        self.fields = fields
    }

    /// Index of the field named `name` in `fields`.
    public func fieldIndex(_ name: String) -> Int? { fields.firstIndex { $0.name == name } }
}

public enum FieldType: String, Sendable, Equatable, CaseIterable { case float, int, string, bool }

/// One `[[input.field]]`.
public struct FieldSpec: Sendable, Equatable {
    public var name: String
    public var type: FieldType
    /// Missing or null: reject the record when true; otherwise NaN (numbers), "" (string), false (bool).
    public var required: Bool = true

    public init(name: String, type: FieldType, required: Bool = true) {
        self.name = name
        self.type = type
        self.required = required
    }
}

/// `[model]`
public struct ModelSpec: Sendable, Equatable {
    /// Absolute path of the ONNX file.
    public var path: String
    /// Graph input to feed; nil = the first input.
    public var input: String?
    /// Graph output to read; nil = the first float tensor output.
    public var output: String?
    /// How the model's linear layers compute; `.float32` (the default) runs the model as written.
    public var precision: ModelPrecision
    /// What outputs and reports call this model (`[model] version`); nil: the supervisor names it
    /// by the model file's sha256 prefix. In a replica, the name it was given.
    public var version: String?

    /// A version name: 1 to 64 ASCII letters, digits, '.', '_' or '-'.
    public static func isValidVersion(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }

    public init(path: String, input: String? = nil, output: String? = nil, precision: ModelPrecision = .float32) {
        self.path = path
        self.input = input
        self.output = output
        self.precision = precision
    }
}

/// `[model] precision`: what the linear layers of a float model are computed with.
public enum ModelPrecision: String, Sendable, Equatable, CaseIterable {
    /// As the model is written.
    case float32
    /// Weights quantized at load to int8 (symmetric, one scale per output column), each record's
    /// activations to uint8 per layer; integer products, float results. Scores move slightly:
    /// `pipeline check --data` states by how much before a rollout.
    case int8
    /// Weights kept in bfloat16 (half the memory), products and sums in float32.
    case bf16
}

public enum OutputFormat: String, Sendable, Equatable, CaseIterable { case jsonl, csv }

/// The fields an output record can carry after its passthrough fields.
public enum OutputField: String, Sendable, Equatable, CaseIterable {
    case label, score, probabilities, prediction
    /// The id of the model version that scored the record (see "Rolling out a new model").
    case modelVersion = "model_version"
}

/// `[output]`
public struct OutputSpec: Sendable, Equatable {
    public var format: OutputFormat = .jsonl
    /// Input fields copied first into each output record (each must be in the schema).
    public var passthrough: [String] = []
    /// The classes, one per model output column, all integers or all strings: `label` writes
    /// the class itself (an integer as a JSON number, a string as a JSON string) instead of its
    /// index. From the config's `labels`, or (`parse(text:path:model:)`) the model's classes.
    public var labels: [ClassLabel]? = nil
    /// What follows the passthrough fields, in this order. Default `["label", "score"]`.
    public var fields: [OutputField] = [.label, .score]

    public init(format: OutputFormat = .jsonl, passthrough: [String] = [], labels: [ClassLabel]? = nil,
                fields: [OutputField] = [.label, .score]) {
        self.format = format
        self.passthrough = passthrough
        self.labels = labels
        self.fields = fields
    }
}

/// `[stage.<name>]`
public struct StageSpec: Sendable, Equatable {
    /// Replica processes to start with; default 1, range 0...64 (0 only via `pipeline scale`).
    public var replicas: Int = 1
    /// More than `maxRestarts` restarts within `restartWindowSeconds` fails the run.
    public var maxRestarts: Int = 5
    public var restartWindowSeconds: Double = 30
    /// Bounds for autoscaling (`min_replicas`, `max_replicas`); nil: 1 and 64.
    public var minReplicas: Int?
    public var maxReplicas: Int?

    public init(replicas: Int = 1, maxRestarts: Int = 5, restartWindowSeconds: Double = 30) {
        self.replicas = replicas
        self.maxRestarts = maxRestarts
        self.restartWindowSeconds = restartWindowSeconds
    }
}

/// `[autoscale]`: the supervisor sizes the stages to the load, within a core budget.
public struct AutoscaleSpec: Sendable, Equatable {
    /// Replica processes that may be busy at once; nil: the machine's online CPUs.
    public var cores: Double?
    /// The busy share each replica is sized for.
    public var target: Double = 0.6
    public var intervalSeconds: Double = 0.5
    public var scaleUpAfterSeconds: Double = 1
    public var scaleDownAfterSeconds: Double = 30

    public init() {}
}

/// `[drift]`: watch the stream against a reference profile of the training data.
public struct DriftSpec: Sendable, Equatable {
    /// Absolute path of the reference profile (`pipeline profile` writes it).
    public var reference: String
    /// Input records per window (rejected ones included; the source cuts batches at its multiples).
    public var window: Int = 10_000
    /// PSI at or above which a numeric field (or text length, or the score) is reported.
    public var psiWarn: Double = 0.1
    public var psiAlert: Double = 0.2
    /// Jensen-Shannon distance (base 2) at or above which a categorical field (or the label) is reported.
    public var jsWarn: Double = 0.05
    public var jsAlert: Double = 0.08

    public init(reference: String) { self.reference = reference }
}

/// `[metrics]`
public struct MetricsSpec: Sendable, Equatable {
    /// `HOST:PORT` to serve `/metrics` and `/healthz` on (Prometheus text format); nil: off.
    /// Port 0 picks a free port.
    public var listen: String?

    public init(listen: String? = nil) { self.listen = listen }
}

extension PipelineConfig {
    /// What a featurize, infer or aggregate replica runs: the run's config with the model part
    /// of `version` (its `[[feature]]`, `[model]`, `[output]`), the labels and the version's id
    /// as the supervisor settled them.
    public static func forReplica(_ message: ConfigMessage, version: ModelVersion?) throws(ConfigError) -> PipelineConfig {
        var config = try parse(text: message.configText, path: message.configPath)
        guard let version else {
            if !message.classLabels.isEmpty { config.output.labels = message.classLabels }
            return config
        }
        if version.configPath != message.configPath || version.configText != message.configText {
            config = config.withModelPart(of: try parse(text: version.configText, path: version.configPath))
        }
        if !version.modelPath.isEmpty { config.model.path = version.modelPath }
        if !version.classLabels.isEmpty { config.output.labels = version.classLabels }
        config.model.version = version.id
        return config
    }
}

extension InputSpec {
    /// The first way `new` differs from this `[input]` section, said for a user; nil when they
    /// read records the same way.
    public func difference(to new: InputSpec) -> String? {
        if format != new.format {
            return "[input] format is \"\(new.format.rawValue)\" in the new config, \"\(format.rawValue)\" in the running one"
        }
        let old = fields.map(\.name), changed = new.fields.map(\.name)
        if old != changed {
            return "the [[input.field]] names differ: the running config reads " + old.joined(separator: ", ")
                + "; the new one " + changed.joined(separator: ", ")
        }
        for (a, b) in zip(fields, new.fields) where a != b {
            if a.type != b.type { return "input field `\(a.name)` is \(b.type.rawValue) in the new config, \(a.type.rawValue) in the running one" }
            return "input field `\(a.name)` has required = \(b.required) in the new config, \(a.required) in the running one"
        }
        if maxErrors != new.maxErrors || maxErrorsSet != new.maxErrorsSet {
            return "[input] max_errors is \(new.maxErrorsSet ? String(new.maxErrors) : "unset") in the new config, \(maxErrorsSet ? String(maxErrors) : "unset") in the running one"
        }
        if maxLineBytes != new.maxLineBytes {
            return "[input] max_line_bytes is \(new.maxLineBytes) in the new config, \(maxLineBytes) in the running one"
        }
        return nil
    }
}
