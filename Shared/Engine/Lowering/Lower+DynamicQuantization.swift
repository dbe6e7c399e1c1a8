import Kernels

/// A value inside onnxruntime's `quantize_dynamic` layer, which only exists within the fused
/// step the whole chain becomes:
///
///     DynamicQuantizeLinear [x] -> [x_q, x_scale, x_zp]
///     Mul [x_scale, w_scale] -> [s]
///     MatMulInteger [x_q, w_q, x_zp, w_zp] -> [acc];  Cast(to float) [acc] -> [accf]
///     Mul [accf, s] -> [y]            (then Add bias, Relu: fused by LinearFusion)
///
/// Each node of the chain turns its inputs' parts into the next part; the last Mul emits the
/// `quantizedLinear` step on x. Any other use of a part is an error naming the node.
enum QuantizedPart: Sendable {
    /// DynamicQuantizeLinear's outputs for the activation `source`.
    case values(source: Int)
    case scale(source: Int)
    case zeroPoint(source: Int)
    /// x_scale · w_scale.
    case scaleProduct(source: Int, weightScales: [Float])
    /// MatMulInteger's Int32 sums, and after Cast(to float) the same as floats.
    case sums(source: Int, weights: QuantizedWeights, asFloat: Bool)

    var source: Int {
        switch self {
        case .values(let s), .scale(let s), .zeroPoint(let s), .scaleProduct(let s, _), .sums(let s, _, _): s
        }
    }

    var role: String {
        switch self {
        case .values: "DynamicQuantizeLinear's quantized values"
        case .scale: "DynamicQuantizeLinear's scale"
        case .zeroPoint: "DynamicQuantizeLinear's zero point"
        case .scaleProduct: "the product of the input and weight scales"
        case .sums(_, _, false): "MatMulInteger's integer sums"
        case .sums(_, _, true): "MatMulInteger's sums cast to float"
        }
    }

    /// The chain as one phrase, for errors.
    static let chain = "DynamicQuantizeLinear → MatMulInteger → Cast(to float) → Mul by Mul(x_scale, w_scale)"
}

extension GraphLowering {
    /// DynamicQuantizeLinear on a 2-D float activation: three parts, computed per row by the fused step.
    mutating func lowerDynamicQuantizeLinear(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let (x, shape) = try activation(ctx, inputs, 0, "x")
        guard shape.dims.count == 1 else {
            throw ctx.unsupported("x must be 2-D [N, K] (one row per record), got rank \(shape.dims.count + 1)")
        }
        let parts: [QuantizedPart] = [.values(source: x), .scale(source: x), .zeroPoint(source: x)]
        for (index, part) in parts.enumerated() {
            guard let name = outputName(ctx, index) else { continue }
            definePart(name, part)
        }
    }

    /// MatMulInteger outside the chain it is supported in.
    func lowerMatMulInteger(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) -> Never {
        let a = try required(ctx, inputs, 0, "A")
        throw ctx.unsupported("input A '\(names[a])' is not DynamicQuantizeLinear's output; MatMulInteger is supported only "
            + "in the chain \(QuantizedPart.chain) that onnxruntime's quantize_dynamic emits")
    }

    /// A node reading at least one part of a quantized layer.
    mutating func lowerQuantizedPart(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        switch ctx.node.opType {
        case "MatMulInteger": try lowerMatMulIntegerPart(ctx, inputs)
        case "Cast": try lowerCastPart(ctx, inputs)
        case "Mul": try lowerMulPart(ctx, inputs)
        default:
            let part = inputs.compactMap { $0 }.first { quantizedParts[$0] != nil }!
            throw misuse(ctx, part)
        }
    }

    private func misuse(_ ctx: NodeContext, _ id: Int) -> ModelError {
        ctx.unsupported("input '\(names[id])' is \(quantizedParts[id]!.role), which the engine computes only inside "
            + "the fused chain \(QuantizedPart.chain) (→ Add bias → Relu)")
    }

    private mutating func definePart(_ name: String, _ part: QuantizedPart) {
        let id = define(name, .opaque(OpaqueValue(typeName: "tensor", reason: "is \(part.role), which exists only inside "
            + "the fused quantized layer \(QuantizedPart.chain)")))
        quantizedParts[id] = part
    }

