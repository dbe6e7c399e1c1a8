// Quantization of activations to uint8 and dequantization of Int32 sums, 16 lanes at a time.
// Each has a scalar twin in QuantizeReference.swift and matches it bit for bit: the same IEEE
// operations (division by the scale, not multiplication by its reciprocal; Mul then Add, no
// FMA) applied lane by lane, which is what onnxruntime computes.

/// ONNX DynamicQuantizeLinear applied to each row of X on its own, as onnxruntime computes it
/// for a one-row tensor: the range [min(0, min x), max(0, max x)] mapped onto 0...255.
///
/// Per row rather than per tensor so that a record's result never depends on which batch it
/// travelled in (batches are cut by timing).
///
/// - scale = (max − min) / 255, or 1 when max == min;
/// - zero point = round(clamp(0 − min / scale, 0, 255)), halves away from zero (std::round);
/// - q = clamp(round(x / scale) + zero point, 0, 255), halves to even (nearbyint).
///
/// A row holding a NaN or an infinity (onnxruntime's result is undefined there) gets the scale NaN
/// and zero point 0: its bytes are all 0 and everything computed from its scale is NaN, so the
/// record's scores come out NaN, as they would in float32, rather than confidently wrong.
///
/// - Parameters:
///   - x: `rows` rows of `cols` floats, `ldx` apart.
///   - q: `rows` rows of `cols` bytes, `ldq` apart.
///   - scales, zeroPoints: one per row.
public func quantizeRowsDynamic(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ldx: Int,
                                _ q: UnsafeMutablePointer<UInt8>, ldq: Int,
                                scales: UnsafeMutablePointer<Float>, zeroPoints: UnsafeMutablePointer<Int32>) {
    precondition(rows >= 0 && cols >= 0, "quantizeRowsDynamic: negative shape \(rows)×\(cols)")
    guard rows > 0 else { return }
    // One row ahead: the scale and zero point of row i + 1 (a range pass, then a chain of
    // reductions and two dependent divisions) come before row i's quantization in program order,
    // so that the core overlaps that chain with row i's loop instead of waiting for it.
    var next = rowScaleAndZeroPoint(x, count: cols)
    for i in 0..<rows {
        let (scale, zero) = next
        if i + 1 < rows { next = rowScaleAndZeroPoint(x + (i + 1) * ldx, count: cols) }
        scales[i] = scale
        zeroPoints[i] = zero
        quantizeBytes(x + i * ldx, count: cols, QuantizeConstants(scale: scale, zeroPoint: zero), q + i * ldq)
    }
}

/// DynamicQuantizeLinear's scale and zero point for one row. `@inline(always)`: measured; see
/// `rowRange`.
@inline(always)
private func rowScaleAndZeroPoint(_ row: UnsafePointer<Float>, count: Int) -> (scale: Float, zeroPoint: Int32) {
    let (low, high, finite) = rowRange(row, count: count)
    return finite ? dynamicScaleAndZeroPoint(low: low, high: high) : (.nan, 0)
}

/// ONNX QuantizeLinear to uint8: q = clamp(round(x / scale) + zeroPoint, 0, 255), halves to even;
/// NaN gives 0.
public func quantizeLinear(_ x: UnsafePointer<Float>, count: Int, scale: Float, zeroPoint: Int32,
                           _ q: UnsafeMutablePointer<UInt8>) {
    precondition(count >= 0, "quantizeLinear: negative count \(count)")
    quantizeBytes(x, count: count, QuantizeConstants(scale: scale, zeroPoint: zeroPoint), q)
}

/// `quantizeLinear`'s loop. `@inline(always)`: `@inline(__always)` is only a hint to the SIL
/// inliner now, which left the vector helpers below as calls (vectors passed in 128-bit pieces).
@inline(always)
private func quantizeBytes(_ x: UnsafePointer<Float>, count: Int, _ constants: QuantizeConstants,
                           _ q: UnsafeMutablePointer<UInt8>) {
    var j = 0
    while j &+ lanes <= count {
        let bytes = quantize(loadVector(x + j), constants)
        UnsafeMutableRawPointer(q + j).storeBytes(of: bytes, as: SIMD16<UInt8>.self)
        j &+= lanes
    }
    if j < count {
        let bytes = quantize(loadPartialVector(x + j, count: count &- j, padding: 0), constants)
        withUnsafeBytes(of: bytes) { UnsafeMutableRawPointer(q + j).copyMemory(from: $0.baseAddress!, byteCount: count &- j) }
    }
}

