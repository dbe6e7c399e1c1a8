// The exact AVX2 int8 GEMM: `vpmaddwd` on 16-bit operands (A − z_A and B − z_B, both in
// -255...255), each instruction 16 products summed in pairs into 8 Int32 lanes with no
// saturation (unlike `vpmaddubsw`, whose 16-bit pair sums of u8 × s8 products saturate).
//
// A module of its own, compiled with `-parse-stdlib -Xcc -march=x86-64-v3` and nothing else
// (Package.swift): `Builtin` reaches the intrinsic, and the flags keep every instruction of it
// within AVX2 (VEX encoding, ymm registers) even on an AVX-512 host, where `-march=native` would
// let LLVM use EVEX encodings and zmm registers. Everything runs behind one `@inline(never)`
// entry point, so the path Kernels picks on an AVX2-only CPU is this code and nothing else.

import Swift

/// One 256-bit register of Int32 lanes.
typealias V = SIMD8<Int32>
typealias F = SIMD8<Float>

/// acc + (pairwise sums of a·b as 16-bit lanes), exactly: |a|, |b| <= 255 here, so a pair sums to
/// at most 2·255² and nothing saturates.
@inline(__always)
func maddAdd(_ acc: V, _ a: V, _ b: V) -> V {
    let r = Builtin.int_x86_avx2_pmadd_wd(unsafeBitCast(a, to: Builtin.Vec16xInt16.self),
                                          unsafeBitCast(b, to: Builtin.Vec16xInt16.self))
    return acc &+ unsafeBitCast(r, to: V.self)
}

/// The most rows of C one tile holds in registers.
let tileRows = 6
/// The columns of a full panel: two registers of 8 Int32 lanes.
public let avx2PanelWidth = 16

/// One call's operands, shared by its tiles; see `int8GemmAVX2`.
struct Problem {
    var pairs: Int
    var n: Int
    var panels: UnsafeRawPointer
    var c: UnsafeMutableRawPointer
    var ldc: Int
    var rowScales: UnsafePointer<Float>?
    var columnScales: UnsafePointer<Float>?
    var bias: UnsafePointer<Float>?
    var relu: Bool
}

/// One tile: `rows` rows of A − z_A as pairs of Int16 (one Int32 each, `aStride` pairs apart)
/// against one panel.
struct Tile {
    var a: UnsafePointer<Int32>
    var aStride: Int
    var panel: UnsafeRawPointer
    var row: Int
    var column: Int
    /// How many of the panel's columns exist in C (1...16).
    var columns: Int
}

/// C = (A − z_A)(B − z_B) in Int32, or its dequantized float (see Kernels' `int8Gemm` and
/// `int8GemmDequantized`, which validate every argument and are the documented API).
///
/// B − z_B is packed as Int16 in panels of 16 columns (8 for a last panel of at most 8): pair q
/// (k rows 2q, 2q+1) of a panel is `width × 2` values, column-major within the pair, so one
/// 32-byte load is 8 columns × 2 k values; k is padded with zeros to an even count.
///
/// - Parameters: as `int8GemmVNNI`, without the zero-point corrections (B is stored centered).
@inline(never)
public func int8GemmAVX2(m: Int, k: Int, n: Int, a: UnsafePointer<UInt8>, lda: Int,
                         rowZeroPoints: UnsafePointer<Int32>, panels: UnsafeRawPointer,
                         c: UnsafeMutableRawPointer, ldc: Int,
                         rowScales: UnsafePointer<Float>?, columnScales: UnsafePointer<Float>?,
                         bias: UnsafePointer<Float>?, relu: Bool) {
    if m == 0 || n == 0 { return }
    let pairs = (k + 1) / 2
    let problem = Problem(pairs: pairs, n: n, panels: panels, c: c, ldc: ldc, rowScales: rowScales,
                          columnScales: columnScales, bias: bias, relu: relu)
    // A block of rows, centered and widened to Int16 pairs, stays in L1 while every panel of B
    // streams past it.
    let aStride = max(pairs, 1)
    withUnsafeTemporaryAllocation(of: Int32.self, capacity: tileRows * aStride) { scratch in
        let buffer = scratch.baseAddress!
        var row = 0
        while row < m {
            let rows = min(tileRows, m - row)
            for r in 0..<rows {
                let source = a + (row + r) * lda
                let zero = rowZeroPoints[row + r]
                let target = buffer + r * aStride
                for q in 0..<k / 2 {
                    let low = Int32(source[2 * q]) &- zero
                    let high = Int32(source[2 * q + 1]) &- zero
                    target[q] = (low & 0xFFFF) | (high << 16)
                }
                if k % 2 == 1 { target[k / 2] = (Int32(source[k - 1]) &- zero) & 0xFFFF }
            }
            var column = 0
            while column < n {
                let width = min(avx2PanelWidth, n - column)
                let tile = Tile(a: UnsafePointer(buffer), aStride: aStride, panel: panels + column * pairs * 4,
                                row: row, column: column, columns: width)
                avx2Tile(rows: rows, wide: width > 8, tile, problem)
                column += avx2PanelWidth
            }
            row += rows
        }
    }
}

