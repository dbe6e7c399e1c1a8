import Int8AVX2
import Int8VNNI

/// C[m×n] = (A − z_A) · (B − z_B), exactly, in Int32: A uint8 with one zero point per row, B
/// packed with one per column. The integer core of onnxruntime's MatMulInteger (applied to one
/// row at a time when each row was quantized on its own) and of a quantized linear layer.
///
/// Runs the path `b` is packed for (`b.kernel`): AVX-512 VNNI tiles of up to 8 rows × 32 columns,
/// AVX2 tiles of up to 6 × 16, or the scalar twin. Every path computes the same exact integers
/// (wrapping sums, exact within `QuantizedWeights`' bounds), so a row's result does not depend
/// on the path, the batch size or its position in the batch.
///
/// - Parameters:
///   - m: the number of rows of A and C, >= 0.
///   - a: m rows of `b.k` bytes, rows `lda` bytes apart.
///   - lda: the row stride of A in bytes (`>= b.k` when m > 1).
///   - rowZeroPoints: m zero points (0...255), one per row of A.
///   - b: the packed weights.
///   - c: m rows of `b.n` Int32, rows `ldc` values apart; must not overlap A. Values between rows
///     are not touched.
///   - ldc: the row stride of C (`>= b.n` when m > 1).
/// - Important: this CPU must support `b.kernel` (true for weights packed by the default
///   initializer on this machine).
public func int8Gemm(m: Int, a: UnsafePointer<UInt8>, lda: Int, rowZeroPoints: UnsafePointer<Int32>,
                     b: QuantizedWeights, c: UnsafeMutablePointer<Int32>, ldc: Int) {
    checkInt8Gemm(m: m, lda: lda, ldc: ldc, b: b)
    int8GemmKernel(m: m, a: a, lda: lda, rowZeroPoints: rowZeroPoints, b: b, c: UnsafeMutableRawPointer(c), ldc: ldc,
                   rowScales: nil, columnScales: nil, bias: nil, relu: false)
}

/// `int8Gemm` followed by `dequantizeRows`, with the dequantization done in registers: each
/// output is bit for bit what the two calls produce (the same Float operations in the same order,
/// no FMA), without writing C as Int32 and reading it back.
///
/// - Parameters:
///   - m, a, lda, rowZeroPoints, b: as `int8Gemm`.
///   - rowScales: m scales, one per row of A.
///   - columnScales: n scales, or 1 for all columns (`columnScaleCount`).
///   - bias: n floats, or nil.
///   - activation: applied after the bias (identity and relu in registers, sigmoid and tanh to
///     each row after its store, by `applyActivation` as `dequantizeRows` does).
///   - out: m rows of `b.n` floats, `ldo` apart; must not overlap A or the scales.
public func int8GemmDequantized(m: Int, a: UnsafePointer<UInt8>, lda: Int, rowZeroPoints: UnsafePointer<Int32>,
                                rowScales: UnsafePointer<Float>, b: QuantizedWeights,
                                columnScales: UnsafePointer<Float>, columnScaleCount: Int,
                                bias: UnsafePointer<Float>?, activation: Activation,
                                _ out: UnsafeMutablePointer<Float>, ldo: Int) {
    checkInt8Gemm(m: m, lda: lda, ldc: ldo, b: b)
    let n = b.n
    precondition(columnScaleCount == n || columnScaleCount == 1,
                 "int8GemmDequantized: \(columnScaleCount) scales for \(n) columns")
    if m == 0 || n == 0 { return }
    let fused = activation == .identity || activation == .relu
    let dequantize = { (scales: UnsafePointer<Float>) in
        int8GemmKernel(m: m, a: a, lda: lda, rowZeroPoints: rowZeroPoints, b: b, c: UnsafeMutableRawPointer(out),
                       ldc: ldo, rowScales: rowScales, columnScales: scales, bias: bias, relu: activation == .relu)
    }
    if columnScaleCount == n {
        dequantize(columnScales)
    } else {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { scales in
            scales.initialize(repeating: columnScales[0])
            dequantize(scales.baseAddress!)
        }
    }
    if !fused {
        for i in 0..<m { applyActivation(activation, out + i * ldo, count: n) }
    }
}

