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

/// Applies `activation` in place to `count` contiguous floats, 16 lanes at a time.
///
/// Sigmoid and tanh use the vector `exp` and are within 2 ulp of their libm-based twins (measured
/// on a dense sweep including ±inf, NaN and saturation); relu keeps NaN and -0.0.
///
/// - Parameters:
///   - activation: the function to apply.
///   - x: the first of `count` floats, overwritten with the results.
///   - count: the number of floats; must be >= 0.
public func applyActivation(_ activation: Activation, _ x: UnsafeMutablePointer<Float>, count: Int) {
    precondition(count >= 0, "applyActivation: negative count \(count)")
    switch activation {
    case .identity: return
    case .relu: mapInPlace(Relu.self, x, count: count)
    case .sigmoid: mapInPlace(Sigmoid.self, x, count: count)
    case .tanh: mapInPlace(Tanh.self, x, count: count)
    }
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
