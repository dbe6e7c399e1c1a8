/// Sparse (CSR) × dense: C[m×n] = act(A · B + bias).
///
/// - Parameters:
///   - m: the number of rows of A and C, >= 0.
///   - rowStart: m + 1 non-decreasing offsets into `columns`/`values` (row i is entries
///     rowStart[i] ..< rowStart[i + 1]).
///   - columns: the column index of each stored value; every index must be < k (the rows of B).
///   - values: the stored values of A.
///   - b: row-major k×n, row stride n.
///   - n: the output width, >= 0.
///   - bias: n floats added to every row, or nil.
///   - activation: applied to every element after the bias.
///   - c: m rows of n floats, rows `ldc` floats apart (`ldc >= n` when m > 1).
///   - ldc: the row stride of C in floats.
///   - k: the number of rows of B when known; if given, every column index is checked against it.
public func sparseGemm(m: Int, rowStart: UnsafePointer<UInt32>, columns: UnsafePointer<UInt32>,
                       values: UnsafePointer<Float>, b: UnsafePointer<Float>, n: Int,
                       bias: UnsafePointer<Float>?, activation: Activation,
                       c: UnsafeMutablePointer<Float>, ldc: Int, k: Int? = nil) {
    checkSparseArguments(m: m, rowStart: rowStart, columns: columns, n: n, ldc: ldc, k: k)
    if m == 0 || n == 0 { return }
    for i in 0..<m {
        let entries = Int(rowStart[i])..<Int(rowStart[i + 1])
        let out = c + i * ldc
        var j = 0
        // 64 columns per pass over the row's entries: each entry costs one index and one value
        // load, amortized over four vector FMAs.
        while j + 4 * lanes <= n {
            var s0 = Vector(), s1 = Vector(), s2 = Vector(), s3 = Vector()
            if let bias {
                s0 = loadVector(bias + j)
                s1 = loadVector(bias + j + lanes)
                s2 = loadVector(bias + j + 2 * lanes)
                s3 = loadVector(bias + j + 3 * lanes)
            }
            for e in entries {
                let row = b + Int(columns[e]) * n + j
                let v = values[e]
                s0 = s0.addingProduct(loadVector(row), v)
                s1 = s1.addingProduct(loadVector(row + lanes), v)
                s2 = s2.addingProduct(loadVector(row + 2 * lanes), v)
                s3 = s3.addingProduct(loadVector(row + 3 * lanes), v)
            }
            storeVector(s0, out + j)
            storeVector(s1, out + j + lanes)
            storeVector(s2, out + j + 2 * lanes)
            storeVector(s3, out + j + 3 * lanes)
            j += 4 * lanes
        }
        while j + lanes <= n {
            var s = bias.map { loadVector($0 + j) } ?? Vector()
            for e in entries {
                s = s.addingProduct(loadVector(b + Int(columns[e]) * n + j), values[e])
            }
            storeVector(s, out + j)
            j += lanes
        }
        if j < n {
            narrowColumns(entries, columns: columns, values: values, b: b, n: n, from: j, bias: bias, out: out)
        }
        // The row was just written and is in L1.
        applyActivation(activation, out, count: n)
    }
}

