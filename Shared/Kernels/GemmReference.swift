/// Scalar reference twin of `gemm`: C[m×n] = act(A[m×k] · B[k×n] + bias).
///
/// Each dot product is accumulated in Double and rounded once, so the twin is close to exact and
/// tests can bound the fast kernel's error against it from the maths alone.
///
/// - Parameters:
///   - m, k, n: the shape, each >= 0.
///   - a: m rows of k floats, rows `lda` floats apart (`lda >= k`).
///   - b: row-major k×n, row stride n.
///   - bias: n floats added to every row, or nil.
///   - activation: applied to every element after the bias.
///   - c: m rows of n floats, rows `ldc` floats apart (`ldc >= n`); must not overlap `a` or `b`.
public func gemmReference(m: Int, k: Int, n: Int, a: UnsafePointer<Float>, lda: Int,
                          b: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation,
                          c: UnsafeMutablePointer<Float>, ldc: Int) {
    precondition(m >= 0 && k >= 0 && n >= 0, "gemmReference: negative shape m=\(m) k=\(k) n=\(n)")
    precondition(m <= 1 || (lda >= k && ldc >= n),
                 "gemmReference: lda \(lda) < k \(k) or ldc \(ldc) < n \(n)")
    for i in 0..<m {
        for j in 0..<n {
            var sum = Double(bias?[j] ?? 0)
            for p in 0..<k {
                sum += Double(a[i * lda + p]) * Double(b[p * n + j])
            }
            c[i * ldc + j] = activationReference(activation, Float(sum))
        }
    }
}
