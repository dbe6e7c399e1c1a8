/// C[m×n] = act(A[m×k] · B + bias), with B packed; row-major, single-threaded.
///
/// - Parameters:
///   - m: the number of rows of A and C, >= 0.
///   - a: m rows of `b.k` floats, rows `lda` floats apart (`lda >= b.k` when m > 1).
///   - lda: the row stride of A in floats.
///   - b: the packed weights; `b.k` is the inner dimension, `b.n` the output width.
///   - bias: `b.n` floats added to every row, or nil.
///   - activation: applied to every element of C after the bias, before the store.
///   - c: m rows of `b.n` floats, rows `ldc` floats apart (`ldc >= b.n` when m > 1); must not
///     overlap `a`.
///   - ldc: the row stride of C in floats.
public func gemm(m: Int, a: UnsafePointer<Float>, lda: Int, b: PackedWeights,
                 bias: UnsafePointer<Float>?, activation: Activation,
                 c: UnsafeMutablePointer<Float>, ldc: Int) {
    let k = b.k
    let n = b.n
    precondition(m >= 0, "gemm: negative m \(m)")
    precondition(m <= 1 || (lda >= k && ldc >= n), "gemm: lda \(lda) < k \(k) or ldc \(ldc) < n \(n)")
    if m == 0 || n == 0 { return }
    b.withPanels { panels in
        for i in 0..<m {
            let row = a + i * lda
            let out = c + i * ldc
            for j in 0..<n {
                let panel = j / PackedWeights.panelWidth
                let width = PackedWeights.width(ofPanel: panel, n: n)
                let column = panels + panel * PackedWeights.panelWidth * k + j % PackedWeights.panelWidth
                var sum = bias?[j] ?? 0
                for p in 0..<k {
                    sum += row[p] * column[p * width]
                }
                out[j] = sum
            }
            applyActivation(activation, out, count: n)
        }
    }
}
