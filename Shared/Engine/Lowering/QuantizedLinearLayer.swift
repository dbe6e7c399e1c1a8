import Kernels

/// A linear layer computed on integers: `int8Gemm` of uint8 activations and packed int8/uint8
/// weights, exact Int32 sums, then back to floats. It is what the quantized forms of a dense
/// layer become:
///
/// - onnxruntime's `quantize_dynamic` chain, DynamicQuantizeLinear → MatMulInteger → Cast →
///   Mul(scale product) (→ Add bias → Relu): input `.dynamicRows`, output `.scaled`;
/// - a static QDQ Gemm/MatMul (Q→DQ on the activation, DequantizeLinear'd int8 weights, int32
///   bias): input `.quantize`, output `.scaled` or, when its output goes through a Q→DQ pair,
///   `.requantized` (what onnxruntime's QGemm computes);
/// - QLinearMatMul: input `.values`, output `.requantized` as values.
struct QuantizedLinearLayer: Sendable {
    /// How each input row becomes uint8 values and their zero point.
    enum Input: Sendable, Equatable {
        /// DynamicQuantizeLinear applied to each row on its own (`quantizeRowsDynamic`), as
        /// onnxruntime computes a one-row tensor. Per row, not per tensor: batches are cut by
        /// timing, and a record's score must never depend on which batch it travelled in.
        case dynamicRows
        /// QuantizeLinear with a static scale and zero point; `offset` (128 for int8, else 0)
        /// shifts int8 values into uint8 without changing any difference q − zero point.
        case quantize(scale: Float, zeroPoint: Int32, offset: Int32)
        /// The input already holds quantized values (whole-number Floats) with this zero point.
        case values(zeroPoint: Int32, offset: Int32)
    }

    /// How the Int32 sums become the output.
    enum Output: Sendable, Equatable {
        /// Float(sum) · (rowScale · weightScale[j]) (+ bias[j]) then the activation; rowScale is
        /// the row's dynamic scale, or the static input scale.
        case scaled(bias: [Float]?, activation: Activation)
        /// `requantizeRows` with multiplier (inputScale · weightScale[j]) / outputScale.
        case requantized(multipliers: [Float], zeroPoint: Int32, low: Int32, high: Int32, output: RequantizedOutput)
    }

    var weights: QuantizedWeights
    /// One per output column, or one for all.
    var weightScales: [Float]
    var input: Input
    /// Added to the Int32 sums before anything else (a QDQ model's int32 bias), or nil.
    var integerBias: [Int32]?
    var output: Output

    var k: Int { weights.k }
    var n: Int { weights.n }

    /// Int32 words of scratch one row needs: the sums, the row's scale and zero point, and its
    /// k bytes of quantized input.
    var scratchWordsPerRow: Int { n + 2 + (k + 3) / 4 }

    /// True when the output may take one more element-wise step: a bias, then an activation.
    var acceptsBias: Bool {
        if case .scaled(nil, .identity) = output { true } else { false }
    }
}