/// 16 lanes of `quantizeLinearReference`'s formula, with the same bytes for every input
/// (including NaN, ±inf, ties). `@inline(__always)`: a call would pass the vectors through memory
/// in 128-bit pieces (see VectorFunctions.swift).
///
/// Written with plain arithmetic and bit casts: the stdlib's SIMD `rounded(_:)` went through a
/// protocol witness per vector and `SIMD16<Int32>(_:rounding:)` through an out-of-line generic
/// (7.5 ns per element before, 0.2 after).
///
/// Divides rather than multiplying by the reciprocal and dividing again only near a rounding
/// tie: that variant (exact, but 5 more vector operations for the tie test) took 14.0 µs for 256
/// rows of 256 floats against 9.7 for this one on Zen 4, where `vdivps` overlaps with the rest.
@inline(always)
private func quantize(_ x: Vector, _ q: QuantizeConstants) -> SIMD16<UInt8> {
    // clamp(rint(y) + z, 0, 255) = rint(clamp(y, -z, 255 - z)) + z, as the bounds are integers;
    // NaN goes to -z (every comparison with NaN is false), hence to the twin's 0.
    let y = x / q.scale
    var c = y.replacing(with: q.low, where: .!(y .>= q.low))
    c = c.replacing(with: q.high, where: c .> q.high)
    // rint(c), halves to even: c + 1.5·2²³ lies in [2²³, 2²⁴), where the FPU's default rounding
    // (nearest, ties to even) leaves an integer, and its bits minus those of 1.5·2²³ are that
    // integer; the zero point is added in the same integer subtraction. (Integer comparisons
    // on SIMD16<Int32> compile to lane loops here; float ones to single instructions.)
    let bits = unsafeBitCast(c + 12_582_912, to: SIMD16<Int32>.self) &- q.bias
    return SIMD16<UInt8>(truncatingIfNeeded: bits)
}

/// The per-call vectors of `quantize`.
private struct QuantizeConstants {
    let scale: Vector
    /// -z and 255 - z.
    let low: Vector, high: Vector
    /// The bits of 1.5·2²³, minus z.
    let bias: SIMD16<Int32>

    init(scale: Float, zeroPoint: Int32) {
        self.scale = Vector(repeating: scale)
        low = Vector(repeating: Float(-zeroPoint))
        high = Vector(repeating: Float(255 - zeroPoint))
        bias = SIMD16<Int32>(repeating: 0x4B40_0000 &- zeroPoint)
    }
}

/// The float result of a quantized linear layer, in onnxruntime's order of operations
/// (Cast, Mul by the product of the scales, Add the bias, then the activation):
/// out[i, j] = act(Float(c[i, j]) · (rowScales[i] · columnScales[j]) + bias[j]).
///
/// - Parameters:
///   - columnScales: n scales, or 1 for all columns (`columnScaleCount`).
///   - bias: n floats, or nil.
public func dequantizeRows(_ c: UnsafePointer<Int32>, rows: Int, cols: Int, ldc: Int,
                           rowScales: UnsafePointer<Float>, columnScales: UnsafePointer<Float>, columnScaleCount: Int,
                           bias: UnsafePointer<Float>?, activation: Activation,
                           _ out: UnsafeMutablePointer<Float>, ldo: Int) {
    precondition(columnScaleCount == cols || columnScaleCount == 1, "dequantizeRows: \(columnScaleCount) scales for \(cols) columns")
    precondition(rows >= 0 && cols >= 0, "dequantizeRows: negative shape \(rows)×\(cols)")
    let perColumn = columnScaleCount != 1
    let relu = activation == .relu
    for i in 0..<rows {
        let rowScale = Vector(repeating: rowScales[i])
        let sums = c + i * ldc
        let row = out + i * ldo
        var j = 0
        while j < cols {
            let count = min(lanes, cols - j)
            let full = count == lanes
            let columnScale = perColumn ? (full ? loadVector(columnScales + j) : loadPartialVector(columnScales + j, count: count, padding: 0))
                                        : Vector(repeating: columnScales[0])
            let sum = full ? UnsafeRawPointer(sums + j).loadUnaligned(as: SIMD16<Int32>.self) : loadPartialInt32(sums + j, count: count)
            var v = exactFloat(sum) * (rowScale * columnScale)
            if let bias { v = v + (full ? loadVector(bias + j) : loadPartialVector(bias + j, count: count, padding: 0)) }
            if relu { v = Relu.callAsFunction(v) }
            if full { storeVector(v, row + j) } else { storePartialVector(v, row + j, count: count) }
            j += lanes
        }
        if !relu { applyActivation(activation, row, count: cols) }
    }
}

/// The first `count` (< 16) Int32 at `p`, the other lanes 0; touches nothing past `p + count`.
@inline(__always)
private func loadPartialInt32(_ p: UnsafePointer<Int32>, count: Int) -> SIMD16<Int32> {
    var v = SIMD16<Int32>()
    withUnsafeMutableBytes(of: &v) { $0.baseAddress!.copyMemory(from: p, byteCount: count * 4) }
    return v
}

/// Float(v) lane by lane, rounded to nearest even like the scalar conversion, in plain arithmetic:
/// the stdlib's `SIMD16<Float>(_:)` from Int32 is an out-of-line generic here (a call per vector,
/// operands in 128-bit pieces). v = hi·2¹⁶ + lo with both halves converted exactly through the
/// 2²³ mantissa trick; hi·2¹⁶ is exact, so the one rounding is that of the final add.
@inline(__always)
func exactFloat(_ v: SIMD16<Int32>) -> Vector {
    let exponent = SIMD16<Int32>(repeating: 0x4B00_0000)  // the bits of 2²³
    let low = unsafeBitCast((v & 0xFFFF) | exponent, to: Vector.self) - 8_388_608
    let high = unsafeBitCast(((v &>> 16) &+ 32_768) | exponent, to: Vector.self) - (8_388_608 + 32_768)
    return high * 65_536 + low
}
