// The AVX-512 VNNI int8 GEMM: `vpdpbusd` (64 u8 × s8 products per instruction, summed four at a
// time into 16 Int32 lanes). Called by Kernels' `int8Gemm` only after it has checked the CPU.
//
// Why a module of its own, compiled with `-parse-stdlib -Xcc -march=x86-64-v4 -Xcc -mavx512vnni`
// (Package.swift): Swift's SIMD types do not lower to `vpdpbusd`, so the kernel calls the LLVM
// intrinsic through `Builtin`, which only a `-parse-stdlib` module can see; and target features
// are per module, so the AVX-512 code lives here, whole (tile loop, epilogue), behind one
// `@inline(never)` entry point, and nothing of it can be inlined into code that runs on a CPU
// without AVX-512. The module is built on every x86-64 host, AVX2-only ones included (the flags
// name the features; they do not ask the host for them); only calling it needs VNNI.

import Swift

/// One 512-bit register of Int32 lanes.
typealias V = SIMD16<Int32>
typealias F = SIMD16<Float>

/// acc + Σ₄ a·b per Int32 lane: a as 4 unsigned bytes, b as 4 signed bytes per lane. Wraps (does
/// not saturate) on overflow, like the scalar twin's `&+`.
@inline(__always)
func dpbusd(_ acc: V, _ a: V, _ b: V) -> V {
    let r = Builtin.int_x86_avx512_vpdpbusd_512(unsafeBitCast(acc, to: Builtin.Vec16xInt32.self),
                                                unsafeBitCast(a, to: Builtin.Vec16xInt32.self),
                                                unsafeBitCast(b, to: Builtin.Vec16xInt32.self))
    return unsafeBitCast(r, to: V.self)
}

/// The most rows of C one tile holds in registers.
let tileRows = 8
/// The columns of a full panel: two registers of 16 Int32 lanes.
public let vnniPanelWidth = 32

/// One call's operands, shared by its tiles; see `int8GemmVNNI`.
struct Problem {
    var groups: Int
    var n: Int
    var panels: UnsafeRawPointer
    var columnOffsets: UnsafePointer<Int32>
    var columnCorrections: UnsafePointer<Int32>
    var c: UnsafeMutableRawPointer
    var ldc: Int
    var rowScales: UnsafePointer<Float>?
    var columnScales: UnsafePointer<Float>?
    var bias: UnsafePointer<Float>?
    var relu: Bool
}

/// One tile: `rows` rows of A (copied, zero-padded to whole groups of 4 bytes, `aStride` bytes
/// apart) against one panel.
struct Tile {
    var a: UnsafeRawPointer
    var aStride: Int
    var rowSums: UnsafePointer<Int32>
    var rowZeroPoints: UnsafePointer<Int32>
    var panel: UnsafeRawPointer
    /// The tile's first row and column of C.
    var row: Int
    var column: Int
    /// How many of the panel's columns exist in C (1...32).
    var columns: Int
}

