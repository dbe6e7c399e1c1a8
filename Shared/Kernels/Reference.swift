import Glibc

// Scalar libm-based definitions used by the reference twins. Kept in one file so the fast
// kernels visibly depend on no libm function but `logf` (once per softmax row).

/// e^x via libm.
func expReference(_ x: Float) -> Float {
    expf(x)
}

/// 1 / (1 + e^-x), written so that neither branch overflows: for x < 0 it is e^x / (1 + e^x),
/// which keeps tiny results (down to subnormals) instead of flushing them to 0.
func sigmoidReference(_ x: Float) -> Float {
    if x >= 0 {
        return 1 / (1 + expf(-x))
    }
    let e = expf(x)
    return e / (1 + e)
}

/// tanh via libm.
func tanhReference(_ x: Float) -> Float {
    tanhf(x)
}

/// Natural logarithm via libm.
func logReference(_ x: Float) -> Float {
    logf(x)
}
