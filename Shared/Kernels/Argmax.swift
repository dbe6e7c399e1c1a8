/// Writes the column index of each row's largest element to `into[row]`.
///
/// The first maximum wins. NaN counts as larger than every number (as numpy's `argmax`), so a row
/// holding a NaN yields the index of its first NaN. An empty row (`cols == 0`) yields -1.
///
/// - Parameters:
///   - x: `rows` rows of `cols` floats, rows `ld` floats apart.
///   - rows: >= 0.
///   - cols: >= 0, at most `Int32.max`.
///   - ld: the row stride in floats (`ld >= cols` when rows > 1).
///   - into: `rows` indices.
public func argmaxRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int,
                       into: UnsafeMutablePointer<Int32>) {
    argmaxRowsReference(x, rows: rows, cols: cols, ld: ld, into: into)
}

/// Scalar reference twin of `argmaxRows`.
public func argmaxRowsReference(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int,
                                into: UnsafeMutablePointer<Int32>) {
    checkRowsArguments("argmaxRows", rows: rows, cols: cols, ld: ld)
    precondition(cols <= Int(Int32.max), "argmaxRows: cols \(cols) exceeds Int32.max")
    for r in 0..<rows {
        let row = x + r * ld
        var best = cols == 0 ? -1 : 0
        for j in 0..<cols {
            if row[j].isNaN { best = j; break }
            if row[j] > row[best] { best = j }
        }
        into[r] = Int32(best)
    }
}