    private mutating func lowerMatMulIntegerPart(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let a = try required(ctx, inputs, 0, "A")
        guard case .values(let source)? = quantizedParts[a] else {
            throw ctx.unsupported("input A '\(names[a])' must be DynamicQuantizeLinear's quantized values (the chain \(QuantizedPart.chain))")
        }
        guard let az = optional(inputs, 2), case .zeroPoint(source)? = quantizedParts[az] else {
            throw ctx.unsupported("input 2 (a_zero_point) must be the zero point of the same DynamicQuantizeLinear as A")
        }
        let b = try constant(ctx, inputs, 1, "B")
        guard b.elementType == .int8 || b.elementType == .uint8, b.dims.count == 2, let values = b.int64s else {
            throw ctx.unsupported("B must be a constant 2-D int8 or uint8 matrix [K, n], got \(b.elementType.name) with dims \(b.dims)")
        }
        let (k, n) = (b.dims[0], b.dims[1])
        try Self.checkInnerDimension(k, ctx)
        guard case .activation(let shape) = states[source], shape.dims == [k] else {
            throw ctx.error(.invalidGraph, "A has \(states[source].widthDescription) but B has K=\(k) rows")
        }
        var zeroPoints: [Int32] = [0]
        if let bz = optional(inputs, 3) {
            let zero = try constant(ctx, inputs, 3, "b_zero_point")
            guard zero.elementType == b.elementType, zero.count == 1 || (zero.count == n && zero.dims == [n]),
                  let z = zero.int64s else {
                throw ctx.unsupported("b_zero_point '\(names[bz])' must be a \(b.elementType.name) scalar or [\(n)], got "
                    + "\(zero.elementType.name) with dims \(zero.dims)")
            }
            zeroPoints = z.map { Int32($0) }
        }
        let output = try firstOutput(ctx)
        let weights = store.quantized("quantized:\(output)", k: k, n: n) {
            values.map { Int32($0) }.withUnsafeBufferPointer {
                QuantizedWeights(b: $0, k: k, n: n, zeroPoints: zeroPoints, transposed: false)
            }
        }
        definePart(output, .sums(source: source, weights: weights, asFloat: false))
    }

    private mutating func lowerCastPart(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let x = try required(ctx, inputs, 0, "input")
        let to = try ctx.int("to", default: 0)
        guard case .sums(let source, let weights, false)? = quantizedParts[x], ElementType(code: Int32(truncatingIfNeeded: to)) == .float else {
            throw misuse(ctx, x)
        }
        definePart(try firstOutput(ctx), .sums(source: source, weights: weights, asFloat: true))
    }

    private mutating func lowerMulPart(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let a = try required(ctx, inputs, 0, "A")
        let b = try required(ctx, inputs, 1, "B")
        let output = try firstOutput(ctx)
        switch (quantizedParts[a], quantizedParts[b], states[a], states[b]) {
        case (.scale(let source)?, nil, _, .constant(let c)), (nil, .scale(let source)?, .constant(let c), _):
            guard let scales = c.floats, c.elementType == .float, c.dims.count <= 1, !scales.isEmpty else {
                throw ctx.unsupported("the weight scale must be a float scalar or 1-D tensor, got \(c.elementType.name) with dims \(c.dims)")
            }
            definePart(output, .scaleProduct(source: source, weightScales: scales))
        case (.sums(let source, let weights, true)?, .scaleProduct(let scaleSource, let scales)?, _, _),
             (.scaleProduct(let scaleSource, let scales)?, .sums(let source, let weights, true)?, _, _):
            guard source == scaleSource else {
                throw ctx.unsupported("the scale product belongs to a different DynamicQuantizeLinear than the sums")
            }
            guard scales.count == 1 || scales.count == weights.n else {
                throw ctx.error(.invalidGraph, "\(scales.count) weight scales for \(counted(weights.n, "column"))")
            }
            let layer = QuantizedLinearLayer(weights: weights, weightScales: scales, input: .dynamicRows, integerBias: nil,
                                             output: .scaled(bias: nil, activation: .identity))
            try emit(.quantizedLinear(layer), inputs: [source], output: output, shape: ActivationShape(dims: [weights.n]), ctx)
        default:
            throw misuse(ctx, quantizedParts[a] != nil ? a : b)
        }
    }
}

extension GraphLowering {
    /// Int32 sums of k products of 9-bit values are exact only up to `QuantizedWeights.maxK`.
    static func checkInnerDimension(_ k: Int, _ ctx: NodeContext) throws(ModelError) {
        guard k <= QuantizedWeights.maxK else {
            throw ctx.unsupported("an inner dimension of \(k) is too large for exact Int32 sums (at most \(QuantizedWeights.maxK))")
        }
    }
}

extension ValueState {
    /// `[N, …]` of an activation, for errors.
    var widthDescription: String {
        if case .activation(let shape) = self { return "shape [N, \(shape.dims.map(String.init).joined(separator: ", "))]" }
        return "no activation shape"
    }
}
