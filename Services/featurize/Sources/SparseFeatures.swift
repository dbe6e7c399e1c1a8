import Messages

/// Writes a batch's features as compressed sparse rows, for rows too wide to materialize
/// (a 2^20-bucket hash): only non-zeros are stored, dense kinds included.
///
/// Within a row, columns ascend: features are visited in config order, each owns a column
/// range after the previous one's, and each emits at most one non-zero per row. Owns its
/// buffers and reuses them for every batch.
final class SparseFeatures {
    private let nonZeros = ScratchBuffer<Float>(capacity: 4096)
    private let columnIndex = ScratchBuffer<UInt32>(capacity: 4096)
    private let starts = ScratchBuffer<UInt32>(capacity: 1024)
    /// rows × (number of numeric steps): numeric features computed column-wise by the kernels first.
    private let numeric = ScratchBuffer<Float>(capacity: 4096)
    private let doubles = ScratchBuffer<Double>(capacity: 1024)

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
            guard case .numeric(let transform) = step.operation else { continue }
            records[step.column].gatherDoubles(into: doubles.pointer)
            transform.apply(doubles.pointer, count: rows, into: numeric.pointer + k, stride: numericSteps)
            k += 1
        }

        let values = nonZeros.pointer, columns = columnIndex.pointer, rowStart = starts.pointer
        var nnz = 0
        @inline(__always) func emit(_ column: Int, _ value: Float) {
            values[nnz] = value
            columns[nnz] = UInt32(truncatingIfNeeded: column)
            nnz += 1
        }
        for row in 0..<rows {
            rowStart[row] = UInt32(truncatingIfNeeded: nnz)
            var k = 0
            for step in plan.steps {
                let column = records[step.column]
                switch step.operation {
                case .numeric:
                    let v = numeric.pointer[row * numericSteps + k]
                    k += 1
                    if v != 0 { emit(step.offset, v) }  // NaN != 0: a missing value stays visible.
                case .onehot(let table, let text):
                    if let i = column.category(row, in: table, as: text) { emit(step.offset + i, 1) }
                case .hash(let buckets):
                    if let (c, v) = column.hashed(row, buckets: buckets) { emit(step.offset + c, v) }
                }
            }
        }
        rowStart[rows] = UInt32(truncatingIfNeeded: nnz)
        self.values = nonZeros.buffer(nnz)
        self.columns = columnIndex.buffer(nnz)
        self.rowStart = starts.buffer(rows + 1)
    }
}
