import Messages

/// Writes a batch's features as a dense rows × width Float32 matrix.
///
/// Owns its buffers and reuses them for every batch.
final class DenseFeatures {
    private let matrix = ScratchBuffer<Float>(capacity: 64 << 10)
    private let doubles = ScratchBuffer<Double>(capacity: 4096)
    private let bins = ScratchBuffer<Float>(capacity: 4096)
    private let text = TextScratch()

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
    }
}
