#if canImport(Glibc)
import Glibc
#endif
import Kernels

/// How one number becomes one model-input value: scikit-learn's float64 operations, then one
/// rounding to Float32.
enum NumericTransform: Sendable, Equatable {
    /// `Float(x)`.
    case identity
    /// `Float((x - mean) / scale)`: StandardScaler's `X -= mean_; X /= scale_`.
    case standardize(mean: Double, scale: Double)
    /// `Float(x * scale + offset)`: MinMaxScaler's `X *= scale_; X += min_`, then, when `clip` is
    /// given, `np.clip` to it.
    case minmax(scale: Double, offset: Double, clip: ClosedRange<Double>?)
    /// `Float(log1p(x))`: `FunctionTransformer(np.log1p)` (NumPy calls the C library's log1p).
    case log1p
    /// The bin of `x`: `np.searchsorted(inner, x, side="right")`, the number of inner edges
    /// `<= x` (KBinsDiscretizer's transform). NaN stays NaN (scikit-learn refuses NaN).
    case bin(inner: [Double])

    /// StandardScaler with a given mean and std: a zero std divides by 1
    /// (`_handle_zeros_in_scale`), so a constant feature becomes `x - mean`.
    static func standardize(mean: Double, std: Double) -> NumericTransform {
        .standardize(mean: mean, scale: std == 0 ? 1 : std)
    }

    /// MinMaxScaler(feature_range=(low, high)) fitted on data whose minimum is `min` and maximum
    /// `max`: `scale_ = (high - low) / range` and `min_ = low - min * scale_`, where a range
    /// below 10 × float64 epsilon counts as 1 (`_handle_zeros_in_scale`).
    static func minmax(min: Double, max: Double, range: ClosedRange<Double>, clip: Bool) -> NumericTransform {
        let dataRange = max - min
        let scale = (range.upperBound - range.lowerBound) / (dataRange < 10 * Double.ulpOfOne ? 1 : dataRange)
        return .minmax(scale: scale, offset: range.lowerBound - min * scale, clip: clip ? range : nil)
    }

    /// KBinsDiscretizer with `bin_edges_[j] = edges`: only the inner edges decide.
    static func bin(edges: [Double]) -> NumericTransform {
        .bin(inner: edges.count > 2 ? Array(edges[1..<(edges.count - 1)]) : [])
    }

    /// Applies the transform to `count` doubles, writing `out[i * stride]`.
    func apply(_ x: UnsafePointer<Double>, count: Int, into out: UnsafeMutablePointer<Float>, stride: Int) {
        switch self {
        case .identity:
            // (x - 0) / 1 is x exactly, -0 included: one kernel for both.
            scaleShift(x, count: count, shift: 0, divide: 1, into: out, stride: stride)
        case .standardize(let mean, let scale):
            scaleShift(x, count: count, shift: mean, divide: scale, into: out, stride: stride)
        case .minmax(let scale, let offset, let clip):
            scaleAdd(x, count: count, scale: scale, offset: offset, into: out, stride: stride)
            if let clip {
                // Rounding to Float is monotonic, so clipping the rounded value to the rounded
                // bounds equals rounding the clipped value. NaN stays NaN, as with np.clip.
                let low = Float(clip.lowerBound), high = Float(clip.upperBound)
                for i in 0..<count {
                    let v = out[i * stride]
                    if v < low { out[i * stride] = low } else if v > high { out[i * stride] = high }
                }
            }
        case .log1p:
            for i in 0..<count { out[i * stride] = Float(Glibc.log1p(x[i])) }
        case .bin(let inner):
            inner.withUnsafeBufferPointer { edges in
                for i in 0..<count { out[i * stride] = Self.bin(x[i], edges) }
            }
        }
    }

    /// The number of `edges` (ascending) that are `<= x`, as a Float; NaN for NaN.
    @inline(__always)
    private static func bin(_ x: Double, _ edges: UnsafeBufferPointer<Double>) -> Float {
        if x.isNaN { return .nan }
        var low = 0, high = edges.count
        while low < high {
            let mid = (low + high) / 2
            if edges[mid] <= x { low = mid + 1 } else { high = mid }
        }
        return Float(low)
    }
}

/// Replaces every NaN of `x[0..<count]` by `fill` (SimpleImputer with `missing_values=np.nan`).
func imputeNaN(_ x: UnsafeMutablePointer<Double>, count: Int, fill: Double) {
    for i in 0..<count where x[i].isNaN { x[i] = fill }
}