/// Computes one tile of `rows` (1...6) rows; `wide` for a 16-column panel, else 8.
func avx2Tile(rows: Int, wide: Bool, _ t: Tile, _ p: Problem) {
    switch (rows, wide) {
    case (6, true): tile6x16(t, p)
    case (5, true): tile5x16(t, p)
    case (4, true): tile4x16(t, p)
    case (3, true): tile3x16(t, p)
    case (2, true): tile2x16(t, p)
    case (1, true): tile1x16(t, p)
    case (6, false): tile6x8(t, p)
    case (5, false): tile5x8(t, p)
    case (4, false): tile4x8(t, p)
    case (3, false): tile3x8(t, p)
    case (2, false): tile2x8(t, p)
    case (1, false): tile1x8(t, p)
    default: preconditionFailure("avx2Tile: rows must be in 1...6, not \(rows)")
    }
}

// One function per shape, each the only caller of its inlined copy (as in the float GEMM).
func tile6x16(_ t: Tile, _ p: Problem) { accumulate(rows: 6, wide: true, t, p) }
func tile5x16(_ t: Tile, _ p: Problem) { accumulate(rows: 5, wide: true, t, p) }
func tile4x16(_ t: Tile, _ p: Problem) { accumulate(rows: 4, wide: true, t, p) }
func tile3x16(_ t: Tile, _ p: Problem) { accumulate(rows: 3, wide: true, t, p) }
func tile2x16(_ t: Tile, _ p: Problem) { accumulate(rows: 2, wide: true, t, p) }
func tile1x16(_ t: Tile, _ p: Problem) { accumulate(rows: 1, wide: true, t, p) }
func tile6x8(_ t: Tile, _ p: Problem) { accumulate(rows: 6, wide: false, t, p) }
func tile5x8(_ t: Tile, _ p: Problem) { accumulate(rows: 5, wide: false, t, p) }
func tile4x8(_ t: Tile, _ p: Problem) { accumulate(rows: 4, wide: false, t, p) }
func tile3x8(_ t: Tile, _ p: Problem) { accumulate(rows: 3, wide: false, t, p) }
func tile2x8(_ t: Tile, _ p: Problem) { accumulate(rows: 2, wide: false, t, p) }
func tile1x8(_ t: Tile, _ p: Problem) { accumulate(rows: 1, wide: false, t, p) }

/// The register tile: `rows` × (8 or 16) Int32 accumulators over all pairs of k.
///
/// Sized for AVX2's 16 registers: 12 accumulators, 2 for the panel row, 1 broadcast, 1 product.
/// `@inline(__always)` so that `rows` and `wide` are constants in each copy.
@inline(__always)
func accumulate(rows: Int, wide: Bool, _ t: Tile, _ p: Problem) {
    let zero = V()
    var c0 = zero, c1 = zero, c2 = zero, c3 = zero, c4 = zero, c5 = zero
    var d0 = zero, d1 = zero, d2 = zero, d3 = zero, d4 = zero, d5 = zero
    // Row offsets computed once, without overflow checks (they are within the scratch buffer).
    let s1 = t.aStride, s2 = s1 &* 2, s3 = s1 &* 3, s4 = s1 &* 4, s5 = s1 &* 5
    var a = t.a
    var b = t.panel
    let step = wide ? 64 : 32
    for _ in 0..<p.pairs {
        let b0 = b.loadUnaligned(as: V.self)
        let b1 = wide ? b.loadUnaligned(fromByteOffset: 32, as: V.self) : zero
        b += step
        let x0 = V(repeating: a[0])
        c0 = maddAdd(c0, x0, b0)
        if wide { d0 = maddAdd(d0, x0, b1) }
        if rows > 1 {
            let x = V(repeating: a[s1])
            c1 = maddAdd(c1, x, b0)
            if wide { d1 = maddAdd(d1, x, b1) }
        }
        if rows > 2 {
            let x = V(repeating: a[s2])
            c2 = maddAdd(c2, x, b0)
            if wide { d2 = maddAdd(d2, x, b1) }
        }
        if rows > 3 {
            let x = V(repeating: a[s3])
            c3 = maddAdd(c3, x, b0)
            if wide { d3 = maddAdd(d3, x, b1) }
        }
        if rows > 4 {
            let x = V(repeating: a[s4])
            c4 = maddAdd(c4, x, b0)
            if wide { d4 = maddAdd(d4, x, b1) }
        }
        if rows > 5 {
            let x = V(repeating: a[s5])
            c5 = maddAdd(c5, x, b0)
            if wide { d5 = maddAdd(d5, x, b1) }
        }
        a += 1
    }
    let e = Epilogue(t, p)
    e.finish(c0, d0, 0, t, p)
    if rows > 1 { e.finish(c1, d1, 1, t, p) }
    if rows > 2 { e.finish(c2, d2, 2, t, p) }
    if rows > 3 { e.finish(c3, d3, 3, t, p) }
    if rows > 4 { e.finish(c4, d4, 4, t, p) }
    if rows > 5 { e.finish(c5, d5, 5, t, p) }
}

