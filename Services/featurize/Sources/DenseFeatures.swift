import Messages

/// Writes a batch's features as a dense rows × width Float32 matrix, and their drift statistics.
///
/// Owns its buffers and reuses them for every batch.
final class DenseFeatures {
    private let matrix = ScratchBuffer<Float>(capacity: 64 << 10)
    private let doubles = ScratchBuffer<Double>(capacity: 4096)
    /// Reused: its arrays are overwritten in place, so a batch does not allocate them again.
    private(set) var stats = FeatureStats()

    /// The matrix written by the last `build`.
    private(set) var values = UnsafeBufferPointer<Float>(start: nil, count: 0)

    /// Fills `values` with the features of `rows` rows read from `columns` (schema order).
    func build(_ plan: FeaturePlan, columns: [ColumnView], rows: Int) {
        let width = plan.width
        let (total, overflow) = rows.multipliedReportingOverflow(by: width)
        precondition(!overflow, "dense features: \(rows) rows × \(width) columns overflow")
        matrix.reserve(total)
        doubles.reserve(rows)
        let out = matrix.pointer
        if plan.hasSparseKinds {
            // One-hot and hash columns are mostly zero; numeric columns are overwritten anyway.
            out.initialize(repeating: 0, count: total)
        }
        for step in plan.steps {
            let column = columns[step.column]
            switch step.operation {
            case .numeric(let transform):
                column.gatherDoubles(into: doubles.pointer)
                transform.apply(doubles.pointer, count: rows, into: out + step.offset, stride: width)
            case .onehot(let table, let text):
                for row in 0..<rows {
                    if let i = column.category(row, in: table, as: text) { out[row * width + step.offset + i] = 1 }
                }
            case .hash(let buckets):
                for row in 0..<rows {
                    if let (c, v) = column.hashed(row, buckets: buckets) { out[row * width + step.offset + c] = v }
                }
            }
        }
        values = matrix.buffer(total)
        computeStats(rows: rows, width: width)
    }

    /// Sums and sums of squares of the first `FeatureStats.maxColumns` columns, in Double.
    ///
    /// Non-finite values (a missing input is NaN) are left out rather than turning the column's
    /// sums into NaN for the rest of the run; the sums are then over the finite values only.
    private func computeStats(rows: Int, width: Int) {
        let k = min(width, FeatureStats.maxColumns)
        if stats.count != k {
            stats = FeatureStats(sums: Array(repeating: 0, count: k), sumSquares: Array(repeating: 0, count: k))
        }
        // Moved out so each array is uniquely referenced and updated in place.
        var sums = stats.sums, squares = stats.sumSquares
        stats = FeatureStats()
        sums.withUnsafeMutableBufferPointer { sums in
            squares.withUnsafeMutableBufferPointer { squares in
                for j in 0..<k {
                    sums[j] = 0
                    squares[j] = 0
                }
                let m = matrix.pointer
                for row in 0..<rows {
                    let r = m + row * width
                    for j in 0..<k {
                        // A select rather than a branch, so the loop vectorizes.
                        let x = r[j]
                        let v = x.isFinite ? Double(x) : 0
                        sums[j] += v
                        squares[j] += v * v
                    }
                }
            }
        }
        stats = FeatureStats(sums: sums, sumSquares: squares)
    }
}