/// Scalar twin of `int8Gemm`: the same exact integer sums, one product at a time, from B − z as
/// `centeredValues()` gives it (whatever the layout).
public func int8GemmReference(m: Int, a: UnsafePointer<UInt8>, lda: Int, rowZeroPoints: UnsafePointer<Int32>,
                              b: QuantizedWeights, c: UnsafeMutablePointer<Int32>, ldc: Int) {
    checkInt8Gemm(m: m, lda: lda, ldc: ldc, b: b)
    let (k, n) = (b.k, b.n)
    let w = b.centeredValues()
    for i in 0..<m {
        let z = rowZeroPoints[i]
        for j in 0..<n {
            var sum: Int32 = 0
            for p in 0..<k {
                sum &+= (Int32(a[i * lda + p]) &- z) &* w[p * n + j]
            }
            c[i * ldc + j] = sum
        }
    }
}

private func checkInt8Gemm(m: Int, lda: Int, ldc: Int, b: QuantizedWeights) {
    precondition(m >= 0, "int8Gemm: negative m \(m)")
    precondition(m <= 1 || (lda >= b.k && ldc >= b.n), "int8Gemm: lda \(lda) < k \(b.k) or ldc \(ldc) < n \(b.n)")
}

/// Runs `b.kernel`'s path; Int32 C when `rowScales` is nil, else dequantized float C.
private func int8GemmKernel(m: Int, a: UnsafePointer<UInt8>, lda: Int, rowZeroPoints: UnsafePointer<Int32>,
                            b: QuantizedWeights, c: UnsafeMutableRawPointer, ldc: Int,
                            rowScales: UnsafePointer<Float>?, columnScales: UnsafePointer<Float>?,
                            bias: UnsafePointer<Float>?, relu: Bool) {
    if m == 0 || b.n == 0 { return }
    precondition(b.kernel.isSupported, "int8Gemm: weights packed for \(b.kernel), which this CPU cannot run")
    switch b.kernel {
    case .vnni:
        b.columnOffsets.withUnsafeBufferPointer { offsets in
            b.columnCorrections.withUnsafeBufferPointer { corrections in
                int8GemmVNNI(m: m, k: b.k, n: b.n, a: a, lda: lda, rowZeroPoints: rowZeroPoints, panels: b.panels.base,
                             columnOffsets: offsets.baseAddress!, columnCorrections: corrections.baseAddress!,
                             c: c, ldc: ldc, rowScales: rowScales, columnScales: columnScales, bias: bias, relu: relu)
            }
        }
    case .avx2:
        int8GemmAVX2(m: m, k: b.k, n: b.n, a: a, lda: lda, rowZeroPoints: rowZeroPoints, panels: b.panels.base,
                     c: c, ldc: ldc, rowScales: rowScales, columnScales: columnScales, bias: bias, relu: relu)
    case .scalar:
        if let rowScales, let columnScales {
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: m * b.n) { sums in
                int8GemmReference(m: m, a: a, lda: lda, rowZeroPoints: rowZeroPoints, b: b, c: sums.baseAddress!, ldc: b.n)
                dequantizeRowsReference(sums.baseAddress!, rows: m, cols: b.n, ldc: b.n, rowScales: rowScales,
                                        columnScales: columnScales, columnScaleCount: b.n, bias: bias,
                                        activation: relu ? .relu : .identity,
                                        c.assumingMemoryBound(to: Float.self), ldo: ldc)
            }
        } else {
            int8GemmReference(m: m, a: a, lda: lda, rowZeroPoints: rowZeroPoints, b: b,
                              c: c.assumingMemoryBound(to: Int32.self), ldc: ldc)
        }
    }
}
