import Messages

/// Writes a batch's features as a dense rows × width Float32 matrix, and their drift statistics.
///
/// Owns its buffers and reuses them for every batch.
final class DenseFeatures {
    private let matrix = ScratchBuffer<Float>(capacity: 64 << 10)
    private let doubles = ScratchBuffer<Double>(capacity: 4096)
    private let bins = ScratchBuffer<Float>(capacity: 4096)
    private let text = TextScratch()
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
        bins.reserve(rows)
        let out = matrix.pointer
        if plan.hasSparseKinds {
            // One-hot, hash and text columns are mostly zero; numeric columns are overwritten anyway.
            out.initialize(repeating: 0, count: total)
        }
        for step in plan.steps {
            let column = columns[step.column]
            let first = out + step.offset
            switch step.operation {
            case .number(let transform, let fill):
                column.gatherDoubles(into: doubles.pointer, fill: fill)
                transform.apply(doubles.pointer, count: rows, into: first, stride: width)
            case .binOneHot(let transform, let fill):
                column.gatherDoubles(into: doubles.pointer, fill: fill)
                transform.apply(doubles.pointer, count: rows, into: bins.pointer, stride: 1)
                for row in 0..<rows where !bins.pointer[row].isNaN { first[row * width + Int(bins.pointer[row])] = 1 }
            case .onehot(let encoding):
                for row in 0..<rows {
                    if let i = column.category(row, in: encoding) { first[row * width + i] = 1 }
                }
            case .hash(let hashing):
                for row in 0..<rows {
                    if let (c, v) = column.hashed(row, hashing) { first[row * width + c] = v }
                }
            case .text(let feature):
                for row in 0..<rows {
                    feature.row(column.document(row), scratch: text)
                    for e in text.entries { first[row * width + Int(e.column)] = Float(e.value) }
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