/// C = (A − z_A)(B − z_B) in Int32, or its dequantized float (see Kernels' `int8Gemm` and
/// `int8GemmDequantized`, which validate every argument and are the documented API).
///
/// B is packed in panels of 32 columns (16 for a last panel of at most 16): group g (k rows
/// 4g...4g+3) of a panel is `width × 4` bytes, column-major within the group, so one 64-byte load
/// is 16 columns × 4 k values. Stored values s are int8; the true B − z_B is s − columnOffsets[j]
/// and columnCorrections[j] = Σ_k s − k·columnOffsets[j]. Then, exactly (mod 2³²):
/// Σ (a − z_A)(s − o) = Σ a·s − o·Σ a − z_A·(Σ s − k·o).
///
/// - Parameters:
///   - a, lda, rowZeroPoints: m rows of k bytes and their zero points.
///   - panels: the packed B, `ceil(k / 4)` groups per panel.
///   - columnOffsets, columnCorrections: per column, padded with zeros to a whole panel.
///   - c: Int32 C when `rowScales` is nil, else float C: Float(C) · (rowScales[i] ·
///     columnScales[j]) + bias[j], then max(·, 0) if `relu` (NaN and −0 kept), in that order.
///   - columnScales: n floats (the caller expands a per-tensor scale).
@inline(never)
public func int8GemmVNNI(m: Int, k: Int, n: Int, a: UnsafePointer<UInt8>, lda: Int,
                         rowZeroPoints: UnsafePointer<Int32>, panels: UnsafeRawPointer,
                         columnOffsets: UnsafePointer<Int32>, columnCorrections: UnsafePointer<Int32>,
                         c: UnsafeMutableRawPointer, ldc: Int,
                         rowScales: UnsafePointer<Float>?, columnScales: UnsafePointer<Float>?,
                         bias: UnsafePointer<Float>?, relu: Bool) {
    if m == 0 || n == 0 { return }
    let groups = (k + 3) / 4
    let problem = Problem(groups: groups, n: n, panels: panels, columnOffsets: columnOffsets,
                          columnCorrections: columnCorrections, c: c, ldc: ldc, rowScales: rowScales,
                          columnScales: columnScales, bias: bias, relu: relu)
    // A block of rows stays in L1 while every panel of B streams past it. When k is not a
    // multiple of 4 the block is first copied into a zero-padded buffer (row ends need not be
    // readable 4 bytes at a time); otherwise it is read in place (for 256×256×10, copying took
    // a third of the time). Each output is the same exact integer whichever block its row is in.
    let inPlace = k % 4 == 0
    let aStride = max(groups * 4, 4)
    withUnsafeTemporaryAllocation(byteCount: tileRows * aStride + tileRows * 4, alignment: 64) { scratch in
        let buffer = scratch.baseAddress!
        let rowSums = (buffer + tileRows * aStride).bindMemory(to: Int32.self, capacity: tileRows)
        var row = 0
        while row < m {
            let rows = min(tileRows, m - row)
            for r in 0..<rows {
                let source = a + (row + r) * lda
                var sum: Int32 = 0
                if inPlace {
                    for p in 0..<k { sum &+= Int32(source[p]) }
                } else {
                    let target = (buffer + r * aStride).assumingMemoryBound(to: UInt8.self)
                    for p in 0..<k {
                        target[p] = source[p]
                        sum &+= Int32(source[p])
                    }
                    for p in k..<aStride { target[p] = 0 }
                }
                rowSums[r] = sum
            }
            let block = inPlace ? UnsafeRawPointer(a + row * lda) : UnsafeRawPointer(buffer)
            var column = 0
            while column < n {
                let width = min(vnniPanelWidth, n - column)
                let tile = Tile(a: block, aStride: inPlace ? lda : aStride, rowSums: rowSums,
                                rowZeroPoints: rowZeroPoints + row, panel: panels + column * groups * 4,
                                row: row, column: column, columns: width)
                vnniTile(rows: rows, wide: width > 16, tile, problem)
                column += vnniPanelWidth
            }
            row += rows
        }
    }
}

/// Computes one tile of `rows` (1...8) rows; `wide` for a 32-column panel, else 16.
func vnniTile(rows: Int, wide: Bool, _ t: Tile, _ p: Problem) {
    switch (rows, wide) {
    case (8, true): tile8x32(t, p)
    case (7, true): tile7x32(t, p)
    case (6, true): tile6x32(t, p)
    case (5, true): tile5x32(t, p)
    case (4, true): tile4x32(t, p)
    case (3, true): tile3x32(t, p)
    case (2, true): tile2x32(t, p)
    case (1, true): tile1x32(t, p)
    case (8, false): tile8x16(t, p)
    case (7, false): tile7x16(t, p)
    case (6, false): tile6x16(t, p)
    case (5, false): tile5x16(t, p)
    case (4, false): tile4x16(t, p)
    case (3, false): tile3x16(t, p)
    case (2, false): tile2x16(t, p)
    case (1, false): tile1x16(t, p)
    default: preconditionFailure("vnniTile: rows must be in 1...8, not \(rows)")
    }
}

