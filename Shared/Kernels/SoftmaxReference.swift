/// Scalar reference twin of `softmaxRows` (libm `expf`, Double sum and division).
public func softmaxRowsReference(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int) {
    checkRowsArguments("softmaxRows", rows: rows, cols: cols, ld: ld)
    for r in 0..<rows {
        let row = x + r * ld
        let top = referenceRowMax(row, cols: cols)
        var sum = 0.0
        for j in 0..<cols {
            row[j] = expReference(row[j] - top)
            sum += Double(row[j])
        }
        for j in 0..<cols {
            row[j] = Float(Double(row[j]) / sum)
        }
    }
}

/// Scalar reference twin of `logSoftmaxRows` (libm `expf`/`logf`, Double sum).
public func logSoftmaxRowsReference(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int) {
    checkRowsArguments("logSoftmaxRows", rows: rows, cols: cols, ld: ld)
    for r in 0..<rows {
        let row = x + r * ld
        let top = referenceRowMax(row, cols: cols)
        var sum = 0.0
        for j in 0..<cols {
            sum += Double(expReference(row[j] - top))
        }
        let logSum = logReference(Float(sum))
        for j in 0..<cols {
            row[j] = (row[j] - top) - logSum
        }
    }
}

/// The largest element, NaN if any element is NaN, -inf for an empty row.
func referenceRowMax(_ row: UnsafePointer<Float>, cols: Int) -> Float {
    var top = -Float.infinity
    for j in 0..<cols {
        if row[j].isNaN { return .nan }
        if row[j] > top { top = row[j] }
    }
    return top
}

/// The edge checks shared by the row-wise kernels.
func checkRowsArguments(_ name: StaticString, rows: Int, cols: Int, ld: Int) {
    precondition(rows >= 0 && cols >= 0, "\(name): negative shape rows=\(rows) cols=\(cols)")
    precondition(rows <= 1 || ld >= cols, "\(name): ld \(ld) < cols \(cols)")
}
