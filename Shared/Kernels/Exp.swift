/// Computes e^x in place for `count` contiguous floats.
///
/// Overflow gives +inf, underflow gives (correctly rounded) subnormals and then 0, NaN stays NaN.
///
/// - Parameters:
///   - x: the first of `count` floats, overwritten with e^x.
///   - count: the number of floats, >= 0.
public func expInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
    precondition(count >= 0, "expInPlace: negative count \(count)")
    expInPlaceReference(x, count: count)
}

/// Scalar reference twin of `expInPlace` (libm `expf`).
public func expInPlaceReference(_ x: UnsafeMutablePointer<Float>, count: Int) {
    precondition(count >= 0, "expInPlaceReference: negative count \(count)")
    for i in 0..<count {
        x[i] = expReference(x[i])
    }
}
