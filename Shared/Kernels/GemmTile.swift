// The GEMM micro-kernel: one tile of up to 6 rows × one packed panel (8 or 16 columns) of C,
// accumulated in registers over the whole k dimension, then biased, activated and stored once.

/// Where one tile's operands live. All pointers are already offset to the tile.
struct GemmTile {
    /// The inner dimension.
    var k: Int
    /// Row 0 of the tile's A rows; the rows are `lda` floats apart.
    var a: UnsafePointer<Float>
    var lda: Int
    /// The packed panel: k rows of 8 or 16 floats (or bfloat16 values), one after another.
    var panel: UnsafeRawPointer
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
/// FMA pipes, not the loads, set the pace. Tiles of 1-3 rows have too few accumulators to hide
/// the FMA latency and run slower (1×256×256: ~27 GFLOP/s); splitting their k loop over two
/// accumulators would make them faster (~46) but sum in another order than full tiles.
///
/// `@inline(__always)`: `rows` and `wide` must be constants inside the body so that the unused
/// accumulators and branches vanish; `gemmTile` calls it with literals only. Measured with
/// Benchmarks/kernels (AVX2 host): without it 256×256×256 runs at 39 GFLOP/s, with it 90.
///
/// `bf16`: the panel holds bfloat16 values, each widened to its float (exactly: the upper 16 bits)
/// as it is loaded; the products and sums are then the same operations in the same order.
@inline(__always)
private func accumulateTile(rows: Int, wide: Bool, bf16: Bool = false, _ t: GemmTile) {
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
    let stride = width * (bf16 ? 2 : MemoryLayout<Float>.stride)
    var b = t.panel
    // Every tile, whatever its row count, sums each output's k products in the same order
    // (k ascending, one FMA each). A row's result therefore does not depend on which tile it
    // falls in, that is on the batch size or its position in the batch: batches are cut by
    // timing (linger), so anything else would make output depend on timing.
    for q in 0..<t.k {
        let b0 = bf16 ? widenBF16(b, 0) : b.loadUnaligned(as: Half.self)
        let b1 = wide ? (bf16 ? widenBF16(b, 16) : b.loadUnaligned(fromByteOffset: 32, as: Half.self)) : zero
        b += stride
        c0 = c0.addingProduct(b0, a0[q])
        if wide { d0 = d0.addingProduct(b1, a0[q]) }
        if rows > 1 {
            c1 = c1.addingProduct(b0, a1[q])
            if wide { d1 = d1.addingProduct(b1, a1[q]) }
        }
        if rows > 2 {
            c2 = c2.addingProduct(b0, a2[q])
            if wide { d2 = d2.addingProduct(b1, a2[q]) }
        }
        if rows > 3 {
            c3 = c3.addingProduct(b0, a3[q])
            if wide { d3 = d3.addingProduct(b1, a3[q]) }
        }
        if rows > 4 {
            c4 = c4.addingProduct(b0, a4[q])
            if wide { d4 = d4.addingProduct(b1, a4[q]) }
        }
        if rows > 5 {
            c5 = c5.addingProduct(b0, a5[q])
            if wide { d5 = d5.addingProduct(b1, a5[q]) }
        }
    }

    // Epilogue: bias, then identity/relu in registers before the one store. Sigmoid and tanh
    // are applied right after the store, while the tile is in L1, by the out-of-line vector loop:
    // inlining their exp into every tile row (12 variants × 6 rows) made the kernel 10× larger.
    var bias = Vector()
    if let b = t.bias {
        bias = t.columns == lanes ? loadVector(b) : loadPartialVector(b, count: t.columns, padding: 0)
    }
    let relu = t.activation == .relu
    let columns = t.columns
    storeTileRow(Vector(lowHalf: c0, highHalf: d0), bias, relu, t.c, columns)
    if rows > 1 { storeTileRow(Vector(lowHalf: c1, highHalf: d1), bias, relu, t.c + t.ldc, columns) }
    if rows > 2 { storeTileRow(Vector(lowHalf: c2, highHalf: d2), bias, relu, t.c + 2 * t.ldc, columns) }
    if rows > 3 { storeTileRow(Vector(lowHalf: c3, highHalf: d3), bias, relu, t.c + 3 * t.ldc, columns) }
    if rows > 4 { storeTileRow(Vector(lowHalf: c4, highHalf: d4), bias, relu, t.c + 4 * t.ldc, columns) }
    if rows > 5 { storeTileRow(Vector(lowHalf: c5, highHalf: d5), bias, relu, t.c + 5 * t.ldc, columns) }
    if t.activation == .sigmoid || t.activation == .tanh {
        for r in 0..<rows {
            applyActivation(t.activation, t.c + r * t.ldc, count: columns)
        }
    }
}

/// The 8 bfloat16 values at `offset` bytes from `p` as floats.
@inline(__always)
private func widenBF16(_ p: UnsafeRawPointer, _ offset: Int) -> Half {
    let halves = p.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt16>.self)
    return unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: halves) &<< 16, to: Half.self)
}

