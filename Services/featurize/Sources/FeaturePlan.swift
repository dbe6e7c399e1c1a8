import Config
import Messages

/// How a `onehot` feature spells a non-string field's value to compare it with the categories.
enum CategoryText: Sendable {
    /// The string's bytes.
    case string
    /// Decimal digits with a leading "-" for negatives ("7", "-12").
    case int
    /// "true" or "false".
    case bool
}

/// A compiled `onehot`: the categories, how values are spelled, the dropped category and the
/// category a missing value takes.
struct OneHotEncoding: Sendable {
    let table: CategoryTable
    let text: CategoryText
    /// Index of the dropped category (no column; encodes as all zeros), if any.
    let drop: Int?
    /// Index of the category a missing value takes (`fill`); nil: missing is all zeros.
    let fill: Int?

    /// The output column (within the feature) of category `index`, nil for the dropped one.
    @inline(__always)
    func column(of index: Int) -> Int? {
        guard let drop else { return index }
        return index == drop ? nil : index > drop ? index - 1 : index
    }
}

/// A compiled `hash` (FeatureHasher of one string).
struct StringHashing: Sendable {
    let nFeatures: Int
    let alternateSign: Bool
    /// The UTF-8 bytes a missing value is hashed as (`fill`); nil: missing sets no column.
    let fill: [UInt8]?
}

/// One `[[feature]]`, resolved against the schema.
struct FeatureStep: Sendable {
    enum Operation: Sendable {
        /// One column: the transform of the value, a NaN (or missing) value replaced by `fill` first.
        case number(NumericTransform, fill: Double?)
        /// `bucketize` one-hot: one column per bin, 1 in the bin `transform` (a `.bin`) gives.
        case binOneHot(NumericTransform, fill: Double?)
        case onehot(OneHotEncoding)
        case hash(StringHashing)
        case text(TextFeature)
    }

    /// The record column it reads (schema order).
    let column: Int
    /// Its first output column.
    let offset: Int
    let width: Int
    let operation: Operation

    /// The transform and fill of the steps computed column-wise from doubles first.
    var numeric: (transform: NumericTransform, fill: Double?)? {
        switch operation {
        case .number(let t, let fill), .binOneHot(let t, let fill): (t, fill)
        default: nil
        }
    }
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
    /// How many steps are computed column-wise from doubles (`numeric` is non-nil).
    let numericCount: Int
    /// Whether any step writes other than one value per row (mostly zeros: a dense matrix is
    /// zero-filled first).
    let hasSparseKinds: Bool
    /// Whether any step is a text kind (they need a `TextScratch`).
    let hasText: Bool

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
            let operation = try FeatureCompiler(spec: spec, type: fields[column].type).operation()
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
        numericCount = steps.filter { $0.numeric != nil }.count
        hasSparseKinds = steps.contains { if case .number = $0.operation { false } else { true } }
        hasText = steps.contains { if case .text = $0.operation { true } else { false } }
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
