// The GEMM micro-kernel: one tile of up to 6 rows × one packed panel (8 or 16 columns) of C,
// accumulated in registers over the whole k dimension, then biased, activated and stored once.

/// Where one tile's operands live. All pointers are already offset to the tile.
struct GemmTile {
    /// The inner dimension.
    var k: Int
    /// Row 0 of the tile's A rows; the rows are `lda` floats apart.
    var a: UnsafePointer<Float>
    var lda: Int
    /// The packed panel: k rows of 8 or 16 floats, one after another.
    var panel: UnsafePointer<Float>
    /// The bias for the panel's first `columns` columns, or nil.
    var bias: UnsafePointer<Float>?
    var activation: Activation
    /// Row 0, column 0 of the tile in C; rows are `ldc` floats apart.
    var c: UnsafeMutablePointer<Float>
    var ldc: Int
    /// How many of the panel's columns exist in C: 1...8 for a narrow panel, 9...16 for a wide one.
    var columns: Int
}

/// The most rows one tile computes.
let tileRows = 6

/// The accumulator type: one AVX2 register (half an AVX-512 one).
private typealias Half = SIMD8<Float>

/// Computes `rows` (1...6) rows of one tile; `wide` says whether the panel is 16 columns (two
/// 8-lane accumulators per row) or 8.
///
/// Sized for 16 vector registers (AVX2; AVX-512 has 32 but, on AMD Zen 4, the same FMA
/// throughput for 256-bit vectors): 12 accumulators (6 rows × 2), 2 for the current panel row,
/// 1 for the broadcast A element. Each k step: 2 loads of B, 6 broadcasts, 12 FMAs, so the two
/// FMA pipes, not the loads, set the pace.
///
/// `@inline(__always)`: `rows` and `wide` must be constants inside the body so that the unused
/// accumulators and branches vanish; `gemmTile` calls it with literals only. Measured with
/// tools/bench-kernels (AVX2 host): without it 256×256×256 runs at 39 GFLOP/s, with it 90.
@inline(__always)
private func accumulateTile(rows: Int, wide: Bool, _ t: GemmTile) {
    let zero = Half()
    var c0 = zero, c1 = zero, c2 = zero, c3 = zero, c4 = zero, c5 = zero
    var d0 = zero, d1 = zero, d2 = zero, d3 = zero, d4 = zero, d5 = zero
    // Row pointers past `rows` are never formed: they would point past the caller's A.
    let a0 = t.a
    let a1 = rows > 1 ? a0 + t.lda : a0
    let a2 = rows > 2 ? a1 + t.lda : a0
    let a3 = rows > 3 ? a2 + t.lda : a0
    let a4 = rows > 4 ? a3 + t.lda : a0
    let a5 = rows > 5 ? a4 + t.lda : a0
    let width = wide ? 16 : 8
    var b = UnsafeRawPointer(t.panel)
    for p in 0..<t.k {
        let b0 = b.loadUnaligned(as: Half.self)
        let b1 = wide ? b.loadUnaligned(fromByteOffset: 32, as: Half.self) : zero
        b += width * MemoryLayout<Float>.stride
        c0 = c0.addingProduct(b0, a0[p])
        if wide { d0 = d0.addingProduct(b1, a0[p]) }
        if rows > 1 {
            c1 = c1.addingProduct(b0, a1[p])
            if wide { d1 = d1.addingProduct(b1, a1[p]) }
        }
        if rows > 2 {
            c2 = c2.addingProduct(b0, a2[p])
            if wide { d2 = d2.addingProduct(b1, a2[p]) }
        }
        if rows > 3 {
            c3 = c3.addingProduct(b0, a3[p])
            if wide { d3 = d3.addingProduct(b1, a3[p]) }
        }
        if rows > 4 {
            c4 = c4.addingProduct(b0, a4[p])
            if wide { d4 = d4.addingProduct(b1, a4[p]) }
        }
        if rows > 5 {
            c5 = c5.addingProduct(b0, a5[p])
            if wide { d5 = d5.addingProduct(b1, a5[p]) }
        }
    }

    // Epilogue: bias, activation and store, one row of 16 lanes at a time.
    var bias = Vector()
    if let b = t.bias {
        bias = t.columns == lanes ? loadVector(b) : loadPartialVector(b, count: t.columns, padding: 0)
    }
    let activation = t.activation
    let columns = t.columns
    storeTileRow(Vector(lowHalf: c0, highHalf: d0), bias, activation, t.c, columns)
    if rows > 1 { storeTileRow(Vector(lowHalf: c1, highHalf: d1), bias, activation, t.c + t.ldc, columns) }
    if rows > 2 { storeTileRow(Vector(lowHalf: c2, highHalf: d2), bias, activation, t.c + 2 * t.ldc, columns) }
    if rows > 3 { storeTileRow(Vector(lowHalf: c3, highHalf: d3), bias, activation, t.c + 3 * t.ldc, columns) }
    if rows > 4 { storeTileRow(Vector(lowHalf: c4, highHalf: d4), bias, activation, t.c + 4 * t.ldc, columns) }
    if rows > 5 { storeTileRow(Vector(lowHalf: c5, highHalf: d5), bias, activation, t.c + 5 * t.ldc, columns) }
}

/// act(sum + bias) for one tile row, stored straight from the accumulators.
private func storeTileRow(_ sum: Vector, _ bias: Vector, _ activation: Activation,
                          _ out: UnsafeMutablePointer<Float>, _ columns: Int) {
    let x = activate(sum + bias, activation)
    if columns == lanes {
        storeVector(x, out)
    } else {
        storePartialVector(x, out, count: columns)
    }
}

/// Computes one tile of `rows` (1...6) rows; `wide` is true for a 16-column panel.
func gemmTile(rows: Int, wide: Bool, _ t: GemmTile) {
    switch (rows, wide) {
    case (6, true): accumulateTile(rows: 6, wide: true, t)
    case (5, true): accumulateTile(rows: 5, wide: true, t)
    case (4, true): accumulateTile(rows: 4, wide: true, t)
    case (3, true): accumulateTile(rows: 3, wide: true, t)
    case (2, true): accumulateTile(rows: 2, wide: true, t)
    case (1, true): accumulateTile(rows: 1, wide: true, t)
    case (6, false): accumulateTile(rows: 6, wide: false, t)
    case (5, false): accumulateTile(rows: 5, wide: false, t)
    case (4, false): accumulateTile(rows: 4, wide: false, t)
    case (3, false): accumulateTile(rows: 3, wide: false, t)
    case (2, false): accumulateTile(rows: 2, wide: false, t)
    case (1, false): accumulateTile(rows: 1, wide: false, t)
    default: preconditionFailure("gemmTile: rows must be in 1...6, not \(rows)")
    }
}
