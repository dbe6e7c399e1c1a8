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
    applyActivationReference(activation, x, count: count)
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
