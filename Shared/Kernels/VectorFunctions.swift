// Element-wise vector functions (16 lanes) and the one loop that maps them over memory.

/// A function of 16 lanes, as a type so that `mapInPlace` is specialized per function.
///
/// Every `callAsFunction` below, `exp`, `sigmoid`, `tanh`, `magnitude` and `copySign` are
/// `@inline(__always)`: Swift's inliner leaves SIMD-heavy bodies out of line, and a call passes
/// the 16 lanes in four 128-bit registers, so the body then runs 4 lanes wide. Measured (Benchmarks/kernels, AVX2
/// host), ns per element: exp 1.10 → 0.5, sigmoid 1.5 → 0.75, tanh 2.8 → 0.92.
protocol VectorFunction {
    static func callAsFunction(_ v: Vector) -> Vector
}

/// Replaces each of `count` floats with `F(x)`, 16 at a time; the tail goes through one partial
/// vector padded with zeros (whose results are dropped).
func mapInPlace<F: VectorFunction>(_: F.Type, _ x: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + lanes <= count {
        storeVector(F.callAsFunction(loadVector(x + i)), x + i)
        i += lanes
    }
    if i < count {
        let v = F.callAsFunction(loadPartialVector(x + i, count: count - i, padding: 0))
        storePartialVector(v, x + i, count: count - i)
    }
}

enum Relu: VectorFunction {
    /// max(v, 0) lane-wise, keeping NaN and -0.0 (a comparison with NaN is false).
    @inline(__always)
    static func callAsFunction(_ v: Vector) -> Vector {
        v.replacing(with: 0, where: v .< 0)
    }
}

enum Sigmoid: VectorFunction {
    @inline(__always)
    static func callAsFunction(_ v: Vector) -> Vector { sigmoid(v) }
}

enum Tanh: VectorFunction {
    @inline(__always)
    static func callAsFunction(_ v: Vector) -> Vector { tanh(v) }
}

enum Exp: VectorFunction {
    @inline(__always)
    static func callAsFunction(_ v: Vector) -> Vector { exp(v) }
}

/// 1 / (1 + e^-v) as (v >= 0 ? 1 : e) / (1 + e) with e = e^-|v|: e never overflows, and for
/// v < 0 tiny results keep their precision. One exp and one division: at most 2 ulp from the libm
/// reference on the ActivationTests sweep (tests allow 3).
@inline(__always)
func sigmoid(_ v: Vector) -> Vector {
    let e = exp(-magnitude(v))
    let numerator = e.replacing(with: 1, where: v .>= 0)
    return numerator / (1 + e)
}

/// tanh on 16 lanes, with the sign of v applied last.
///
/// |v| < 0.625: |v| + |v|³·q(v²), q a degree-4 polynomial fitted (minimax on the relative error,
/// numpy) to 0.07 u. Elsewhere (1 - e) / (1 + e) with e = e^-2|v| <= 0.29, where the cancellation
/// in 1 - e can at most double exp's error. At most 2 ulp from libm `tanhf` on the
/// ActivationTests sweep (tests allow 3).
@inline(__always)
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
@inline(__always)
func magnitude(_ v: Vector) -> Vector {
    unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & 0x7fff_ffff, to: Vector.self)
}

/// `magnitude` (>= 0) with the sign bit of `sign`.
@inline(__always)
func copySign(_ magnitude: Vector, _ sign: Vector) -> Vector {
    let signBits = unsafeBitCast(sign, to: SIMD16<UInt32>.self) & 0x8000_0000
    return unsafeBitCast(unsafeBitCast(magnitude, to: SIMD16<UInt32>.self) | signBits, to: Vector.self)
}
