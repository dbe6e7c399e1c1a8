/// Row-wise softmax in place: each row becomes e^(x - max) / Σ e^(x - max).
///
/// A row holding +inf or only -inf becomes NaN (as in numpy); a NaN makes its row NaN.
/// Accuracy: each element within (4 + cols) ulp of the Double-summed reference (the float sum of
/// `cols` terms bounds it; typical errors are 1-2 ulp).
///
/// - Parameters:
///   - x: `rows` rows of `cols` floats, rows `ld` floats apart; elements between rows are not
///     touched.
///   - rows: >= 0.
///   - cols: >= 0.
///   - ld: the row stride in floats (`ld >= cols` when rows > 1).
public func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int) {
    checkRowsArguments("softmaxRows", rows: rows, cols: cols, ld: ld)
    if cols == 0 { return }
    if cols < lanes {
        narrowSoftmaxRows(x, rows: rows, cols: cols, ld: ld, log: false)
        return
    }
    for r in 0..<rows {
        let row = x + r * ld
        let top = rowMax(row, cols: cols)
        // e^(x - top) stored in place and summed on the way, then one scaling pass.
        var sums = Vector()
        var j = 0
        while j + lanes <= cols {
            let e = exp(loadVector(row + j) - top)
            storeVector(e, row + j)
            sums += e
            j += lanes
        }
        if j < cols {
            let e = exp(loadPartialVector(row + j, count: cols - j, padding: -.infinity) - top)
            storePartialVector(e, row + j, count: cols - j)
            sums += e
        }
        let scale = 1 / sums.sum()
        j = 0
        while j + lanes <= cols {
            storeVector(loadVector(row + j) * scale, row + j)
            j += lanes
        }
        while j < cols {
            row[j] *= scale
            j += 1
        }
    }
}

/// Row-wise log-softmax in place: each row becomes (x - max) - log Σ e^(x - max).
///
/// Same special cases as `softmaxRows`. Accuracy: absolute error within a few ulp of |x - max|
/// and of the log, plus (4 + cols)·2⁻²³ from the sum.
///
/// - Parameters: as for `softmaxRows`.
public func logSoftmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int) {
    checkRowsArguments("logSoftmaxRows", rows: rows, cols: cols, ld: ld)
    if cols == 0 { return }
    if cols < lanes {
        narrowSoftmaxRows(x, rows: rows, cols: cols, ld: ld, log: true)
        return
    }
    for r in 0..<rows {
        let row = x + r * ld
        let top = rowMax(row, cols: cols)
        var sums = Vector()
        var j = 0
        while j + lanes <= cols {
            sums += exp(loadVector(row + j) - top)
            j += lanes
        }
        if j < cols {
            sums += exp(loadPartialVector(row + j, count: cols - j, padding: -.infinity) - top)
        }
        // One libm call per row; the per-element work stays vectorized.
        let logSum = logReference(sums.sum())
        j = 0
        while j + lanes <= cols {
            storeVector((loadVector(row + j) - top) - logSum, row + j)
            j += lanes
        }
        while j < cols {
            row[j] = (row[j] - top) - logSum
            j += 1
        }
    }
}

/// (Log-)softmax of rows narrower than one vector (classifier outputs: 2-15 classes).
///
/// A vector per row would be mostly padding and partial loads. Instead, a chunk of rows is
/// gathered as x - max into one contiguous stack buffer, exponentiated there 16 lanes at a time,
/// then summed and scaled row by row. 409 rows × 10: 10 → 1.4 ns per element (Benchmarks/kernels).
private func narrowSoftmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int, log: Bool) {
    let bufferFloats = 1024
    let chunkRows = bufferFloats / cols
    withUnsafeTemporaryAllocation(of: Float.self, capacity: bufferFloats + chunkRows) { scratch in
        let buffer = scratch.baseAddress!
        let tops = buffer + bufferFloats
        var first = 0
        while first < rows {
            let count = min(chunkRows, rows - first)
            for r in 0..<count {
                let row = x + (first + r) * ld
                let top = referenceRowMax(row, cols: cols)
                tops[r] = top
                for j in 0..<cols {
                    buffer[r * cols + j] = row[j] - top
                }
            }
            mapInPlace(Exp.self, buffer, count: count * cols)
            for r in 0..<count {
                let row = x + (first + r) * ld
                let e = buffer + r * cols
                var sum: Float = 0
                for j in 0..<cols {
                    sum += e[j]
                }
                if log {
                    let logSum = logReference(sum)
                    for j in 0..<cols {
                        row[j] = (row[j] - tops[r]) - logSum
                    }
                } else {
                    let scale = 1 / sum
                    for j in 0..<cols {
                        row[j] = e[j] * scale
                    }
                }
            }
            first += count
        }
    }
}

/// The largest element of a row, 16 lanes at a time; NaN if any element is NaN, -inf for an
/// empty row (the same rules as `referenceRowMax`).
func rowMax(_ row: UnsafePointer<Float>, cols: Int) -> Float {
    var top = Vector(repeating: -.infinity)
    var nan = SIMDMask<SIMD16<Int32>>()
    var j = 0
    while j + lanes <= cols {
        let v = loadVector(row + j)
        top.replace(with: v, where: v .> top)
        nan .|= v .!= v
        j += lanes
    }
    if j < cols {
        let v = loadPartialVector(row + j, count: cols - j, padding: -.infinity)
        top.replace(with: v, where: v .> top)
        nan .|= v .!= v
    }
    return any(nan) ? .nan : top.max()
}
