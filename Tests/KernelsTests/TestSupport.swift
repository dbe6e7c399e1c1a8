// Shared helpers for the kernel tests: a seeded PRNG, buffers and error bounds.

import Kernels
import TestSupport

extension SplitMix64 {
    /// `count` floats uniform in `range`.
    mutating func floats(_ count: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<count).map { _ in Float.random(in: range, using: &self) }
    }
}

/// The sizes the style guide calls awkward: around the SIMD widths and tile sizes.
let awkwardSizes = [0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 4099]

/// The size of one unit in the last place at `x`'s magnitude, never less than the smallest
/// subnormal (so a bound in ulps stays meaningful at 0).
func ulp(_ x: Float) -> Float {
    x.isFinite ? max(x.magnitude.ulp, Float.leastNonzeroMagnitude) : 0
}

/// How many ulps (of the reference) `value` is from `reference`; 0 when both are the same
/// infinity or both NaN, infinity when only one of them is NaN or infinite.
func ulpDistance(_ value: Float, _ reference: Float) -> Float {
    if value.isNaN || reference.isNaN {
        return value.isNaN && reference.isNaN ? 0 : .infinity
    }
    if value == reference { return 0 }
    if !value.isFinite || !reference.isFinite { return .infinity }
    return (value - reference).magnitude / ulp(reference)
}

/// The activation's Lipschitz constant: how much an input error can grow through it.
func lipschitz(_ activation: Activation) -> Float {
    switch activation {
    case .identity, .relu, .tanh: return 1
    case .sigmoid: return 0.25
    }
}

let allActivations: [Activation] = [.identity, .relu, .sigmoid, .tanh]

/// Error allowed to the fast sigmoid/tanh over the libm-based reference, in ulps of the result
/// (measured worst: 2).
let activationUlps: Float = 3

/// The bound for one output of a dot product of length `k` followed by `activation`:
/// a sum of k + 1 terms in Float (any order, with or without FMA) is within
/// (k + 1) * u * Σ|terms| of the exact value (u = 2^-24); the Double reference is within u of it.
/// `ulpOfOne` is 2u, so this bound has a factor 2 to spare. The activation adds its own error.
func dotProductTolerance(k: Int, absSum: Double, activation: Activation, reference: Float) -> Float {
    let sumError = Float(k + 2) * Float.ulpOfOne * Float(absSum)
    return lipschitz(activation) * sumError + activationUlps * ulp(reference)
}
