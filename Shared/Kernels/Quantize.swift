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
/// NaNs are ignored by the range and quantize to 0; ±inf give a NaN scale (as in onnxruntime).
///
/// - Parameters:
///   - x: `rows` rows of `cols` floats, `ldx` apart.
///   - q: `rows` rows of `cols` bytes, `ldq` apart.
///   - scales, zeroPoints: one per row.
public func quantizeRowsDynamic(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ldx: Int,
                                _ q: UnsafeMutablePointer<UInt8>, ldq: Int,
                                scales: UnsafeMutablePointer<Float>, zeroPoints: UnsafeMutablePointer<Int32>) {
    precondition(rows >= 0 && cols >= 0, "quantizeRowsDynamic: negative shape \(rows)×\(cols)")
    for i in 0..<rows {
        let row = x + i * ldx
        // Lane-wise running min and max with the scalar twin's comparisons (`x < low`,
        // `x >= high`), so NaNs never enter. min and max of a set are independent of the order.
        var low = Vector()
        var high = Vector()
        var j = 0
        while j + lanes <= cols {
            let v = loadVector(row + j)
            low = low.replacing(with: v, where: v .< low)
            high = high.replacing(with: v, where: v .>= high)
            j += lanes
        }
        if j < cols {
            let v = loadPartialVector(row + j, count: cols - j, padding: 0)
            low = low.replacing(with: v, where: v .< low)
            high = high.replacing(with: v, where: v .>= high)
        }
        var l: Float = 0
        var h: Float = 0
        for lane in 0..<lanes {
            l = Swift.min(l, low[lane])
            h = Swift.max(h, high[lane])
        }
        let (scale, zero) = dynamicScaleAndZeroPoint(low: l, high: h)
        scales[i] = scale
        zeroPoints[i] = zero
        quantizeLinear(row, count: cols, scale: scale, zeroPoint: zero, q + i * ldq)
    }
}

/// ONNX QuantizeLinear to uint8: q = clamp(round(x / scale) + zeroPoint, 0, 255), halves to even;
/// NaN gives 0.
public func quantizeLinear(_ x: UnsafePointer<Float>, count: Int, scale: Float, zeroPoint: Int32,
                           _ q: UnsafeMutablePointer<UInt8>) {
    precondition(count >= 0, "quantizeLinear: negative count \(count)")
    let divisor = Vector(repeating: scale)
    let zero = Vector(repeating: Float(zeroPoint))
    var j = 0
    while j + lanes <= count {
        let bytes = quantize(loadVector(x + j), divisor, zero)
        UnsafeMutableRawPointer(q + j).storeBytes(of: bytes, as: SIMD16<UInt8>.self)
        j += lanes
    }
    if j < count {
        let bytes = quantize(loadPartialVector(x + j, count: count - j, padding: 0), divisor, zero)
        withUnsafeBytes(of: bytes) { UnsafeMutableRawPointer(q + j).copyMemory(from: $0.baseAddress!, byteCount: count - j) }
    }
}

/// 16 lanes of `quantizeLinearReference`'s formula. `@inline(__always)`: a call would pass the
/// vectors through memory in 128-bit pieces (see VectorFunctions.swift).
@inline(__always)
private func quantize(_ x: Vector, _ scale: Vector, _ zero: Vector) -> SIMD16<UInt8> {
    var v = (x / scale).rounded(.toNearestOrEven) + zero
    // clamped(0, 255) as the twin's max-then-min: comparisons with NaN are false, NaN passes.
    v = v.replacing(with: 0, where: v .< 0)
    v = v.replacing(with: 255, where: v .> 255)
    v = v.replacing(with: 0, where: v .!= v)
    return SIMD16<UInt8>(truncatingIfNeeded: SIMD16<Int32>(v, rounding: .towardZero))
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
            var v = Vector(sum) * (rowScale * columnScale)
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
