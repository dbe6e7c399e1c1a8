/// C[m×n] = (A − z_A) · (B − z_B), exactly, in Int32: A uint8 with one zero point per row, B
/// packed with one per column. The integer core of onnxruntime's MatMulInteger (applied to one
/// row at a time when each row was quantized on its own) and of a quantized linear layer.
///
/// - Parameters:
///   - m: the number of rows of A and C, >= 0.
///   - a: m rows of `b.k` bytes, rows `lda` bytes apart.
///   - lda: the row stride of A in bytes (`>= b.k` when m > 1).
///   - rowZeroPoints: m zero points (0...255), one per row of A.
///   - b: the packed weights.
///   - c: m rows of `b.n` Int32, rows `ldc` values apart; must not overlap A.
///   - ldc: the row stride of C (`>= b.n` when m > 1).
public func int8Gemm(m: Int, a: UnsafePointer<UInt8>, lda: Int, rowZeroPoints: UnsafePointer<Int32>,
                     b: QuantizedWeights, c: UnsafeMutablePointer<Int32>, ldc: Int) {
    int8GemmReference(m: m, a: a, lda: lda, rowZeroPoints: rowZeroPoints, b: b, c: c, ldc: ldc)
}

/// Scalar twin of `int8Gemm`: the same exact integer sums, one product at a time.
public func int8GemmReference(m: Int, a: UnsafePointer<UInt8>, lda: Int, rowZeroPoints: UnsafePointer<Int32>,
                              b: QuantizedWeights, c: UnsafeMutablePointer<Int32>, ldc: Int) {
    precondition(m >= 0, "int8Gemm: negative m \(m)")
    precondition(m <= 1 || (lda >= b.k && ldc >= b.n), "int8Gemm: lda \(lda) < k \(b.k) or ldc \(ldc) < n \(b.n)")
    let (k, n) = (b.k, b.n)
    b.centered.withUnsafeBufferPointer { w in
        for i in 0..<m {
            let z = rowZeroPoints[i]
            for j in 0..<n {
                var sum: Int32 = 0
                for p in 0..<k {
                    sum &+= (Int32(a[i * lda + p]) - z) * Int32(w[p * n + j])
                }
                c[i * ldc + j] = sum
            }
        }
    }
}
