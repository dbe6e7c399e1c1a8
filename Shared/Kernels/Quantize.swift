import Glibc

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
/// - Parameters:
///   - x: `rows` rows of `cols` floats, `ldx` apart.
///   - q: `rows` rows of `cols` bytes, `ldq` apart.
///   - scales, zeroPoints: one per row.
public func quantizeRowsDynamic(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ldx: Int,
                                _ q: UnsafeMutablePointer<UInt8>, ldq: Int,
                                scales: UnsafeMutablePointer<Float>, zeroPoints: UnsafeMutablePointer<Int32>) {
    for i in 0..<rows {
        let row = x + i * ldx
        var low: Float = 0
        var high: Float = 0
        for j in 0..<cols {
            low = Swift.min(low, row[j])
            high = Swift.max(high, row[j])
        }
        let scale: Float = high == low ? 1 : (high - low) / 255
        let zero = Int32((0 - low / scale).clamped(0, 255).rounded(.toNearestOrAwayFromZero))
        scales[i] = scale
        zeroPoints[i] = zero
        quantizeLinear(row, count: cols, scale: scale, zeroPoint: zero, q + i * ldq)
    }
}

/// ONNX QuantizeLinear to uint8: q = clamp(round(x / scale) + zeroPoint, 0, 255), halves to even.
public func quantizeLinear(_ x: UnsafePointer<Float>, count: Int, scale: Float, zeroPoint: Int32,
                           _ q: UnsafeMutablePointer<UInt8>) {
    let zero = Float(zeroPoint)
    for j in 0..<count {
        let v = ((x[j] / scale).rounded(.toNearestOrEven) + zero).clamped(0, 255)
        q[j] = v.isNaN ? 0 : UInt8(v)
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
    for i in 0..<rows {
        for j in 0..<cols {
            let scale = rowScales[i] * columnScales[columnScaleCount == 1 ? 0 : j]
            var v = Float(c[i * ldc + j]) * scale
            if let bias { v = v + bias[j] }
            out[i * ldo + j] = v
        }
        applyActivation(activation, out + i * ldo, count: cols)
    }
}

extension Float {
    fileprivate func clamped(_ low: Float, _ high: Float) -> Float {
        Swift.min(Swift.max(self, low), high)
    }
}
