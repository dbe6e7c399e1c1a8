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
    sparseGemmReference(m: m, rowStart: rowStart, columns: columns, values: values, b: b, n: n,
                        bias: bias, activation: activation, c: c, ldc: ldc, k: k)
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
