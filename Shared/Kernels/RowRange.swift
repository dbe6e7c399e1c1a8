// The range [min(0, min x), max(0, max x)] of a row, as DynamicQuantizeLinear takes it.

/// min(0, min x) and max(0, max x) over `count` floats with NaNs ignored, as the scalar twin's
/// `Swift.min`/`Swift.max` fold (`quantizeRowsDynamicReference`) computes them; and whether every
/// value is finite (a running sum of x · 0, which only a NaN or an infinity makes NaN).
///
/// Lane by lane, `v < low ? v : low` and `v > high ? v : high`: `vminps` and `vmaxps`, which
/// keep the accumulator when v is NaN. (Combining two vectors first, to halve the dependency
/// chain, would lose v0 where v1 is NaN: `vminps` returns its second operand then.) Where the
/// twin keeps a high of -0 this may keep +0, which changes neither the scale nor the zero point.
/// min and max of a set do not depend on the order, so the lanes are folded in any order.
///
/// `@inline(always)`: measured; as a call, and with `Vector.min()`/`max()` (which store the vector
/// once per lane and test each lane for NaN), the range took about as long as the quantization.
@inline(always)
func rowRange(_ row: UnsafePointer<Float>, count: Int) -> (low: Float, high: Float, finite: Bool) {
    var low = Vector(), high = Vector(), probe = Vector()
    var j = 0
    while j &+ lanes <= count {
        let v = loadVector(row + j)
        low = lesser(v, low)
        high = greater(v, high)
        probe += v * 0
        j &+= lanes
    }
    if j < count {
        let v = loadPartialVector(row + j, count: count &- j, padding: 0)
        low = lesser(v, low)
        high = greater(v, high)
        probe += v * 0
    }
    return (minimumLane(low), maximumLane(high), probe.sum() == 0)
}

// a < b ? a : b and a > b ? a : b, lane by lane. On SIMD16 only: written generically over SIMD,
// the comparisons became lane loops through the stack.
@inline(always) private func lesser(_ a: Vector, _ b: Vector) -> Vector { b.replacing(with: a, where: a .< b) }
@inline(always) private func greater(_ a: Vector, _ b: Vector) -> Vector { b.replacing(with: a, where: a .> b) }

// The smallest and largest lane of a vector without NaNs, as a tree of scalar comparisons that
// LLVM turns into a few 128-bit vminps/vmaxps. (Vector folds through `lowHalf`/`highHalf` were
// split into per-lane blends instead.)
@inline(always)
private func minimumLane(_ v: Vector) -> Float {
    func m(_ a: Float, _ b: Float) -> Float { a < b ? a : b }
    return m(m(m(m(v[0], v[8]), m(v[4], v[12])), m(m(v[2], v[10]), m(v[6], v[14]))),
             m(m(m(v[1], v[9]), m(v[5], v[13])), m(m(v[3], v[11]), m(v[7], v[15]))))
}

@inline(always)
private func maximumLane(_ v: Vector) -> Float {
    func m(_ a: Float, _ b: Float) -> Float { a > b ? a : b }
    return m(m(m(m(v[0], v[8]), m(v[4], v[12])), m(m(v[2], v[10]), m(v[6], v[14]))),
             m(m(m(v[1], v[9]), m(v[5], v[13])), m(m(v[3], v[11]), m(v[7], v[15]))))
}
