import Glibc

/// Element-wise Erf and Gelu (PyTorch exports): libm `erff` / `tanhf`, within a few ulp of
/// onnxruntime's MLAS approximations, far inside the 1e-5 the engine promises.
enum UnaryKernels {
    static func apply(_ kind: UnaryKind, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        switch kind {
        case .erf:
            for i in 0..<count { out[i] = erff(x[i]) }
        case .gelu:
            for i in 0..<count {
                let v = x[i]
                out[i] = 0.5 * v * (1 + erff(v * Float(0.5).squareRoot()))
            }
        case .geluTanh:
            let c = Float(2 / Double.pi).squareRoot()
            for i in 0..<count {
                let v = x[i]
                out[i] = 0.5 * v * (1 + tanhf(c * (v + 0.044715 * v * v * v)))
            }
        }
    }

    /// The same functions on one value, for folding constants.
    static func scalar(_ kind: UnaryKind, _ v: Float) -> Float {
        var input = v
        var result: Float = 0
        apply(kind, &input, &result, count: 1)
        return result
    }
}
