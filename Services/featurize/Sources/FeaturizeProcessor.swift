import Config
import Messages

/// The featurize stage: each record batch becomes one feature batch (same sequence number and
/// flags) holding the model input for its rows.
///
/// Features are computed in config order and their outputs concatenated left to right, each
/// giving scikit-learn's numbers for the same fitted parameters (float64 arithmetic, one rounding
/// to Float32):
/// - `identity`: the number (ints rounded to the nearest Double, bools 0 or 1).
/// - `impute`: the number, or the fill value when it is missing or NaN (SimpleImputer).
/// - `standardize`: `(x - mean) / std`; `std == 0` divides by 1 (StandardScaler).
/// - `minmax`: `x * scale_ + min_` with MinMaxScaler's own `scale_` and `min_` for the
///   feature range, then optionally clipped to it.
/// - `log1p`: `log(1 + x)` (FunctionTransformer(np.log1p)).
/// - `bucketize`: the KBinsDiscretizer bin (`np.searchsorted(inner_edges, x, side="right")`),
///   one-hot or ordinal.
/// - `onehot`: 1 in the column of the category the value spells (byte for byte; ints in
///   decimal, bools as "true"/"false"), all zeros for unknown values and the dropped category.
/// - `hash`: FeatureHasher of the string (see `FeatureHashing`).
/// - `text_hash`, `tfidf`: HashingVectorizer and TfidfVectorizer (see `TextFeature`).
///
/// A missing value (an optional field absent or null) is NaN for the numeric kinds (a one-hot
/// `bucketize` sets no column), all zeros for `onehot`, nothing for `hash` and an empty
/// document for the text kinds; a feature's `fill` replaces it (and NaN) first.
///
/// Rows of at most `maxDenseWidth` columns are sent dense; wider rows are sent as CSR, and never
/// materialized densely. With a drift plan (`config.driftPlan`), each batch also carries its
/// input fields' drift counts (`DriftCounter`). Buffers are reused from batch to batch.
public struct FeaturizeProcessor: StageProcessor {
    /// Featurize consumes record batches.
    public static let inputKind: FrameKind = .records
    /// Widest feature row still sent dense; wider rows are sent as CSR.
    public static let maxDenseWidth = FeaturePlan.maxDenseWidth

    private let plan: FeaturePlan
    private let dense = DenseFeatures()
    private let sparse = SparseFeatures()
    /// Reused list of the batch's passthrough columns (emptied after each batch: they point into it).
    private var passthrough: [ColumnView] = []
    private let drift: DriftCounter?
    /// Reused drift counts.
    private var driftCounts = DriftCounts()

    /// Compiles and checks the features of `config` against its schema.
    ///
    /// - Throws: `FeaturizeError` when a feature names an unknown field, reads a type its kind
    ///   cannot, has an out-of-range parameter, or a passthrough field is not in the schema.
    public init(config: PipelineConfig) throws(FeaturizeError) {
        plan = try FeaturePlan(config: config)
        passthrough.reserveCapacity(plan.passthrough.count)
        drift = try config.driftPlan.map { (p: DriftPlan) throws(FeaturizeError) in try DriftCounter(plan: p, schema: config.input) }
    }

    /// The model input width `config` produces: the sum of its features' widths.
    public static func width(of config: PipelineConfig) -> Int {
        config.features.reduce(0) { $0 + $1.width }
    }

    /// The model input width (columns per row).
    public var width: Int { plan.width }

    /// How the feature batches are laid out: dense up to `maxDenseWidth` columns, else CSR.
    public var layout: FeatureLayout { plan.isDense ? .dense : .csr }

    /// Turns one `.records` frame into one `.features` frame appended to `out`.
    ///
    /// - Throws: `FrameError` when the frame is not a well-formed record batch of the configured
    ///   schema (column count or types differ).
    public mutating func process(_ frame: Frame, into out: FrameBuffer) throws {
        let batch = try RecordBatchView.decode(frame)
        try checkSchema(batch.columns)
        let header = frame.header
        defer { passthrough.removeAll(keepingCapacity: true) }
        for column in plan.passthrough { passthrough.append(batch.columns[column]) }
        if let drift {
            // Reset in place: the array keeps its storage from batch to batch.
            if driftCounts.counts.count != drift.slotCount { driftCounts.counts = Array(repeating: 0, count: drift.slotCount) }
            driftCounts.counts.withUnsafeMutableBufferPointer { counts in
                counts.update(repeating: 0)
                drift.count(batch.columns, rows: batch.rows, into: counts)
            }
        }

        if plan.isDense {
            dense.build(plan, columns: batch.columns, rows: batch.rows)
            FeatureBatchView.encodeDense(into: out, sequence: header.sequence, envelope: batch.envelope,
                                         passthrough: passthrough, rows: batch.rows, dims: plan.width,
                                         values: dense.values, drift: driftCounts, flags: header.flags)
        } else {
            sparse.build(plan, columns: batch.columns, rows: batch.rows)
            FeatureBatchView.encodeCSR(into: out, sequence: header.sequence, envelope: batch.envelope,
                                       passthrough: passthrough, rows: batch.rows, dims: plan.width,
                                       values: sparse.values, rowStart: sparse.rowStart, columns: sparse.columns,
                                       drift: driftCounts, flags: header.flags)
        }
    }

    private func checkSchema(_ columns: [ColumnView]) throws(FrameError) {
        guard columns.count == plan.schema.count else {
            throw .invalid(field: "records.columnCount",
                           reason: "\(counted(columns.count, "column")) where the schema has \(plan.schema.count)")
        }
        for (i, column) in columns.enumerated() where column.type != plan.schema[i] {
            throw .invalid(field: "records.column",
                           reason: "column \(i) has type \(column.type) where the schema says \(plan.schema[i])")
        }
    }
}
