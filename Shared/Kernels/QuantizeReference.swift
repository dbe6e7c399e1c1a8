// Scalar twins of Quantize.swift's kernels: the definitions (onnxruntime's order of operations)
// that the SIMD versions must match bit for bit.

/// Scalar twin of `quantizeRowsDynamic`.
public func quantizeRowsDynamicReference(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ldx: Int,
                                         _ q: UnsafeMutablePointer<UInt8>, ldq: Int,
                                         scales: UnsafeMutablePointer<Float>, zeroPoints: UnsafeMutablePointer<Int32>) {
    for i in 0..<rows {
        let row = x + i * ldx
        var low: Float = 0
        var high: Float = 0
        var finite = true
        for j in 0..<cols {
            low = Swift.min(low, row[j])
            high = Swift.max(high, row[j])
            finite = finite && row[j].isFinite
        }
        let (scale, zero) = finite ? dynamicScaleAndZeroPoint(low: low, high: high) : (.nan, 0)
        scales[i] = scale
        zeroPoints[i] = zero
        quantizeLinearReference(row, count: cols, scale: scale, zeroPoint: zero, q + i * ldq)
    }
}

/// Scalar twin of `quantizeLinear`.
public func quantizeLinearReference(_ x: UnsafePointer<Float>, count: Int, scale: Float, zeroPoint: Int32,
                                    _ q: UnsafeMutablePointer<UInt8>) {
    let zero = Float(zeroPoint)
    for j in 0..<count {
        let v = ((x[j] / scale).rounded(.toNearestOrEven) + zero).clamped(0, 255)
        q[j] = v.isNaN ? 0 : UInt8(v)
    }
}

/// Scalar twin of `dequantizeRows`.
public func dequantizeRowsReference(_ c: UnsafePointer<Int32>, rows: Int, cols: Int, ldc: Int,
                                    rowScales: UnsafePointer<Float>, columnScales: UnsafePointer<Float>,
                                    columnScaleCount: Int, bias: UnsafePointer<Float>?, activation: Activation,
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

/// DynamicQuantizeLinear's scale and zero point for the range [low, high] (low <= 0 <= high).
///
/// (Rows with a NaN or an infinity do not come here: see `quantizeRowsDynamic`. Should an infinite
/// range come anyway, its zero point -(-inf / inf) is NaN, taken as 0 rather than trapping.)
func dynamicScaleAndZeroPoint(low: Float, high: Float) -> (scale: Float, zeroPoint: Int32) {
    let scale: Float = high == low ? 1 : (high - low) / 255
    let zero = 0 - low / scale
    guard !zero.isNaN else { return (scale, 0) }
    return (scale, Int32(zero.clamped(0, 255).rounded(.toNearestOrAwayFromZero)))
}

extension Float {
    fileprivate func clamped(_ low: Float, _ high: Float) -> Float {
        Swift.min(Swift.max(self, low), high)
    }
}
