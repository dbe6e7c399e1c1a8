/// Integer weights B (k×n) with a zero point per output column, packed once at model load for
/// `int8Gemm`: what onnxruntime's `quantize_dynamic` and QDQ models store (int8 or uint8), and
/// what `[model] precision = "int8"` makes from float weights.
///
/// Every stored value b and its column's zero point z satisfy -255 <= b - z <= 255, so the
/// products with uint8 activations and their sums over k < 65 793 are exact in Int32.
///
/// Immutable once built: share one value between threads freely.
public struct QuantizedWeights: Sendable {
    /// The number of rows of B (the inner dimension of the product).
    public let k: Int
    /// The number of columns of B (the width of the output).
    public let n: Int
    /// B − z, row-major k×n, as 16-bit integers.
    // Placeholder layout of the API skeleton; the kernels own it and may change it.
    let centered: WeightArray<Int16>

    /// Packs B.
    ///
    /// - Parameters:
    ///   - b: `k * n` values of an int8 or uint8 tensor (each in -128...255): row-major k×n when
    ///     `transposed == false`, row-major n×k when `transposed == true`.
    ///   - zeroPoints: one zero point per column (n values) or one for all (1 value).
    public init(b: UnsafeBufferPointer<Int32>, k: Int, n: Int, zeroPoints: [Int32], transposed: Bool) {
        precondition(k >= 0 && n >= 0, "QuantizedWeights: negative shape k=\(k) n=\(n)")
        precondition(k < 65_793, "QuantizedWeights: k = \(k) could overflow the Int32 sums")
        precondition(b.count == k * n, "QuantizedWeights: expected k*n = \(k)*\(n) values, got \(b.count)")
        precondition(zeroPoints.count == n || zeroPoints.count == 1,
                     "QuantizedWeights: \(zeroPoints.count) zero points for \(n) columns")
        self.k = k
        self.n = n
        centered = WeightArray(zeroedCount: k * n) { out in
            for row in 0..<k {
                for column in 0..<n {
                    let value = transposed ? b[column * k + row] : b[row * n + column]
                    let zero = zeroPoints.count == 1 ? zeroPoints[0] : zeroPoints[column]
                    let c = value - zero
                    precondition(c >= -255 && c <= 255, "QuantizedWeights: value \(value) minus zero point \(zero) out of range")
                    out[row * n + column] = Int16(c)
                }
            }
        }
    }

    /// Packs B from an array; see `init(b:k:n:zeroPoints:transposed:)`.
    public init(_ b: [Int32], k: Int, n: Int, zeroPoints: [Int32], transposed: Bool = false) {
        self = b.withUnsafeBufferPointer { QuantizedWeights(b: $0, k: k, n: n, zeroPoints: zeroPoints, transposed: transposed) }
    }

    /// Row-major k×n copy of B − z (tests, the reference path).
    public func centeredValues() -> [Int32] {
        centered.array.map { Int32($0) }
    }
}