// One function per shape, each the only caller of its inlined copy (as in the float GEMM).
func tile8x32(_ t: Tile, _ p: Problem) { accumulate(rows: 8, wide: true, t, p) }
func tile7x32(_ t: Tile, _ p: Problem) { accumulate(rows: 7, wide: true, t, p) }
func tile6x32(_ t: Tile, _ p: Problem) { accumulate(rows: 6, wide: true, t, p) }
func tile5x32(_ t: Tile, _ p: Problem) { accumulate(rows: 5, wide: true, t, p) }
func tile4x32(_ t: Tile, _ p: Problem) { accumulate(rows: 4, wide: true, t, p) }
func tile3x32(_ t: Tile, _ p: Problem) { accumulate(rows: 3, wide: true, t, p) }
func tile2x32(_ t: Tile, _ p: Problem) { accumulate(rows: 2, wide: true, t, p) }
func tile1x32(_ t: Tile, _ p: Problem) { accumulate(rows: 1, wide: true, t, p) }
func tile8x16(_ t: Tile, _ p: Problem) { accumulate(rows: 8, wide: false, t, p) }
func tile7x16(_ t: Tile, _ p: Problem) { accumulate(rows: 7, wide: false, t, p) }
func tile6x16(_ t: Tile, _ p: Problem) { accumulate(rows: 6, wide: false, t, p) }
func tile5x16(_ t: Tile, _ p: Problem) { accumulate(rows: 5, wide: false, t, p) }
func tile4x16(_ t: Tile, _ p: Problem) { accumulate(rows: 4, wide: false, t, p) }
func tile3x16(_ t: Tile, _ p: Problem) { accumulate(rows: 3, wide: false, t, p) }
func tile2x16(_ t: Tile, _ p: Problem) { accumulate(rows: 2, wide: false, t, p) }
func tile1x16(_ t: Tile, _ p: Problem) { accumulate(rows: 1, wide: false, t, p) }

/// The register tile: `rows` × (16 or 32) Int32 accumulators over all groups of k.
///
/// 16 accumulators + 2 panel registers of the 32: each group of 4 k values costs 2 loads of B,
/// `rows` 4-byte broadcasts of A and 2·rows `vpdpbusd`. `@inline(__always)` so that `rows` and
/// `wide` are constants in each copy (unused accumulators vanish).
@inline(__always)
func accumulate(rows: Int, wide: Bool, _ t: Tile, _ p: Problem) {
    let zero = V()
    var c0 = zero, c1 = zero, c2 = zero, c3 = zero, c4 = zero, c5 = zero, c6 = zero, c7 = zero
    var d0 = zero, d1 = zero, d2 = zero, d3 = zero, d4 = zero, d5 = zero, d6 = zero, d7 = zero
    // Row offsets computed once, without overflow checks (they are within the scratch buffer),
    // and unaligned loads (no alignment check), so the loop body is loads and `vpdpbusd` only.
    let s1 = t.aStride, s2 = s1 &* 2, s3 = s1 &* 3, s4 = s1 &* 4, s5 = s1 &* 5, s6 = s1 &* 6, s7 = s1 &* 7
    var a = t.a
    var b = t.panel
    let step = wide ? 128 : 64
    for _ in 0..<p.groups {
        let b0 = b.loadUnaligned(as: V.self)
        let b1 = wide ? b.loadUnaligned(fromByteOffset: 64, as: V.self) : zero
        b += step
        let x0 = V(repeating: a.loadUnaligned(as: Int32.self))
        c0 = dpbusd(c0, x0, b0)
        if wide { d0 = dpbusd(d0, x0, b1) }
        if rows > 1 {
            let x = V(repeating: a.loadUnaligned(fromByteOffset: s1, as: Int32.self))
            c1 = dpbusd(c1, x, b0)
            if wide { d1 = dpbusd(d1, x, b1) }
        }
        if rows > 2 {
            let x = V(repeating: a.loadUnaligned(fromByteOffset: s2, as: Int32.self))
            c2 = dpbusd(c2, x, b0)
            if wide { d2 = dpbusd(d2, x, b1) }
        }
        if rows > 3 {
            let x = V(repeating: a.loadUnaligned(fromByteOffset: s3, as: Int32.self))
            c3 = dpbusd(c3, x, b0)
            if wide { d3 = dpbusd(d3, x, b1) }
        }
        if rows > 4 {
            let x = V(repeating: a.loadUnaligned(fromByteOffset: s4, as: Int32.self))
            c4 = dpbusd(c4, x, b0)
            if wide { d4 = dpbusd(d4, x, b1) }
        }
        if rows > 5 {
            let x = V(repeating: a.loadUnaligned(fromByteOffset: s5, as: Int32.self))
            c5 = dpbusd(c5, x, b0)
            if wide { d5 = dpbusd(d5, x, b1) }
        }
        if rows > 6 {
            let x = V(repeating: a.loadUnaligned(fromByteOffset: s6, as: Int32.self))
            c6 = dpbusd(c6, x, b0)
            if wide { d6 = dpbusd(d6, x, b1) }
        }
        if rows > 7 {
            let x = V(repeating: a.loadUnaligned(fromByteOffset: s7, as: Int32.self))
            c7 = dpbusd(c7, x, b0)
            if wide { d7 = dpbusd(d7, x, b1) }
        }
        a += 4
    }
    let e = Epilogue(t, p, wide: wide)
    e.finish(c0, d0, 0, t, p)
    if rows > 1 { e.finish(c1, d1, 1, t, p) }
    if rows > 2 { e.finish(c2, d2, 2, t, p) }
    if rows > 3 { e.finish(c3, d3, 3, t, p) }
    if rows > 4 { e.finish(c4, d4, 4, t, p) }
    if rows > 5 { e.finish(c5, d5, 5, t, p) }
    if rows > 6 { e.finish(c6, d6, 6, t, p) }
    if rows > 7 { e.finish(c7, d7, 7, t, p) }
}

