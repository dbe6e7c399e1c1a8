import Config
import Messages

/// How one number becomes one model-input value: scikit-learn's float64 operations, then one
/// rounding to Float32.
enum NumericTransform: Sendable, Equatable {
    /// `Float(x)`.
    case identity
    /// `Float((x - mean) / scale)`: StandardScaler's `X -= mean_; X /= scale_`.
    case standardize(mean: Double, scale: Double)
    /// `Float(x * scale + offset)`: MinMaxScaler's `X *= scale_; X += min_`.
    case minmax(scale: Double, offset: Double)

    /// StandardScaler with a given mean and std: a zero std divides by 1
    /// (`_handle_zeros_in_scale`), so a constant feature becomes `x - mean`.
    static func standardize(mean: Double, std: Double) -> NumericTransform {
        .standardize(mean: mean, scale: std == 0 ? 1 : std)
    }

    /// MinMaxScaler(feature_range=(0, 1)) fitted on data whose minimum is `min` and maximum `max`:
    /// `scale_ = 1 / range` and `min_ = 0 - min * scale_`, where a range below 10 × float64
    /// epsilon counts as 1 (`_handle_zeros_in_scale`), so a constant feature becomes `x - min`.
    static func minmax(min: Double, max: Double) -> NumericTransform {
        let range = max - min
        let scale = 1 / (range < 10 * Double.ulpOfOne ? 1 : range)
        return .minmax(scale: scale, offset: 0 - min * scale)
    }
}

/// How a `onehot` feature spells a non-string field's value to compare it with the categories.
enum CategoryText: Sendable {
    /// The string's bytes.
    case string
    /// Decimal digits with a leading "-" for negatives ("7", "-12").
    case int
    /// "true" or "false".
    case bool
}

/// One `[[feature]]`, resolved against the schema.
struct FeatureStep: Sendable {
    enum Operation: Sendable {
        case numeric(NumericTransform)
        case onehot(CategoryTable, CategoryText)
        case hash(buckets: Int)
    }

    /// The record column it reads (schema order).
    let column: Int
    /// Its first output column.
    let offset: Int
    let width: Int
    let operation: Operation
}

/// The features of a config compiled once: which record column each reads, where its output
/// columns start, and the parameters of its transform, all checked.
struct FeaturePlan: Sendable {
    /// Widest feature row still written dense; wider rows are written as CSR.
    static let maxDenseWidth = 4096
    /// Widest feature row a batch can describe (u32 on the wire, Int32 in the kernels).
    static let maxWidth = Int(Int32.max)

    let steps: [FeatureStep]
    /// Sum of the steps' widths: the model input width.
    let width: Int
    /// The column types a record batch must have (the schema's, in order).
    let schema: [ColumnType]
    /// Record columns forwarded as passthrough, in `[output] passthrough` order.
    let passthrough: [Int]
    /// How many steps are numeric (identity, standardize, minmax).
    let numericCount: Int
    /// Whether any step is onehot or hash (mostly zeros: a dense matrix is zero-filled first).
    let hasSparseKinds: Bool

    var isDense: Bool { width <= Self.maxDenseWidth }

    init(config: PipelineConfig) throws(FeaturizeError) {
        guard !config.features.isEmpty else { throw .noFeatures }
        let fields = config.input.fields
        var steps: [FeatureStep] = []
        var offset = 0
        for spec in config.features {
            guard let column = config.input.fieldIndex(spec.field) else {
                throw .unknownField(field: spec.field, line: spec.line)
            }
            let operation = try Self.operation(spec, type: fields[column].type)
            let width = spec.width
            guard width <= Self.maxWidth - offset else { throw .tooWide(width: offset + width, limit: Self.maxWidth) }
            steps.append(FeatureStep(column: column, offset: offset, width: width, operation: operation))
            offset += width
        }
        var passthrough: [Int] = []
        for name in config.output.passthrough {
            guard let column = config.input.fieldIndex(name) else { throw .unknownPassthrough(field: name) }
            passthrough.append(column)
        }
        self.steps = steps
        self.width = offset
        self.schema = fields.map(Self.columnType)
        self.passthrough = passthrough
        numericCount = steps.filter { if case .numeric = $0.operation { true } else { false } }.count
        hasSparseKinds = numericCount < steps.count
    }

    private static func operation(_ spec: FeatureSpec, type: FieldType) throws(FeaturizeError) -> FeatureStep.Operation {
        func unsupported(_ kind: String) -> FeaturizeError {
            .unsupportedType(field: spec.field, line: spec.line, kind: kind, type: type)
        }
        func invalid(_ reason: String) -> FeaturizeError {
            .invalidParameter(field: spec.field, line: spec.line, reason: reason)
        }
        let numeric = type == .float || type == .int || type == .bool
        switch spec.kind {
        case .identity:
            guard numeric else { throw unsupported("identity") }
            return .numeric(.identity)
        case .standardize(let mean, let std):
            guard numeric else { throw unsupported("standardize") }
            guard mean.isFinite, std.isFinite, std >= 0 else {
                throw invalid("standardize needs a finite mean and a finite std >= 0 (got mean \(mean), std \(std))")
            }
            return .numeric(.standardize(mean: mean, std: std))
        case .minmax(let min, let max):
            guard numeric else { throw unsupported("minmax") }
            guard min.isFinite, max.isFinite, min <= max, (max - min).isFinite else {
                throw invalid("minmax needs finite min <= max with a finite range (got min \(min), max \(max))")
            }
            return .numeric(.minmax(min: min, max: max))
        case .onehot(let categories):
            let text: CategoryText
            switch type {
            case .string: text = .string
            case .int: text = .int
            case .bool: text = .bool
            case .float: throw unsupported("onehot")
            }
            guard !categories.isEmpty else { throw invalid("onehot needs at least one category") }
            guard let table = CategoryTable(categories) else {
                // Byte-wise, as the table compares (String == would also match canonical equivalents).
                let bytes = categories.map { Array($0.utf8) }
                let i = bytes.indices.first { i in bytes[..<i].contains(bytes[i]) } ?? 0
                let duplicate = categories[i]
                throw invalid("onehot category \"\(duplicate)\" is listed twice")
            }
            return .onehot(table, text)
        case .hash(let buckets):
            guard type == .string else { throw unsupported("hash") }
            guard buckets >= 1 && buckets <= Int(Int32.max) else {
                throw invalid("hash buckets must be in 1...\(Int32.max) (got \(buckets))")
            }
            return .hash(buckets: buckets)
        }
    }

    private static func columnType(_ field: FieldSpec) -> ColumnType {
        switch field.type {
        case .float: .float
        case .int: .int
        case .string: .string
        case .bool: .bool
        }
    }
}
