import Kernels

/// What the engine knows about one named value after load.
///
/// Every activation is `[N] + dims`: the batch dimension N first, everything else static, so a
/// batch of `rows` items of a value occupies `rows * width` contiguous floats.
enum ValueState: Sendable {
    case activation(ActivationShape)
    case constant(ConstantTensor)
    /// A value the engine recognises but cannot compute (strings, sequences, maps, values that
    /// depend on such). Only an error when a session actually needs it.
    case opaque(OpaqueValue)
}

struct ActivationShape: Sendable, Equatable {
    /// Dimensions after the batch dimension.
    var dims: [Int]
    /// Whole-number values (int64 labels, argmax indices), held exactly as Float.
    var isInteger = false

    /// Floats per batch item.
    var width: Int { dims.reduce(1, *) }

    /// The most floats one batch item of a value may have (64 MiB), far above real tabular
    /// models; larger shapes are refused at load instead of overflowing or exhausting memory.
    static let maxWidth = 1 << 24

    /// The product of `dims`, or nil when a dimension is not positive or the product exceeds `maxWidth`.
    static func checkedWidth(_ dims: [Int]) -> Int? {
        var product = 1
        for d in dims {
            guard d > 0 else { return nil }
            let (p, overflow) = product.multipliedReportingOverflow(by: d)
            guard !overflow, p <= maxWidth else { return nil }
            product = p
        }
        return product
    }
    var elementType: ElementType { isInteger ? .int64 : .float }
}

struct OpaqueValue: Sendable {
    var typeName: String
    /// Why it cannot be computed, phrased to follow "output 'x' ...".
    var reason: String
    /// For a ZipMap output: the float tensor that feeds it (the one to select instead).
    var zipMapInput: String?
}

/// A dense layer `out = act(in · W + bias)`: Gemm, MatMul(+Add), and the linear part of
/// LinearClassifier / LinearRegressor. `in` is viewed as `rows * width / k` rows of k floats.
struct LinearLayer: Sendable {
    var weights: PackedWeights
    var bias: [Float]?
    var activation: Activation
    var k: Int { weights.k }
    var n: Int { weights.n }
}

enum BinaryKind: String, Sendable {
    case add = "Add", sub = "Sub", mul = "Mul", div = "Div"

    @inline(__always) func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: a + b
        case .sub: a - b
        case .mul: a * b
        case .div: a / b
        }
    }
}

enum NormKind: String, Sendable { case max = "MAX", l1 = "L1", l2 = "L2" }

/// Element-wise functions that are not fused into a GEMM (see `UnaryKernels`).
enum UnaryKind: String, Sendable {
    case erf = "Erf"
    /// Gelu, approximate="none": x/2 · (1 + erf(x/√2)).
    case gelu = "Gelu"
    /// Gelu, approximate="tanh".
    case geluTanh = "Gelu(tanh)"
}

/// One step of the lowered graph. Each has exactly one output value; ONNX nodes with several
/// outputs (LinearClassifier) become several lowered nodes.
enum LoweredOp: Sendable {
    case linear(LinearLayer)
    /// Output is the input's data, unchanged (Identity, Dropout, Reshape, Flatten, same-type Cast).
    case alias
    /// relu / sigmoid / tanh (never `.identity`).
    case activation(Activation)
    /// Float to whole number, truncating toward zero (Cast to int64/int32).
    case truncate
    /// `in op row` (or `row op in` when `constantFirst`), `row` repeating every `width` floats.
    case binaryConstant(BinaryKind, row: [Float], constantFirst: Bool)
    /// Two activations of the same shape.
    case binary(BinaryKind)
    /// Softmax over consecutive groups of `cols` floats.
    case softmax(cols: Int, log: Bool)
    /// LinearClassifier's SOFTMAX_ZERO post-transform.
    case softmaxZero(cols: Int)
    /// Argmax over `axis` values that are `inner` floats apart; output index as Float.
    case argMax(axis: Int, inner: Int, selectLast: Bool)
    /// Per batch item: `outer` rounds, each copying `pieces[i]` floats from input i.
    case concat(outer: Int, pieces: [Int])
    /// One score column to two: `[1 - s, s]`, or `[1 - σ(s), σ(s)]` (onnxruntime's binary case).
    case binaryScores(logistic: Bool)
    /// Class label of each row of scores: argmax into `labels`, or (one column) `labels[s > 0]`.
    case classLabel(labels: [Float])
    case normalize(NormKind)
    /// `table[index]` for every value (ArrayFeatureExtractor on a constant 1-D table).
    case gather(table: [Float])
    case unary(UnaryKind)
    /// Per item, `out[j] = in[indices[j]]` (Gather on axis 1, ArrayFeatureExtractor on columns).
    case selectColumns(indices: [Int])
    /// Imputer: values equal to `replaced` (or NaN, when `replaced` is NaN) become `row[i % width]`.
    case impute(row: [Float], replaced: Float)
    /// OneHotEncoder: each value (truncated to a whole number) becomes `categories.count`
    /// floats, 1 where it equals the category; an unknown value is all zeros, or an error
    /// unless `zeros`.
    case oneHot(categories: [Float], zeros: Bool)
    /// The tree-ensemble kernel: raw per-class / per-target scores.
    case treeScores(TreeScores)
    /// Base values and post_transform on raw tree scores.
    case treeFinalize(TreeFinalize)
    /// A linear layer on integers (quantized models); runs in a scratch slot of the workspace.
    case quantizedLinear(QuantizedLinearLayer)
    /// QuantizeLinear: the quantized values as whole-number floats.
    case quantize(QuantizationParameters)
    /// DequantizeLinear of whole-number floats.
    case dequantize(QuantizationParameters)
    /// A QuantizeLinear → DequantizeLinear pair with the same parameters, in one pass.
    case fakeQuantize(QuantizationParameters)
    /// DequantizeLinear → Softmax → QuantizeLinear → DequantizeLinear (uint8), as onnxruntime's
    /// QLinearSoftmax computes it.
    case quantizedSoftmax(QuantizedSoftmax)
    /// The classifier label from raw tree scores.
    case treeLabel(TreeFinalize)
}

/// A QuantizeLinear / DequantizeLinear's scale and zero point for every position of one batch
/// item (per-tensor parameters repeat one value; per-axis ones follow the axis), and the range
/// of the quantized type.
struct QuantizationParameters: Sendable, Equatable {
    var scales: [Float]
    var zeroPoints: [Float]
    var low: Float
    var high: Float

    /// The one scale and zero point when every position has the same (per-tensor).
    var perTensor: (scale: Float, zeroPoint: Int32)? {
        guard let scale = scales.first, let zero = zeroPoints.first,
              scales.allSatisfy({ $0 == scale }), zeroPoints.allSatisfy({ $0 == zero }) else { return nil }
        return (scale, Int32(zero))
    }

    /// 128 for int8 (shifted into uint8 for `int8Gemm`), 0 for uint8.
    var unsignedOffset: Int32 { low < 0 ? 128 : 0 }
}

struct LoweredNode: Sendable {
    var op: LoweredOp
    /// Value ids of the inputs (activations only; constants are baked into `op`).
    var inputs: [Int]
    var output: Int
    /// The ONNX node this came from, for errors.
    var nodeName: String
    var opType: String
}
