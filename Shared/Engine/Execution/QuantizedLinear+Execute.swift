import Kernels

extension QuantizedLinearLayer {
    /// Runs the layer on `m` rows of k floats: quantize each row to uint8, `int8Gemm`, then
    /// dequantize (bias, activation) or requantize.
    ///
    /// - Parameter scratch: at least `m * scratchWordsPerRow` 4-byte words, 4-byte aligned:
    ///   the row scales (Float), the sums and row zero points (Int32), the quantized rows (bytes).
    func execute(m: Int, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, scratch: UnsafeMutableRawPointer) {
        let rowScales = scratch.bindMemory(to: Float.self, capacity: m)
        let sums = (scratch + 4 * m).bindMemory(to: Int32.self, capacity: m * n + m)
        let rowZeroPoints = sums + m * n
        let q = (scratch + 4 * (2 * m + m * n)).bindMemory(to: UInt8.self, capacity: m * k)
        switch input {
        case .dynamicRows:
            quantizeRowsDynamic(x, rows: m, cols: k, ldx: k, q, ldq: k, scales: rowScales, zeroPoints: rowZeroPoints)
        case .quantize(let scale, let zeroPoint, let offset):
            quantizeLinear(x, count: m * k, scale: scale, zeroPoint: zeroPoint + offset, q)
            rowScales.update(repeating: scale, count: m)
            rowZeroPoints.update(repeating: zeroPoint + offset, count: m)
        case .values(let zeroPoint, let offset):
            floatsToBytes(x, rows: m, cols: k, ldx: k, offset: Float(offset), q, ldq: k)
            rowScales.update(repeating: 1, count: m)
            rowZeroPoints.update(repeating: zeroPoint + offset, count: m)
        }
        if case .scaled(let bias, let activation) = output, integerBias == nil {
            // Dequantized straight from the accumulators: the same bits as int8Gemm + dequantizeRows.
            weightScales.withUnsafeBufferPointer { s in
                bias.withOptionalPointer { b in
                    int8GemmDequantized(m: m, a: q, lda: k, rowZeroPoints: rowZeroPoints, rowScales: rowScales, b: weights,
                                        columnScales: s.baseAddress!, columnScaleCount: s.count, bias: b,
                                        activation: activation, out, ldo: n)
                }
            }
            return
        }
        int8Gemm(m: m, a: q, lda: k, rowZeroPoints: rowZeroPoints, b: weights, c: sums, ldc: n)
        switch output {
        case .scaled(let bias, let activation):
            if let integerBias { Self.add(integerBias, to: sums, rows: m) }
            weightScales.withUnsafeBufferPointer { s in
                if let bias {
                    bias.withUnsafeBufferPointer { b in
                        dequantizeRows(sums, rows: m, cols: n, ldc: n, rowScales: rowScales, columnScales: s.baseAddress!,
                                       columnScaleCount: s.count, bias: b.baseAddress, activation: activation, out, ldo: n)
                    }
                } else {
                    dequantizeRows(sums, rows: m, cols: n, ldc: n, rowScales: rowScales, columnScales: s.baseAddress!,
                                   columnScaleCount: s.count, bias: nil, activation: activation, out, ldo: n)
                }
            }
        case .requantized(let multipliers, let zeroPoint, let low, let high, let mode):
            multipliers.withUnsafeBufferPointer { mult in
                if let integerBias {
                    integerBias.withUnsafeBufferPointer { b in
                        requantizeRows(sums, rows: m, cols: n, ldc: n, bias: b.baseAddress, multipliers: mult.baseAddress!,
                                       multiplierCount: mult.count, zeroPoint: zeroPoint, low: low, high: high, output: mode, out, ldo: n)
                    }
                } else {
                    requantizeRows(sums, rows: m, cols: n, ldc: n, bias: nil, multipliers: mult.baseAddress!,
                                   multiplierCount: mult.count, zeroPoint: zeroPoint, low: low, high: high, output: mode, out, ldo: n)
                }
            }
        }
    }

    /// The Int32 bias added to every row of sums, as onnxruntime's QGemm starts its sums from it.
    private static func add(_ bias: [Int32], to sums: UnsafeMutablePointer<Int32>, rows: Int) {
        let n = bias.count
        for i in 0..<rows {
            for j in 0..<n { sums[i * n + j] &+= bias[j] }
        }
    }
}

extension QuantizationParameters {
    /// Calls `body` with the per-position scales and zero points.
    func withRows<R>(_ body: (UnsafePointer<Float>, UnsafePointer<Float>) -> R) -> R {
        scales.withUnsafeBufferPointer { s in zeroPoints.withUnsafeBufferPointer { z in body(s.baseAddress!, z.baseAddress!) } }
    }
}

extension Optional where Wrapped == [Float] {
    /// Calls `body` with the array's elements, or nil.
    fileprivate func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let array = self else { return body(nil) }
        return array.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