/// sum + bias, through relu if asked, stored straight from the accumulators.
///
/// `@inline(__always)`: otherwise called 12 times per tile with the row in 128-bit pieces;
/// measured 256×64×256 (Benchmarks/kernels): 83 → 89 GFLOP/s.
@inline(__always)
private func storeTileRow(_ sum: Vector, _ bias: Vector, _ relu: Bool,
                          _ out: UnsafeMutablePointer<Float>, _ columns: Int) {
    var x = sum + bias
    if relu { x = Relu.callAsFunction(x) }
    if columns == lanes {
        storeVector(x, out)
    } else {
        storePartialVector(x, out, count: columns)
    }
}

/// Computes one tile of `rows` (1...6) rows; `wide` is true for a 16-column panel.
func gemmTile(rows: Int, wide: Bool, _ t: GemmTile) {
    switch (rows, wide) {
    case (6, true): tile6x16(t)
    case (5, true): tile5x16(t)
    case (4, true): tile4x16(t)
    case (3, true): tile3x16(t)
    case (2, true): tile2x16(t)
    case (1, true): tile1x16(t)
    case (6, false): tile6x8(t)
    case (5, false): tile5x8(t)
    case (4, false): tile4x8(t)
    case (3, false): tile3x8(t)
    case (2, false): tile2x8(t)
    case (1, false): tile1x8(t)
    default: preconditionFailure("gemmTile: rows must be in 1...6, not \(rows)")
    }
}

/// `gemmTile` for bfloat16 panels.
func gemmTileBF16(rows: Int, wide: Bool, _ t: GemmTile) {
    switch (rows, wide) {
    case (6, true): tile6x16h(t)
    case (5, true): tile5x16h(t)
    case (4, true): tile4x16h(t)
    case (3, true): tile3x16h(t)
    case (2, true): tile2x16h(t)
    case (1, true): tile1x16h(t)
    case (6, false): tile6x8h(t)
    case (5, false): tile5x8h(t)
    case (4, false): tile4x8h(t)
    case (3, false): tile3x8h(t)
    case (2, false): tile2x8h(t)
    case (1, false): tile1x8h(t)
    default: preconditionFailure("gemmTile: rows must be in 1...6, not \(rows)")
    }
}

// One function per tile shape, each the only caller of its inlined copy. With all twelve
// expansions in one function the inliner gave up on some of them, which then ran with
// `rows`/`wide` unknown (accumulators spilled to memory).
private func tile6x16(_ t: GemmTile) { accumulateTile(rows: 6, wide: true, t) }
private func tile5x16(_ t: GemmTile) { accumulateTile(rows: 5, wide: true, t) }
private func tile4x16(_ t: GemmTile) { accumulateTile(rows: 4, wide: true, t) }
private func tile3x16(_ t: GemmTile) { accumulateTile(rows: 3, wide: true, t) }
private func tile2x16(_ t: GemmTile) { accumulateTile(rows: 2, wide: true, t) }
private func tile1x16(_ t: GemmTile) { accumulateTile(rows: 1, wide: true, t) }
private func tile6x8(_ t: GemmTile) { accumulateTile(rows: 6, wide: false, t) }
private func tile5x8(_ t: GemmTile) { accumulateTile(rows: 5, wide: false, t) }
private func tile4x8(_ t: GemmTile) { accumulateTile(rows: 4, wide: false, t) }
private func tile3x8(_ t: GemmTile) { accumulateTile(rows: 3, wide: false, t) }
private func tile2x8(_ t: GemmTile) { accumulateTile(rows: 2, wide: false, t) }
private func tile1x8(_ t: GemmTile) { accumulateTile(rows: 1, wide: false, t) }
private func tile6x16h(_ t: GemmTile) { accumulateTile(rows: 6, wide: true, bf16: true, t) }
private func tile5x16h(_ t: GemmTile) { accumulateTile(rows: 5, wide: true, bf16: true, t) }
private func tile4x16h(_ t: GemmTile) { accumulateTile(rows: 4, wide: true, bf16: true, t) }
private func tile3x16h(_ t: GemmTile) { accumulateTile(rows: 3, wide: true, bf16: true, t) }
private func tile2x16h(_ t: GemmTile) { accumulateTile(rows: 2, wide: true, bf16: true, t) }
private func tile1x16h(_ t: GemmTile) { accumulateTile(rows: 1, wide: true, bf16: true, t) }
private func tile6x8h(_ t: GemmTile) { accumulateTile(rows: 6, wide: false, bf16: true, t) }
private func tile5x8h(_ t: GemmTile) { accumulateTile(rows: 5, wide: false, bf16: true, t) }
private func tile4x8h(_ t: GemmTile) { accumulateTile(rows: 4, wide: false, bf16: true, t) }
private func tile3x8h(_ t: GemmTile) { accumulateTile(rows: 3, wide: false, bf16: true, t) }
private func tile2x8h(_ t: GemmTile) { accumulateTile(rows: 2, wide: false, bf16: true, t) }
private func tile1x8h(_ t: GemmTile) { accumulateTile(rows: 1, wide: false, bf16: true, t) }