/// The per-column vectors of one tile's epilogue, loaded once for all its rows.
struct Epilogue {
    var offsets0: V, offsets1: V
    var corrections0: V, corrections1: V
    var scales0 = F(), scales1 = F()
    var bias0 = F(), bias1 = F()

    @inline(__always)
    init(_ t: Tile, _ p: Problem, wide: Bool) {
        // The offsets and corrections are padded to whole panels; the scales and bias are not.
        let o = UnsafeRawPointer(p.columnOffsets + t.column)
        let k = UnsafeRawPointer(p.columnCorrections + t.column)
        offsets0 = o.loadUnaligned(as: V.self)
        offsets1 = wide ? o.loadUnaligned(fromByteOffset: 64, as: V.self) : V()
        corrections0 = k.loadUnaligned(as: V.self)
        corrections1 = wide ? k.loadUnaligned(fromByteOffset: 64, as: V.self) : V()
        if p.rowScales != nil, let s = p.columnScales {
            (scales0, scales1) = loadFloats(s + t.column, count: t.columns)
            if let b = p.bias { (bias0, bias1) = loadFloats(b + t.column, count: t.columns) }
        }
    }

    /// Corrects row `r`'s sums for the zero points and stores them (Int32 or dequantized).
    @inline(__always)
    func finish(_ sum0: V, _ sum1: V, _ r: Int, _ t: Tile, _ p: Problem) {
        let rowSum = V(repeating: t.rowSums[r])
        let zero = V(repeating: t.rowZeroPoints[r])
        let exact0 = sum0 &- offsets0 &* rowSum &- zero &* corrections0
        let exact1 = sum1 &- offsets1 &* rowSum &- zero &* corrections1
        let i = t.row + r
        if let rowScales = p.rowScales {
            // Float(c) · (rowScale · columnScale) + bias, then relu: the scalar order, no FMA.
            let rowScale = F(repeating: rowScales[i])
            var x0 = add(mul(toFloat(exact0), mul(rowScale, scales0)), bias0)
            var x1 = add(mul(toFloat(exact1), mul(rowScale, scales1)), bias1)
            if p.relu {
                x0 = relu(x0)
                x1 = relu(x1)
            }
            store(x0, x1, p.c + (i * p.ldc + t.column) * 4, count: t.columns)
        } else {
            store(exact0, exact1, p.c + (i * p.ldc + t.column) * 4, count: t.columns)
        }
    }
}

