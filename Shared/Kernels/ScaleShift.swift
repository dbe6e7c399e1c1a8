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
    precondition(count >= 0 && stride >= 1, "scaleShift: count \(count) < 0 or stride \(stride) < 1")
    var i = 0
    while i + 8 <= count {
        // The same two IEEE operations per lane as the scalar twin, so the same bits.
        let v = (UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Double>.self) - shift) / divide
        storeFloats(SIMD8<Float>(v), out + i * stride, stride: stride)
        i += 8
    }
    while i < count {
        out[i * stride] = Float((x[i] - shift) / divide)
        i += 1
    }
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
    precondition(count >= 0 && stride >= 1, "scaleAdd: count \(count) < 0 or stride \(stride) < 1")
    var i = 0
    while i + 8 <= count {
        // Multiply, round, add, round: Swift does not contract `a * b + c` into an FMA.
        let scaled = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Double>.self) * scale
        storeFloats(SIMD8<Float>(scaled + offset), out + i * stride, stride: stride)
        i += 8
    }
    while i < count {
        let scaled = x[i] * scale
        out[i * stride] = Float(scaled + offset)
        i += 1
    }
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

/// Stores 8 floats `stride` floats apart (contiguously in one store when `stride == 1`).
private func storeFloats(_ v: SIMD8<Float>, _ out: UnsafeMutablePointer<Float>, stride: Int) {
    if stride == 1 {
        UnsafeMutableRawPointer(out).storeBytes(of: v, as: SIMD8<Float>.self)
    } else {
        for l in 0..<8 {
            out[l * stride] = v[l]
        }
    }
}
