import Glibc

/// A softmax between a DequantizeLinear and a QuantizeLinear (uint8), computed as onnxruntime's
/// fused QLinearSoftmax does: a table of 256 exponentials of the quantized input, a float sum
/// per row, and q = round((e · ⌊1 / y_scale⌋) / sum) + y_zero_point. Its results differ from a
/// float softmax followed by QuantizeLinear by one step in about one value in ten, enough to
/// change which of two tied classes a row's quantized probabilities pick.
public struct QuantizedSoftmax: Sendable, Equatable {
    /// The input's quantization (uint8).
    public let inputScale: Float
    public let inputZeroPoint: Int32
    /// The output's quantization (uint8).
    public let outputScale: Float
    public let outputZeroPoint: Int32
    /// The number of values one softmax runs over.
    public let cols: Int
    /// exp((i − 255 + shift) · inputScale) for every quantized value i, the shift chosen so the
    /// sum of `cols` of them stays far below Float's largest value.
    let table: [Float]

    public init(inputScale: Float, inputZeroPoint: Int32, outputScale: Float, outputZeroPoint: Int32, cols: Int) {
        precondition(cols > 0, "QuantizedSoftmax: cols \(cols)")
        self.inputScale = inputScale
        self.inputZeroPoint = inputZeroPoint
        self.outputScale = outputScale
        self.outputZeroPoint = outputZeroPoint
        self.cols = cols
        // In double, as onnxruntime builds it; 5 bits of headroom for the float sum.
        let headroom = Glibc.log(Double(Float.greatestFiniteMagnitude / Float(cols)))
        let shift = Swift.max(0, headroom - 5) / Double(inputScale)
        table = (0..<256).map { i in Float(Glibc.exp((Double(i) - 255 + shift) * Double(inputScale))) }
    }

    /// Runs on `rows` rows of `cols` dequantized inputs ((q − zero point) · scale, so q is
    /// recovered exactly by rounding) and writes the dequantized outputs.
    public func apply(_ x: UnsafePointer<Float>, rows: Int, _ out: UnsafeMutablePointer<Float>) {
        let inZero = Float(inputZeroPoint)
        let outZero = Float(outputZeroPoint)
        let yScale = (1 / outputScale).rounded(.down)
        table.withUnsafeBufferPointer { table in
            for r in 0..<rows {
                let row = x + r * cols
                let o = out + r * cols
                var qmax = 0
                for j in 0..<cols { qmax = Swift.max(qmax, quantized(row[j], inZero)) }
                // The row's largest value is aligned with the table's last entry.
                let shift = 255 - qmax
                var sum: Float = 0
                for j in 0..<cols { sum += table[quantized(row[j], inZero) + shift] }
                for j in 0..<cols {
                    let e = table[quantized(row[j], inZero) + shift]
                    let q = Swift.min(((e * yScale) / sum).rounded(.toNearestOrEven) + outZero, 255)
                    o[j] = (q - outZero) * outputScale
                }
            }
        }
    }

    /// The uint8 value a dequantized input came from.
    @inline(__always)
    private func quantized(_ v: Float, _ zero: Float) -> Int {
        let q = (v / inputScale).rounded(.toNearestOrEven) + zero
        return q.isNaN ? 0 : Int(Swift.min(Swift.max(q, 0), 255))
    }
}
