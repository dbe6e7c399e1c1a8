import Config
import InferStage
import Messages

/// `pipeline profile`: a reference profile of training records, made by the same stages `up`
/// runs (ingest, featurize, infer, in one process), in two passes over the records:
/// 1. bins: per numeric field (and text length, and the score) up to `sampleSize` values kept by
///    reservoir sampling (all of them for smaller inputs), whose quantiles give the edges; per
///    string field, its values' counts (up to `maxDistinct` distinct values);
/// 2. counts: the records run again through the stages with those bins as the run's drift plan,
///    so the profile's counts are made by the very code that counts the live stream.
/// Memory is bounded by the sample and the distinct values, whatever the input's size.
public struct DriftProfiler {
    public struct Options: Sendable {
        /// Bins per numeric field (quantiles of the training values).
        public var bins = 10
        /// Most frequent values kept per categorical field.
        public var top = 20
        /// Fields to profile; nil: every input field a `[[feature]]` reads.
        public var fields: [String]?
        /// Profile the model's predictions too (label and score).
        public var predictions = true
        public var sampleSize = 100_000
        public var maxDistinct = 100_000
        public init() {}
    }

    public enum Failure: Error, CustomStringConvertible {
        case unknownField(String, known: [String])
        case noRecords(rejected: Int)
        public var description: String {
            switch self {
            case .unknownField(let name, let known):
                "--fields names \"\(name)\", which is not an input field (input fields: " + known.joined(separator: ", ") + ")"
            case .noRecords(let rejected):
                "no record reached the model (\(rejected) rejected): nothing to profile"
            }
        }
    }

    /// One field's first-pass state.
    private struct Collector {
        var spec: FieldSpec
        var column: Int
        var kind: DriftPlan.Kind
        var sample = Reservoir()
        /// Values by their bytes (live counting matches bytes: "é" and "e\u{301}" are two values).
        var strings: [[UInt8]: UInt64] = [:]
        var overflow = false
    }

    /// A uniform sample of a stream (Algorithm R with a fixed-seed generator: the same input gives the same sample).
    struct Reservoir {
        var values: [Double] = []
        var seen: UInt64 = 0
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15

        mutating func add(_ x: Double, capacity: Int) {
            seen += 1
            if values.count < capacity { values.append(x); return }
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            let j = state % seen
            if j < UInt64(capacity) { values[Int(j)] = x }
        }

