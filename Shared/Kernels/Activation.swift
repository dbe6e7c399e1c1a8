/// The element-wise function applied after a linear layer (fused into `gemm`, or in place).
public enum Activation: Sendable, Equatable {
    /// f(x) = x.
    case identity
    /// f(x) = max(x, 0); NaN and -0.0 pass through unchanged.
    case relu
    /// f(x) = 1 / (1 + e^-x), evaluated in a form that stays accurate for large |x|.
    case sigmoid
    /// f(x) = tanh(x).
    case tanh
}

/// Applies `activation` in place to `count` contiguous floats.
///
/// - Parameters:
///   - activation: the function to apply.
///   - x: the first of `count` floats, overwritten with the results.
///   - count: the number of floats; must be >= 0.
public func applyActivation(_ activation: Activation, _ x: UnsafeMutablePointer<Float>, count: Int) {
    precondition(count >= 0, "applyActivation: negative count \(count)")
    switch activation {
    case .identity: return
    case .relu: mapInPlace(x, count: count, relu)
    case .sigmoid: mapInPlace(x, count: count, sigmoid)
    case .tanh: mapInPlace(x, count: count, tanh)
    }
}

/// Replaces each float with `f` of it, 16 at a time; the tail goes through one partial vector.
private func mapInPlace(_ x: UnsafeMutablePointer<Float>, count: Int, _ f: (Vector) -> Vector) {
    var i = 0
    while i + lanes <= count {
        storeVector(f(loadVector(x + i)), x + i)
        i += lanes
    }
    if i < count {
        storePartialVector(f(loadPartialVector(x + i, count: count - i, padding: 0)), x + i, count: count - i)
    }
}

/// `activation` on 16 lanes (the epilogue of a GEMM tile).
func activate(_ v: Vector, _ activation: Activation) -> Vector {
    switch activation {
    case .identity: return v
    case .relu: return relu(v)
    case .sigmoid: return sigmoid(v)
    case .tanh: return tanh(v)
    }
}

/// max(v, 0) lane-wise, keeping NaN and -0.0 (a comparison with NaN is false).
func relu(_ v: Vector) -> Vector {
    v.replacing(with: 0, where: v .< 0)
}

/// 1 / (1 + e^-v) as (v >= 0 ? 1 : e) / (1 + e) with e = e^-|v|: e never overflows, and for
/// v < 0 tiny results keep their precision. One exp and one division: within 3 ulp of the libm
/// reference (measured worst: see ActivationTests).
func sigmoid(_ v: Vector) -> Vector {
    let e = exp(-magnitude(v))
    let numerator = e.replacing(with: 1, where: v .>= 0)
    return numerator / (1 + e)
}

/// tanh on 16 lanes, with the sign of v applied last.
///
/// |v| < 0.625: |v| + |v|³·q(v²), q a degree-4 polynomial fitted (minimax on the relative error,
/// numpy) to 0.07 u. Elsewhere (1 - e) / (1 + e) with e = e^-2|v| <= 0.29, where the cancellation
/// in 1 - e can at most double exp's error. Within 3 ulp of libm `tanhf` (see ActivationTests).
func tanh(_ v: Vector) -> Vector {
    let a = magnitude(v)
    let e = exp(-2 * a)
    let large = (1 - e) / (1 + e)
    let z = a * a
    var q = Vector(repeating: -0.005_704_994_313_418_865)
    q = Vector(repeating: 0.020_639_095_455_408_096).addingProduct(q, z)
    q = Vector(repeating: -0.053_739_719_092_845_92).addingProduct(q, z)
    q = Vector(repeating: 0.133_314_415_812_492_37).addingProduct(q, z)
    q = Vector(repeating: -0.333_332_806_825_637_8).addingProduct(q, z)
    let small = a.addingProduct(a * z, q)
    let result = large.replacing(with: small, where: a .< 0.625)
    return copySign(result, v)
}

/// |v| lane-wise, by clearing the sign bit.
func magnitude(_ v: Vector) -> Vector {
    unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & 0x7fff_ffff, to: Vector.self)
}

/// `magnitude` (>= 0) with the sign bit of `sign`.
func copySign(_ magnitude: Vector, _ sign: Vector) -> Vector {
    let signBits = unsafeBitCast(sign, to: SIMD16<UInt32>.self) & 0x8000_0000
    return unsafeBitCast(unsafeBitCast(magnitude, to: SIMD16<UInt32>.self) | signBits, to: Vector.self)
}

/// Scalar reference twin of `applyActivation`, using libm `expf`/`tanhf`.
///
/// - Parameters:
///   - activation: the function to apply.
///   - x: the first of `count` floats, overwritten with the results.
///   - count: the number of floats; must be >= 0.
public func applyActivationReference(_ activation: Activation, _ x: UnsafeMutablePointer<Float>,
                                     count: Int) {
    precondition(count >= 0, "applyActivationReference: negative count \(count)")
    for i in 0..<count {
        x[i] = activationReference(activation, x[i])
    }
}

/// The scalar definition every vector version is tested against.
func activationReference(_ activation: Activation, _ v: Float) -> Float {
    switch activation {
    case .identity:
        return v
    case .relu:
        return v < 0 ? 0 : v
    case .sigmoid:
        return sigmoidReference(v)
    case .tanh:
        return tanhReference(v)
    }
}