/// Columns `first ..< n` (fewer than 16; all of them for a 2-class model) of one output row.
///
/// B's rows are not padded, so a whole 16-lane load could read past B. The width is split into
/// pieces of 8, 4, 2 and 1 lanes, each loaded exactly, each with its own register accumulator.
/// (Accumulating in the output row instead chained every entry through a store and a reload:
/// 2.5× slower than the scalar reference for n = 2.)
private func narrowColumns(_ entries: Range<Int>, columns: UnsafePointer<UInt32>, values: UnsafePointer<Float>,
                           b: UnsafePointer<Float>, n: Int, from first: Int, bias: UnsafePointer<Float>?,
                           out: UnsafeMutablePointer<Float>) {
    let rest = n - first
    let at4 = rest & 8, at2 = at4 + (rest & 4), at1 = at2 + (rest & 2)
    var s8 = SIMD8<Float>(), s4 = SIMD4<Float>(), s2 = SIMD2<Float>(), s1: Float = 0
    if let bias {
        let start = UnsafeRawPointer(bias + first)
        if rest & 8 != 0 { s8 = start.loadUnaligned(as: SIMD8<Float>.self) }
        if rest & 4 != 0 { s4 = start.loadUnaligned(fromByteOffset: 4 * at4, as: SIMD4<Float>.self) }
        if rest & 2 != 0 { s2 = start.loadUnaligned(fromByteOffset: 4 * at2, as: SIMD2<Float>.self) }
        if rest & 1 != 0 { s1 = bias[first + at1] }
    }
    for e in entries {
        let row = UnsafeRawPointer(b + Int(columns[e]) * n + first)
        let v = values[e]
        if rest & 8 != 0 { s8 = s8.addingProduct(row.loadUnaligned(as: SIMD8<Float>.self), v) }
        if rest & 4 != 0 { s4 = s4.addingProduct(row.loadUnaligned(fromByteOffset: 4 * at4, as: SIMD4<Float>.self), v) }
        if rest & 2 != 0 { s2 = s2.addingProduct(row.loadUnaligned(fromByteOffset: 4 * at2, as: SIMD2<Float>.self), v) }
        if rest & 1 != 0 { s1 = s1.addingProduct(row.load(fromByteOffset: 4 * at1, as: Float.self), v) }
    }
    let start = UnsafeMutableRawPointer(out + first)
    if rest & 8 != 0 { start.storeBytes(of: s8, as: SIMD8<Float>.self) }
    if rest & 4 != 0 { start.storeBytes(of: s4, toByteOffset: 4 * at4, as: SIMD4<Float>.self) }
    if rest & 2 != 0 { start.storeBytes(of: s2, toByteOffset: 4 * at2, as: SIMD2<Float>.self) }
    if rest & 1 != 0 { out[first + at1] = s1 }
}

/// Scalar reference twin of `sparseGemm` (Double accumulation, one rounding per output).
public func sparseGemmReference(m: Int, rowStart: UnsafePointer<UInt32>, columns: UnsafePointer<UInt32>,
                                values: UnsafePointer<Float>, b: UnsafePointer<Float>, n: Int,
                                bias: UnsafePointer<Float>?, activation: Activation,
                                c: UnsafeMutablePointer<Float>, ldc: Int, k: Int? = nil) {
    checkSparseArguments(m: m, rowStart: rowStart, columns: columns, n: n, ldc: ldc, k: k)
    for i in 0..<m {
        for j in 0..<n {
            var sum = Double(bias?[j] ?? 0)
            for e in Int(rowStart[i])..<Int(rowStart[i + 1]) {
                sum += Double(values[e]) * Double(b[Int(columns[e]) * n + j])
            }
            c[i * ldc + j] = activationReference(activation, Float(sum))
        }
    }
}

/// The edge checks shared by both versions: O(m) always, O(nnz) when `k` is given.
func checkSparseArguments(m: Int, rowStart: UnsafePointer<UInt32>, columns: UnsafePointer<UInt32>,
                          n: Int, ldc: Int, k: Int?) {
    precondition(m >= 0 && n >= 0, "sparseGemm: negative shape m=\(m) n=\(n)")
    precondition(m <= 1 || ldc >= n, "sparseGemm: ldc \(ldc) < n \(n)")
    if m == 0 { return }
    for i in 0..<m {
        precondition(rowStart[i] <= rowStart[i + 1],
                     "sparseGemm: rowStart decreases at row \(i): \(rowStart[i]) > \(rowStart[i + 1])")
    }
    if let k {
        for e in Int(rowStart[0])..<Int(rowStart[m]) {
            precondition(Int(columns[e]) < k, "sparseGemm: column \(columns[e]) at entry \(e) >= k \(k)")
        }
    }
}
