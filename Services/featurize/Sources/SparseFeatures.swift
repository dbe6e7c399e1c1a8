import Messages

/// Writes a batch's features as compressed sparse rows, for rows too wide to materialize
/// (a 2^20-column hashed text): only stored entries are written, dense kinds included.
///
/// Within a row, columns ascend: features are visited in config order, each owns a column
/// range after the previous one's, and each emits its entries in ascending order (a text
/// feature sorts its own). Numeric kinds store only non-zeros; a text feature stores what
/// scikit-learn's CSR matrix stores (a hashed column whose ±1 counts cancel is a stored 0).
/// Owns its buffers and reuses them for every batch.
final class SparseFeatures {
    private let nonZeros = ScratchBuffer<Float>(capacity: 4096)
    private let columnIndex = ScratchBuffer<UInt32>(capacity: 4096)
    private let starts = ScratchBuffer<UInt32>(capacity: 1024)
    /// rows × (number of numeric steps): numeric features computed column-wise by the kernels first.
    private let numeric = ScratchBuffer<Float>(capacity: 4096)
    private let doubles = ScratchBuffer<Double>(capacity: 1024)
    private let text = TextScratch()

    private(set) var values = UnsafeBufferPointer<Float>(start: nil, count: 0)
    private(set) var columns = UnsafeBufferPointer<UInt32>(start: nil, count: 0)
    private(set) var rowStart = UnsafeBufferPointer<UInt32>(start: nil, count: 0)

    /// Fills `values`, `columns` and `rowStart` with the features of `rows` rows.
    func build(_ plan: FeaturePlan, columns records: [ColumnView], rows: Int) {
        let numericSteps = plan.numericCount
        let (capacity, overflow) = rows.multipliedReportingOverflow(by: plan.steps.count)
        precondition(!overflow && capacity <= Int(UInt32.max), "sparse features: \(rows) rows too many")
        nonZeros.reserve(capacity)
        columnIndex.reserve(capacity)
        starts.reserve(rows + 1)
        numeric.reserve(rows * numericSteps)
        doubles.reserve(rows)

        var k = 0
        for step in plan.steps {
            guard let (transform, fill) = step.numeric else { continue }
            records[step.column].gatherDoubles(into: doubles.pointer, fill: fill)
            transform.apply(doubles.pointer, count: rows, into: numeric.pointer + k, stride: numericSteps)
            k += 1
        }

        let rowStart = starts.pointer
        var nnz = 0
        /// Room for `extra` more entries (text rows vary in length).
        func reserve(_ extra: Int) {
            let needed = nnz + extra
            precondition(needed <= Int(UInt32.max), "sparse features: more than 2^32 entries in a batch")
            nonZeros.reserve(needed, preserving: nnz)
            columnIndex.reserve(needed, preserving: nnz)
        }
        @inline(__always) func emit(_ column: Int, _ value: Float) {
            nonZeros.pointer[nnz] = value
            columnIndex.pointer[nnz] = UInt32(truncatingIfNeeded: column)
            nnz += 1
        }
        for row in 0..<rows {
            rowStart[row] = UInt32(truncatingIfNeeded: nnz)
            // One entry per non-text step; text steps reserve their own.
            reserve(plan.steps.count)
            var k = 0
            for step in plan.steps {
                let column = records[step.column]
                switch step.operation {
                case .number:
                    let v = numeric.pointer[row * numericSteps + k]
                    k += 1
                    if v != 0 { emit(step.offset, v) }  // NaN != 0: a missing value stays visible.
                case .binOneHot:
                    let bin = numeric.pointer[row * numericSteps + k]
                    k += 1
                    if !bin.isNaN { emit(step.offset + Int(bin), 1) }
                case .onehot(let encoding):
                    if let i = column.category(row, in: encoding) { emit(step.offset + i, 1) }
                case .hash(let hashing):
                    if let (c, v) = column.hashed(row, hashing) { emit(step.offset + c, v) }
                case .text(let feature):
                    feature.row(column.document(row), scratch: text)
                    reserve(text.entries.count + plan.steps.count)
                    for e in text.entries { emit(step.offset + Int(e.column), Float(e.value)) }
                }
            }
        }
        rowStart[rows] = UInt32(truncatingIfNeeded: nnz)
        self.values = nonZeros.buffer(nnz)
        self.columns = columnIndex.buffer(nnz)
        self.rowStart = starts.buffer(rows + 1)
    }
}