/// Float(v) lane by lane (round to nearest even), as one `vcvtdq2ps`. Not `F(v)`: that is a
/// stdlib generic whose specialization the compiler may leave out of line, with a symbol the
/// linker shares between modules, so this module could end up calling a copy compiled for other
/// CPU features (or another module calling this one's).
@inline(__always)
func toFloat(_ v: V) -> F {
    unsafeBitCast(Builtin.sitofp_Vec16xInt32_Vec16xFPIEEE32(unsafeBitCast(v, to: Builtin.Vec16xInt32.self)), to: F.self)
}

// Float arithmetic through `Builtin` as well: in a `-parse-stdlib` module, `+`, `*` and
// `replacing(with:where:)` on SIMD16<Float> resolve to the generic lane-by-lane versions, which
// LLVM left as scalar loops (measured: the fused epilogue ran at a third of the GEMM's speed).

/// a · b lane by lane (one `vmulps`).
@inline(__always)
func mul(_ a: F, _ b: F) -> F {
    unsafeBitCast(Builtin.fmul_Vec16xFPIEEE32(unsafeBitCast(a, to: Builtin.Vec16xFPIEEE32.self),
                                             unsafeBitCast(b, to: Builtin.Vec16xFPIEEE32.self)), to: F.self)
}

/// a + b lane by lane (one `vaddps`).
@inline(__always)
func add(_ a: F, _ b: F) -> F {
    unsafeBitCast(Builtin.fadd_Vec16xFPIEEE32(unsafeBitCast(a, to: Builtin.Vec16xFPIEEE32.self),
                                             unsafeBitCast(b, to: Builtin.Vec16xFPIEEE32.self)), to: F.self)
}

/// x < 0 ? 0 : x lane by lane: NaN and -0 pass unchanged, as Kernels' relu.
@inline(__always)
func relu(_ x: F) -> F {
    let v = unsafeBitCast(x, to: Builtin.Vec16xFPIEEE32.self)
    let negative = Builtin.fcmp_olt_Vec16xFPIEEE32(v, unsafeBitCast(F(), to: Builtin.Vec16xFPIEEE32.self))
    let mask = Builtin.sext_Vec16xInt1_Vec16xInt32(negative)
    let allOnes = unsafeBitCast(V(repeating: -1), to: Builtin.Vec16xInt32.self)
    let keep = Builtin.xor_Vec16xInt32(mask, allOnes)
    return unsafeBitCast(Builtin.and_Vec16xInt32(unsafeBitCast(x, to: Builtin.Vec16xInt32.self), keep), to: F.self)
}

/// Loads up to 32 floats into two vectors; lanes past `count` are 0. Touches nothing past `count`.
@inline(__always)
func loadFloats(_ p: UnsafePointer<Float>, count: Int) -> (F, F) {
    if count == 32 {
        let r = UnsafeRawPointer(p)
        return (r.loadUnaligned(as: F.self), r.loadUnaligned(fromByteOffset: 64, as: F.self))
    }
    var v = (F(), F())
    withUnsafeMutableBytes(of: &v) { $0.baseAddress!.copyMemory(from: p, byteCount: count * 4) }
    return v
}

/// Stores the first `count` (1...32) lanes of (low, high) at `p`; touches nothing past them.
@inline(__always)
func store<T: SIMD>(_ low: T, _ high: T, _ p: UnsafeMutableRawPointer, count: Int) {
    if count == 32 {
        p.storeBytes(of: low, as: T.self)
        p.storeBytes(of: high, toByteOffset: 64, as: T.self)
        return
    }
    var v = (low, high)
    withUnsafeBytes(of: &v) { p.copyMemory(from: $0.baseAddress!, byteCount: count * 4) }
}
