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
    checkRowsArguments("argmaxRows", rows: rows, cols: cols, ld: ld)
    precondition(cols <= Int(Int32.max), "argmaxRows: cols \(cols) exceeds Int32.max")
    for r in 0..<rows {
        let row = x + r * ld
        // Narrow rows (class scores) are fastest as the plain loop.
        into[r] = Int32(cols < lanes ? referenceArgmax(row, cols: cols) : vectorArgmax(row, cols: cols))
    }
}

/// Two vector passes: the maximum (NaN if any), then the first vector holding it, searched lane
/// by lane.
private func vectorArgmax(_ row: UnsafePointer<Float>, cols: Int) -> Int {
    let top = rowMax(row, cols: cols)
    var j = 0
    while j + lanes <= cols {
        let v = loadVector(row + j)
        if any(top.isNaN ? v .!= v : v .== top) { break }
        j += lanes
    }
    while j < cols {
        if top.isNaN ? row[j].isNaN : row[j] == top { return j }
        j += 1
    }
    preconditionFailure("argmaxRows: the row maximum was not found in its row")
}

/// Scalar reference twin of `argmaxRows`.
public func argmaxRowsReference(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int,
                                into: UnsafeMutablePointer<Int32>) {
    checkRowsArguments("argmaxRows", rows: rows, cols: cols, ld: ld)
    precondition(cols <= Int(Int32.max), "argmaxRows: cols \(cols) exceeds Int32.max")
    for r in 0..<rows {
        into[r] = Int32(referenceArgmax(x + r * ld, cols: cols))
    }
}

/// The first index of the first NaN, else of the first maximum; -1 for an empty row.
func referenceArgmax(_ row: UnsafePointer<Float>, cols: Int) -> Int {
    var best = cols == 0 ? -1 : 0
    for j in 0..<cols {
        if row[j].isNaN { return j }
        if row[j] > row[best] { best = j }
    }
    return best
}
