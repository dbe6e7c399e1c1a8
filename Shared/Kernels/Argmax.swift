/// How an argmax treats NaN.
public enum ArgmaxNaN: Sendable {
    /// A NaN is larger than every number, and NaNs are equal (numpy's `argmax`): a row holding a
    /// NaN yields the index of its first NaN (its last, with `.last` ties).
    case largest
    /// IEEE comparison: no value is larger than a NaN, nor a NaN larger than any value. A NaN
    /// is passed over, unless it comes first: then nothing replaces it (the plain `>` loop, which
    /// the engine's ArgMax and class labels have always used).
    case unordered
}

/// Which of equal maxima an argmax yields.
public enum ArgmaxTie: Sendable {
    case first
    /// ONNX ArgMax's `select_last_index`.
    case last
}

/// Writes the index of each row's largest element to `into[row]`.
///
/// Element `j` of row `r` is `x[r * ld + j * stride]`: rows of contiguous values (`stride`
/// 1), or values `stride` floats apart, such as one axis of a row-major tensor (`ld` 1,
/// `stride` the size of the axes after it). The first maximum wins, unless `ties` is `.last`;
/// `nan` says how NaN compares. An empty row (`cols == 0`) yields -1.
///
/// - Parameters:
///   - x: the rows.
///   - rows: >= 0.
///   - cols: values per row, >= 0, at most `Int32.max`.
///   - ld: the floats from one row's start to the next (`ld >= cols` when rows > 1 and `stride` is 1).
///   - stride: the floats from one value of a row to the next, >= 1.
///   - into: `rows` indices.
public func argmaxRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int, stride: Int = 1,
                       nan: ArgmaxNaN = .largest, ties: ArgmaxTie = .first, into: UnsafeMutablePointer<Int32>) {
    checkArgmaxArguments(rows: rows, cols: cols, ld: ld, stride: stride)
    // The vector search finds the first maximum of contiguous values with NaN largest; narrow
    // rows (class scores) are fastest as the plain loop.
    let vector = stride == 1 && nan == .largest && ties == .first && cols >= lanes
    for r in 0..<rows {
        let row = x + r * ld
        into[r] = Int32(vector ? vectorArgmax(row, cols: cols) : referenceArgmax(row, cols: cols, stride: stride, nan: nan, ties: ties))
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
public func argmaxRowsReference(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int, stride: Int = 1,
                                nan: ArgmaxNaN = .largest, ties: ArgmaxTie = .first, into: UnsafeMutablePointer<Int32>) {
    checkArgmaxArguments(rows: rows, cols: cols, ld: ld, stride: stride)
    for r in 0..<rows {
        into[r] = Int32(referenceArgmax(x + r * ld, cols: cols, stride: stride, nan: nan, ties: ties))
    }
}

/// The index of the row's maximum under `nan` and `ties`; -1 for an empty row.
func referenceArgmax(_ row: UnsafePointer<Float>, cols: Int, stride: Int, nan: ArgmaxNaN, ties: ArgmaxTie) -> Int {
    guard cols > 0 else { return -1 }
    var best = 0
    var top = row[0]
    for j in 1..<cols {
        let v = row[j * stride]
        let greater: Bool, equal: Bool
        switch nan {
        case .largest:
            greater = !top.isNaN && (v.isNaN || v > top)
            equal = top.isNaN ? v.isNaN : v == top
        case .unordered:
            greater = v > top
            equal = v == top
        }
        if greater || (ties == .last && equal) {
            best = j
            top = v
        }
    }
    return best
}

private func checkArgmaxArguments(rows: Int, cols: Int, ld: Int, stride: Int) {
    precondition(rows >= 0 && cols >= 0, "argmaxRows: negative shape rows=\(rows) cols=\(cols)")
    precondition(cols <= Int(Int32.max), "argmaxRows: cols \(cols) exceeds Int32.max")
    precondition(stride >= 1, "argmaxRows: stride \(stride) < 1")
    precondition(rows <= 1 || stride > 1 || ld >= cols, "argmaxRows: ld \(ld) < cols \(cols)")
}
