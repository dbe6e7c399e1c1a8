/// C[m×n] = act(A[m×k] · B + bias) with B packed; row-major, single-threaded.
///
/// C is computed in tiles of up to 6 rows × 16 columns held in registers over the whole k loop;
/// bias and identity/relu are applied to the registers before the one store, sigmoid/tanh to the
/// tile right after its store (in L1; for C narrower than a panel, to all of C at the end). Any m, k, n >= 0 works: edge tiles run the same kernel
/// specialized for 1-6 rows and 8- or 16-column panels (n = 10 computes 16 columns, stores 10).
///
/// Accuracy: each output is the bias plus k products summed in Float with FMA, in an order that
/// differs from `gemmReference`; it is within (k + 1)·2⁻²⁴·(Σ|a·b| + |bias|) of the exact value
/// before the activation, whose own error is at most 2 ulp (sigmoid, tanh).
///
/// - Parameters:
///   - m: the number of rows of A and C, >= 0.
///   - a: m rows of `b.k` floats, rows `lda` floats apart.
///   - lda: the row stride of A in floats (`>= b.k` when m > 1; unused when m <= 1).
///   - b: the packed weights; `b.k` is the inner dimension, `b.n` the output width.
///   - bias: `b.n` floats added to every row, or nil.
///   - activation: applied to every element of C after the bias.
///   - c: m rows of `b.n` floats, rows `ldc` floats apart. Floats between rows are not touched.
///   - ldc: the row stride of C in floats (`>= b.n` when m > 1; unused when m <= 1).
/// - Important: C must not overlap A or the bias. Calls on distinct C may run concurrently and
///   share one `PackedWeights`.
public func gemm(m: Int, a: UnsafePointer<Float>, lda: Int, b: PackedWeights,
                 bias: UnsafePointer<Float>?, activation: Activation,
                 c: UnsafeMutablePointer<Float>, ldc: Int) {
    // A narrow C (one panel) stored densely gets its sigmoid or tanh in one pass over all of it
    // afterwards: per tile row it would be a partial vector (two memcpys and a 16-lane exp for
    // a few floats); for logistic regression's 2 columns that was half the time. The functions
    // are lane-wise, so each result has the same bits either way.
    if (activation == .sigmoid || activation == .tanh) && b.n < PackedWeights.panelWidth && m > 0 && (ldc == b.n || m == 1) {
        gemmTiles(m: m, a: a, lda: lda, b: b, bias: bias, activation: .identity, c: c, ldc: ldc)
        applyActivation(activation, c, count: m * b.n)
    } else {
        gemmTiles(m: m, a: a, lda: lda, b: b, bias: bias, activation: activation, c: c, ldc: ldc)
    }
}

/// `gemm` over its tiles, the activation applied tile by tile.
private func gemmTiles(m: Int, a: UnsafePointer<Float>, lda: Int, b: PackedWeights,
                       bias: UnsafePointer<Float>?, activation: Activation,
                       c: UnsafeMutablePointer<Float>, ldc: Int) {
    let k = b.k
    let n = b.n
    precondition(m >= 0, "gemm: negative m \(m)")
    precondition(m <= 1 || (lda >= k && ldc >= n), "gemm: lda \(lda) < k \(k) or ldc \(ldc) < n \(n)")
    if m == 0 || n == 0 { return }
    // A WeightBuffer always has an address, even when empty (k = 0: no panel is read).
    let panels = b.buffer.base
    let bf16 = b.format == .bfloat16
    for panel in 0..<b.panelCount {
        let column = panel * PackedWeights.panelWidth
        var tile = GemmTile(k: k, a: a, lda: lda, panel: panels + column * k * b.format.byteWidth,
                            bias: bias.map { $0 + column }, activation: activation, c: c + column, ldc: ldc,
                            columns: min(PackedWeights.panelWidth, n - column))
        let wide = PackedWeights.width(ofPanel: panel, n: n) == PackedWeights.panelWidth
        var row = 0
        while row < m {
            let rows = min(tileRows, m - row)
            tile.a = a + row * lda
            tile.c = c + row * ldc + column
            if bf16 {
                gemmTileBF16(rows: rows, wide: wide, tile)
            } else {
                gemmTile(rows: rows, wide: wide, tile)
            }
            row += rows
        }
    }
}