        /// Edges at the quantiles j/bins, j = 1…bins−1, each an actual sample value
        /// (numpy's `method="lower"`: index ⌊q·(n−1)⌋), duplicates dropped.
        func edges(bins: Int) -> [Double] {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return [] }
            var out: [Double] = []
            for j in 1..<bins {
                let index = Int((Double(j) / Double(bins) * Double(sorted.count - 1)).rounded(.down))
                let e = sorted[index]
                if out.last.map({ $0 < e }) ?? true { out.append(e) }
            }
            return out
        }
    }

    public let config: PipelineConfig
    public let options: Options

    public init(config: PipelineConfig, options: Options) throws(Failure) {
        self.config = config
        self.options = options
        if let names = options.fields {
            for n in names where config.input.fieldIndex(n) == nil {
                throw .unknownField(n, known: config.input.fields.map(\.name))
            }
        }
    }

    /// The names of the input fields profiled, in schema order.
    public var fieldNames: [String] { profiledFields.map(\.spec.name) }

    /// The fields profiled, in schema order.
    var profiledFields: [(spec: FieldSpec, column: Int, kind: DriftPlan.Kind)] {
        let read = Set(config.features.map(\.field))
        let text = Set(config.features.compactMap { f -> String? in
            switch f.kind {
            case .textHash, .tfidf: f.field
            default: nil
            }
        })
        return config.input.fields.enumerated().compactMap { i, spec in
            guard options.fields?.contains(spec.name) ?? read.contains(spec.name) else { return nil }
            let kind: DriftPlan.Kind = switch spec.type {
            case .float, .int: .numeric
            case .bool: .categorical
            case .string: text.contains(spec.name) ? .textLength : .categorical
            }
            return (spec, i, kind)
        }
    }

    /// Profiles the records `read` gives, twice: `read(pass)` starts pass 0 or 1 over the same
    /// records and is then called for each next piece (nil at the end).
    /// - Returns: the profile, and the records rejected on the way.
    public func run(read: (Int) throws -> UnsafeRawBufferPointer?) throws -> (DriftProfile, rejected: Int, warnings: [String]) {
        var warnings: [String] = []
        var collectors = profiledFields.map { Collector(spec: $0.spec, column: $0.column, kind: $0.kind) }
        var score = Reservoir()
        var classes = 0
        var classifier = false
        var fused = try FusedPipeline(config: config)
        let labels = fused.classLabels
        // Pass 1: samples and value counts.
        var rejectedFirst = 0
        rejectedFirst = try fused.run(read: { try read(0) }, write: { _ in }, observe: { stage, frame in
            switch (stage, frame.header.kind) {
            case (0, .records):
                let batch = try RecordBatchView.decode(frame)
                for k in collectors.indices {
                    let c = batch.columns[collectors[k].column]
                    for row in 0..<batch.rows where !c.isMissing(row) {
                        switch (collectors[k].kind, collectors[k].spec.type) {
                        case (.numeric, _):
                            let x = c.double(row)
                            if !x.isNaN { collectors[k].sample.add(x, capacity: options.sampleSize) }
                        case (.textLength, _):
                            collectors[k].sample.add(Double(c.string(row).count), capacity: options.sampleSize)
                        case (.categorical, .bool):
                            break  // its values are "false" and "true"
                        case (.categorical, _):
                            let s = Array(c.string(row))
                            if collectors[k].strings[s] != nil || collectors[k].strings.count < options.maxDistinct {
                                collectors[k].strings[s, default: 0] += 1
                            } else {
                                collectors[k].overflow = true
                            }
                        }
                    }
                }
            case (2, .scores):
                guard options.predictions else { break }
                let scores = try ScoreBatchView.decode(frame)
                classes = scores.cols
                classifier = labels != nil || scores.cols > 1
                for row in 0..<scores.rows {
                    let values = scores.values[(row * scores.cols)..<((row + 1) * scores.cols)]
                    // The score of the predicted class: the first largest value, as aggregate picks
                    // it; a row with a NaN has a NaN score there (missing), so none here.
                    guard !values.contains(where: \.isNaN) else { continue }
                    var best = values.startIndex
                    for i in values.indices where values[i] > values[best] { best = i }
                    score.add(Double(values[best]), capacity: options.sampleSize)
                }
            default:
                break
            }
        }).count
        // The bins.
        var fields: [DriftPlan.Field] = []
        var types: [FieldType] = []
        for c in collectors {
            var f = DriftPlan.Field(name: c.spec.name, kind: c.kind)
            switch (c.kind, c.spec.type) {
            case (.categorical, .bool): f.values = ["false", "true"]
            case (.categorical, _):
                f.values = c.strings.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.lexicographicallyPrecedes($1.key) }
                    .prefix(options.top).map { String(decoding: $0.key, as: UTF8.self) }
                if c.overflow {
                    warnings.append("\(c.spec.name) has more than \(options.maxDistinct) distinct values: its top values were chosen "
                                    + "among the first \(options.maxDistinct) seen (the counts are exact)")
                }
            default: f.edges = c.sample.edges(bins: options.bins)
            }
            fields.append(f)
            types.append(c.spec.type)
        }
        var predictions: [DriftPlan.Field] = []
        if options.predictions && classes > 0 {
            if classifier {
                let names = labels?.map(\.description) ?? (0..<classes).map { String($0) }
                predictions.append(DriftPlan.Field(name: "label", kind: .categorical, values: names))
            }
            predictions.append(DriftPlan.Field(name: "score", kind: .numeric, edges: score.edges(bins: options.bins)))
        }
        // Pass 2: the counts, by the stages themselves.
        var counting = config
        counting.driftPlan = DriftPlan(fields: fields, predictions: predictions)
        var second = try FusedPipeline(config: counting)
        var totals = [UInt64](repeating: 0, count: counting.driftPlan!.slotCount)
        var records: UInt64 = 0
        let rejected = try second.run(read: { try read(1) }, write: { _ in }, observe: { stage, frame in
            guard stage == 3, frame.header.kind == .output else { return }
            let out = try OutputBatchView.decode(frame)
            guard out.summary.rows > 0 else { return }
            for (i, c) in out.summary.drift.enumerated() { totals[i] += c }
            records += out.summary.rows
        }).count
        guard records > 0 else { throw Failure.noRecords(rejected: max(rejected, rejectedFirst)) }
        var offset = 0
        func take(_ f: DriftPlan.Field, type: FieldType?) -> DriftProfile.Field {
            defer { offset += f.slotCount }
            return DriftProfile.Field(bins: f, type: type, counts: Array(totals[offset..<(offset + f.slotCount)]))
        }
        let profileFields = zip(fields, types).map { take($0, type: $1) }
        let profilePredictions = predictions.map { take($0, type: nil) }
        return (DriftProfile(records: records, fields: profileFields, predictions: profilePredictions), rejected, warnings)
    }
}
