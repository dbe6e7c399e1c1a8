/// Standardizes like scikit-learn's `StandardScaler`: out[i * stride] = Float((x[i] - shift) / divide).
///
/// The subtraction and the division are done in Double, in that order, then rounded once to Float,
/// so the result equals scikit-learn's float64 arithmetic cast to float32 bit for bit.
///
/// - Parameters:
///   - x: `count` doubles.
///   - count: >= 0.
///   - shift: subtracted first (the mean).
///   - divide: divides second (the scale).
///   - out: written at `out[i * stride]`.
///   - stride: >= 1.
public func scaleShift(_ x: UnsafePointer<Double>, count: Int, shift: Double, divide: Double,
                       into out: UnsafeMutablePointer<Float>, stride: Int) {
    scaleShiftReference(x, count: count, shift: shift, divide: divide, into: out, stride: stride)
}

/// Scalar reference twin of `scaleShift`.
public func scaleShiftReference(_ x: UnsafePointer<Double>, count: Int, shift: Double, divide: Double,
                                into out: UnsafeMutablePointer<Float>, stride: Int) {
    precondition(count >= 0 && stride >= 1, "scaleShift: count \(count) < 0 or stride \(stride) < 1")
    for i in 0..<count {
        out[i * stride] = Float((x[i] - shift) / divide)
    }
}

/// Min-max scales like scikit-learn's `MinMaxScaler`: out[i * stride] = Float(x[i] * scale + offset).
///
/// scikit-learn computes `X *= scale_; X += min_` in float64, a rounded multiply then a rounded add
/// (no fused multiply-add), which is what this does, so results match it bit for bit. (The same
/// scaling written as `(x - dataMin) / range` can differ in the last bit.)
///
/// - Parameters:
///   - x: `count` doubles.
///   - count: >= 0.
///   - scale: scikit-learn's `scale_`.
///   - offset: scikit-learn's `min_`.
///   - out: written at `out[i * stride]`.
///   - stride: >= 1.
public func scaleAdd(_ x: UnsafePointer<Double>, count: Int, scale: Double, offset: Double,
                     into out: UnsafeMutablePointer<Float>, stride: Int) {
    scaleAddReference(x, count: count, scale: scale, offset: offset, into: out, stride: stride)
}

/// Scalar reference twin of `scaleAdd`.
public func scaleAddReference(_ x: UnsafePointer<Double>, count: Int, scale: Double, offset: Double,
                              into out: UnsafeMutablePointer<Float>, stride: Int) {
    precondition(count >= 0 && stride >= 1, "scaleAdd: count \(count) < 0 or stride \(stride) < 1")
    for i in 0..<count {
        let scaled = x[i] * scale
        out[i * stride] = Float(scaled + offset)
    }
}
