/// The static (QDQ) side of quantized inference: QuantizeLinear, DequantizeLinear and their
/// pair with per-element parameters, and the requantization of a quantized GEMM's Int32 sums,
/// each in onnxruntime's order of float operations.
///
/// Quantized values are carried in Float buffers (the engine's only buffer type): a uint8 or
/// int8 value is an exact whole-number Float.

/// ONNX QuantizeLinear, the quantized values as whole-number Floats:
/// q[i] = clamp(round(x[i] / scale[i % width]) + zeroPoint[i % width], low, high), halves to even.
/// NaN becomes `low` (onnxruntime's MLAS clamps before converting: MAXPS yields the bound).
///
/// - Parameters:
///   - x, out: `rows * width` floats (may be the same memory).
///   - scales, zeroPoints: `width` values, the parameters of each position of a row.
///   - low, high: the range of the quantized type (0...255 for uint8, -128...127 for int8).
public func quantizeLinearValues(_ x: UnsafePointer<Float>, rows: Int, width: Int,
                                 scales: UnsafePointer<Float>, zeroPoints: UnsafePointer<Float>,
                                 low: Float, high: Float, _ out: UnsafeMutablePointer<Float>) {
    precondition(rows >= 0 && width >= 0 && low <= high, "quantizeLinearValues: rows \(rows) width \(width) range \(low)...\(high)")
    for i in 0..<rows {
        let base = i * width
        for j in 0..<width {
            out[base + j] = quantizeOne(x[base + j], scales[j], zeroPoints[j], low, high)
        }
    }
}

/// ONNX DequantizeLinear of whole-number Floats: out[i] = (q[i] − zeroPoint) · scale, the
/// difference taken exactly (as onnxruntime does in int32) before the one float multiply.
public func dequantizeLinearValues(_ q: UnsafePointer<Float>, rows: Int, width: Int,
                                   scales: UnsafePointer<Float>, zeroPoints: UnsafePointer<Float>,
                                   _ out: UnsafeMutablePointer<Float>) {
    precondition(rows >= 0 && width >= 0, "dequantizeLinearValues: rows \(rows) width \(width)")
    for i in 0..<rows {
        let base = i * width
        for j in 0..<width {
            out[base + j] = (q[base + j] - zeroPoints[j]) * scales[j]
        }
    }
}

/// QuantizeLinear followed by DequantizeLinear with the same parameters (a QDQ pair left on an
/// activation): the value rounded onto the quantization grid, in one pass.
public func fakeQuantizeValues(_ x: UnsafePointer<Float>, rows: Int, width: Int,
                               scales: UnsafePointer<Float>, zeroPoints: UnsafePointer<Float>,
                               low: Float, high: Float, _ out: UnsafeMutablePointer<Float>) {
    precondition(rows >= 0 && width >= 0 && low <= high, "fakeQuantizeValues: rows \(rows) width \(width) range \(low)...\(high)")
    for i in 0..<rows {
        let base = i * width
        for j in 0..<width {
            let q = quantizeOne(x[base + j], scales[j], zeroPoints[j], low, high)
            out[base + j] = (q - zeroPoints[j]) * scales[j]
        }
    }
}

/// How `requantizeRows` writes each requantized value q.
public enum RequantizedOutput: Sendable, Equatable {
    /// q itself, as a whole-number Float (QLinearMatMul's output).
    case values
    /// (q − zero point) · scale: the DequantizeLinear that follows (a fused QDQ layer).
    case dequantized(scale: Float)
}

/// onnxruntime's requantization of quantized GEMM sums (QGemm, QLinearMatMul):
/// q = clamp(round(Float(c + bias) · multiplier) + zeroPoint, low, high), halves to even, where the
/// caller computed multiplier = (a_scale · b_scale) / y_scale in float, as onnxruntime does.
///
/// - Parameters:
///   - c: `rows` rows of `cols` Int32 sums, `ldc` apart.
///   - bias: `cols` Int32 added to every row before scaling (QGemm's C), or nil.
///   - multipliers: `cols` values, or 1 for every column (`multiplierCount`).
///   - out: `rows` rows of `cols` floats, `ldo` apart.
public func requantizeRows(_ c: UnsafePointer<Int32>, rows: Int, cols: Int, ldc: Int, bias: UnsafePointer<Int32>?,
                           multipliers: UnsafePointer<Float>, multiplierCount: Int,
                           zeroPoint: Int32, low: Int32, high: Int32, output: RequantizedOutput,
                           _ out: UnsafeMutablePointer<Float>, ldo: Int) {
    precondition(multiplierCount == cols || multiplierCount == 1, "requantizeRows: \(multiplierCount) multipliers for \(cols) columns")
    precondition(low <= zeroPoint && zeroPoint <= high, "requantizeRows: zero point \(zeroPoint) outside \(low)...\(high)")
    let zero = Float(zeroPoint)
    for i in 0..<rows {
        for j in 0..<cols {
            var sum = c[i * ldc + j]
            if let bias { sum &+= bias[j] }
            let scaled = Float(sum) * multipliers[multiplierCount == 1 ? 0 : j]
            // Clamp first, to the range shifted by the zero point, then round: MLAS's order (the
            // bounds are whole numbers, so it equals rounding first).
            let clamped = Swift.min(Swift.max(scaled, Float(low) - zero), Float(high) - zero)
            let q = (clamped.isNaN ? Float(low) - zero : clamped.rounded(.toNearestOrEven)) + zero
            switch output {
            case .values: out[i * ldo + j] = q
            case .dequantized(let scale): out[i * ldo + j] = (q - zero) * scale
            }
        }
    }
}

/// Whole-number Floats in 0...255 (a uint8 tensor carried as floats) to bytes; values outside
/// are clamped, so a malformed input cannot trap.
public func floatsToBytes(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ldx: Int, offset: Float,
                          _ q: UnsafeMutablePointer<UInt8>, ldq: Int) {
    for i in 0..<rows {
        for j in 0..<cols {
            let v = Swift.min(Swift.max(x[i * ldx + j] + offset, 0), 255)
            q[i * ldq + j] = v.isNaN ? 0 : UInt8(v)
        }
    }
}

@inline(__always)
private func quantizeOne(_ x: Float, _ scale: Float, _ zero: Float, _ low: Float, _ high: Float) -> Float {
    let v = (x / scale).rounded(.toNearestOrEven) + zero
    return v.isNaN ? low : Swift.min(Swift.max(v, low), high)
}