/// The per-column vectors of one tile's epilogue, loaded once for all its rows.
struct Epilogue {
    var scales0 = F(), scales1 = F()
    var bias0 = F(), bias1 = F()

    @inline(__always)
    init(_ t: Tile, _ p: Problem) {
        if p.rowScales != nil, let s = p.columnScales {
            (scales0, scales1) = loadFloats(s + t.column, count: t.columns)
            if let b = p.bias { (bias0, bias1) = loadFloats(b + t.column, count: t.columns) }
        }
    }

    /// Stores row `r` of the tile (Int32 or dequantized).
    @inline(__always)
    func finish(_ sum0: V, _ sum1: V, _ r: Int, _ t: Tile, _ p: Problem) {
        let i = t.row + r
        if let rowScales = p.rowScales {
            // Float(c) · (rowScale · columnScale) + bias, then relu: the scalar order, no FMA.
            let rowScale = F(repeating: rowScales[i])
            var x0 = add(mul(toFloat(sum0), mul(rowScale, scales0)), bias0)
            var x1 = add(mul(toFloat(sum1), mul(rowScale, scales1)), bias1)
            if p.relu {
                x0 = relu(x0)
                x1 = relu(x1)
            }
            store(x0, x1, p.c + (i * p.ldc + t.column) * 4, count: t.columns)
        } else {
            store(sum0, sum1, p.c + (i * p.ldc + t.column) * 4, count: t.columns)
        }
    }
}

/// Float(v) lane by lane (round to nearest even), as one `vcvtdq2ps`. Not `F(v)`: that is a
/// stdlib generic whose specialization the compiler may leave out of line, with a symbol the
/// linker shares between modules, so this module could end up calling a copy compiled for other
/// CPU features (or another module calling this one's).
@inline(__always)
func toFloat(_ v: V) -> F {
    unsafeBitCast(Builtin.sitofp_Vec8xInt32_Vec8xFPIEEE32(unsafeBitCast(v, to: Builtin.Vec8xInt32.self)), to: F.self)
}

// Float arithmetic through `Builtin` as well: in a `-parse-stdlib` module, `+`, `*` and
// `replacing(with:where:)` on SIMD8<Float> resolve to the generic lane-by-lane versions, which
// LLVM left as scalar loops (measured: the fused epilogue ran at a third of the GEMM's speed).

/// a · b lane by lane (one `vmulps`).
@inline(__always)
func mul(_ a: F, _ b: F) -> F {
    unsafeBitCast(Builtin.fmul_Vec8xFPIEEE32(unsafeBitCast(a, to: Builtin.Vec8xFPIEEE32.self),
                                             unsafeBitCast(b, to: Builtin.Vec8xFPIEEE32.self)), to: F.self)
}

/// a + b lane by lane (one `vaddps`).
@inline(__always)
func add(_ a: F, _ b: F) -> F {
    unsafeBitCast(Builtin.fadd_Vec8xFPIEEE32(unsafeBitCast(a, to: Builtin.Vec8xFPIEEE32.self),
                                             unsafeBitCast(b, to: Builtin.Vec8xFPIEEE32.self)), to: F.self)
}

/// x < 0 ? 0 : x lane by lane: NaN and -0 pass unchanged, as Kernels' relu.
@inline(__always)
func relu(_ x: F) -> F {
    let v = unsafeBitCast(x, to: Builtin.Vec8xFPIEEE32.self)
    let negative = Builtin.fcmp_olt_Vec8xFPIEEE32(v, unsafeBitCast(F(), to: Builtin.Vec8xFPIEEE32.self))
    let mask = Builtin.sext_Vec8xInt1_Vec8xInt32(negative)
    let allOnes = unsafeBitCast(V(repeating: -1), to: Builtin.Vec8xInt32.self)
    let keep = Builtin.xor_Vec8xInt32(mask, allOnes)
    return unsafeBitCast(Builtin.and_Vec8xInt32(unsafeBitCast(x, to: Builtin.Vec8xInt32.self), keep), to: F.self)
}

/// Loads up to 16 floats into two vectors; lanes past `count` are 0. Touches nothing past `count`.
@inline(__always)
func loadFloats(_ p: UnsafePointer<Float>, count: Int) -> (F, F) {
    if count == 16 {
        let r = UnsafeRawPointer(p)
        return (r.loadUnaligned(as: F.self), r.loadUnaligned(fromByteOffset: 32, as: F.self))
    }
    var v = (F(), F())
    withUnsafeMutableBytes(of: &v) { $0.baseAddress!.copyMemory(from: p, byteCount: count * 4) }
    return v
}

/// Stores the first `count` (1...16) lanes of (low, high) at `p`; touches nothing past them.
@inline(__always)
func store<T: SIMD>(_ low: T, _ high: T, _ p: UnsafeMutableRawPointer, count: Int) {
    if count == 16 {
        p.storeBytes(of: low, as: T.self)
        p.storeBytes(of: high, toByteOffset: 32, as: T.self)
        return
    }
    var v = (low, high)
    withUnsafeBytes(of: &v) { p.copyMemory(from: $0.baseAddress!, byteCount: count * 4) }
}
