import Kernels

/// A constant that DequantizeLinear folded at load: its integers and their parameters, kept so
/// that a Gemm/MatMul can use int8 weights (and an int32 bias) as integers.
struct QuantizedConstant: Sendable {
    var values: [Int64]
    var dims: [Int]
    var elementType: ElementType
    /// One value, or one per index of `axis`.
    var scales: [Float]
    var zeroPoints: [Int64]
    /// The axis the parameters follow; nil when per-tensor.
    var axis: Int?
}

/// A quantized activation: the float value it was quantized from and how.
struct QuantizedActivation: Sendable {
    var source: Int
    var parameters: QuantizationParameters
}

/// QuantizeLinear, DequantizeLinear and QLinearMatMul (static quantization, QDQ format).
extension GraphLowering {
    /// The range of a quantized type; only 8-bit integers are supported.
    private static func range(_ type: ElementType, _ ctx: NodeContext) throws(ModelError) -> (low: Float, high: Float) {
        switch type {
        case .uint8: return (0, 255)
        case .int8: return (-128, 127)
        default: throw ctx.unsupported("quantized type \(type.name) is not supported; supported: uint8, int8")
        }
    }

    /// Scale (input 1) and zero point (input 2) as constants, checked against each other: the
    /// values, the quantized type, and the axis they follow (nil when per-tensor).
    private func quantizationInputs(_ ctx: NodeContext, _ inputs: [Int?], rank: Int, dims: [Int],
                                    valueType: ElementType?) throws(ModelError)
        -> (scales: [Float], zeroPoints: [Int64], type: ElementType, axis: Int?) {
        if try ctx.int("block_size", default: 0) != 0 {
            throw ctx.unsupported("blocked quantization (block_size) is not supported")
        }
        let scale = try constant(ctx, inputs, 1, "scale")
        guard scale.elementType == .float, let scales = scale.floats, scale.dims.count <= 1, !scales.isEmpty else {
            throw ctx.unsupported("the scale must be a float scalar or 1-D tensor, got \(scale.elementType.name) with dims \(scale.dims)")
        }
        var type = valueType ?? .uint8
        var zeroPoints = [Int64](repeating: 0, count: scales.count)
        if optional(inputs, 2) != nil {
            let zero = try constant(ctx, inputs, 2, "zero_point")
            guard let z = zero.int64s, zero.elementType.isInteger, zero.count == scale.count, zero.dims.count <= 1 else {
                throw ctx.error(.invalidGraph, "the zero point (\(zero.elementType.name), dims \(zero.dims)) must be an integer "
                    + "scalar or 1-D tensor with as many values as the scale (dims \(scale.dims))")
            }
            if let valueType, valueType != zero.elementType {
                throw ctx.error(.invalidGraph, "the zero point is \(zero.elementType.name) but the quantized values are \(valueType.name)")
            }
            type = zero.elementType
            zeroPoints = z
        }
        if type != .int32 { _ = try Self.range(type, ctx) }
        // One value is per-tensor whatever its dims (onnxruntime's IsScalarOr1ElementVector).
        guard scales.count > 1 else { return (scales, zeroPoints, type, nil) }
        let axis = try ctx.axis("axis", default: 1, rank: rank)
        guard dims[axis] == scales.count else {
            throw ctx.error(.invalidGraph, "\(counted(scales.count, "scale")) for axis \(axis) of size \(dims[axis])")
        }
        return (scales, zeroPoints, type, axis)
    }

    /// Per-position parameters for one batch item of an activation `[N] + dims`.
    private static func parameters(_ scales: [Float], _ zeroPoints: [Int64], axis: Int?, dims: [Int],
                                   range: (low: Float, high: Float), _ ctx: NodeContext) throws(ModelError) -> QuantizationParameters {
        let width = dims.reduce(1, *)
        guard let axis else {
            return QuantizationParameters(scales: [Float](repeating: scales[0], count: width),
                                          zeroPoints: [Float](repeating: Float(zeroPoints[0]), count: width),
                                          low: range.low, high: range.high)
        }
        guard axis > 0 else { throw ctx.unsupported("per-axis parameters along the batch axis 0 are not supported") }
        let inner = dims[axis...].reduce(1, *)  // item dims after the axis (item index axis - 1)
        let channel = (0..<width).map { ($0 / inner) % dims[axis - 1] }
        return QuantizationParameters(scales: channel.map { scales[$0] }, zeroPoints: channel.map { Float(zeroPoints[$0]) },
                                      low: range.low, high: range.high)
    }

    /// Which parameter index applies to each element of a constant with `dims`.
    private static func channels(count: Int, dims: [Int], axis: Int?) -> [Int] {
        guard let axis else { return [Int](repeating: 0, count: count) }
        let inner = dims[(axis + 1)...].reduce(1, *)
        return (0..<count).map { ($0 / inner) % dims[axis] }
    }

    mutating func lowerQuantizeLinear(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let x = try required(ctx, inputs, 0, "x")
        let output = try firstOutput(ctx)
        switch states[x] {
        case .constant(let c):
            guard c.elementType == .float, let values = c.floats else {
                throw ctx.unsupported("QuantizeLinear of a \(c.elementType.name) constant is not supported")
            }
            let (scales, zeros, type, axis) = try quantizationInputs(ctx, inputs, rank: c.dims.count, dims: c.dims, valueType: nil)
            let (low, high) = try Self.range(type, ctx)
            let channel = Self.channels(count: values.count, dims: c.dims, axis: axis)
            let q = values.indices.map { i in
                let v = (values[i] / scales[channel[i]]).rounded(.toNearestOrEven) + Float(zeros[channel[i]])
                return Int64(v.isNaN ? low : min(max(v, low), high))
            }
            define(output, .constant(ConstantTensor(dims: c.dims, elementType: type, storage: .int64(q))))
        case .activation(let shape):
            guard !shape.isInteger else { throw ctx.error(.invalidGraph, "x '\(names[x])' must be a float tensor") }
            let (scales, zeros, type, axis) = try quantizationInputs(ctx, inputs, rank: shape.dims.count + 1,
                                                                     dims: [1] + shape.dims, valueType: nil)
            let parameters = try Self.parameters(scales, zeros, axis: axis, dims: shape.dims, range: try Self.range(type, ctx), ctx)
            let id = try emit(.quantize(parameters), inputs: [x], output: output,
                              shape: ActivationShape(dims: shape.dims, isInteger: true), ctx)
            quantizedActivations[id] = QuantizedActivation(source: x, parameters: parameters)
        case .opaque:
            throw ctx.error(.invalidGraph, "unexpected opaque input")
        }
    }

    mutating func lowerDequantizeLinear(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let x = try required(ctx, inputs, 0, "x")
        let output = try firstOutput(ctx)
        switch states[x] {
        case .constant(let c):
            guard c.elementType == .int8 || c.elementType == .uint8 || c.elementType == .int32, let values = c.int64s else {
                throw ctx.unsupported("DequantizeLinear of a \(c.elementType.name) constant is not supported; supported: int8, uint8, int32")
            }
            let (scales, zeros, type, axis) = try quantizationInputs(ctx, inputs, rank: c.dims.count, dims: c.dims,
                                                                     valueType: c.elementType)
            if type == .int32 && zeros.contains(where: { $0 != 0 }) {
                throw ctx.error(.invalidGraph, "an int32 zero point must be 0")
            }
            let channel = Self.channels(count: values.count, dims: c.dims, axis: axis)
            // (x − zero point) exactly in integers, then one float multiply: onnxruntime's order.
            let floats = values.indices.map { Float(values[$0] - zeros[channel[$0]]) * scales[channel[$0]] }
            let id = define(output, .constant(ConstantTensor(floats: floats, dims: c.dims)))
            quantizedConstants[id] = QuantizedConstant(values: values, dims: c.dims, elementType: c.elementType,
                                                       scales: scales, zeroPoints: zeros, axis: axis)
        case .activation(let shape):
            guard shape.isInteger else {
                throw ctx.error(.invalidGraph, "x '\(names[x])' is a float tensor; DequantizeLinear needs quantized integers")
            }
            let (scales, zeros, type, axis) = try quantizationInputs(ctx, inputs, rank: shape.dims.count + 1,
                                                                     dims: [1] + shape.dims, valueType: nil)
            let parameters = try Self.parameters(scales, zeros, axis: axis, dims: shape.dims, range: try Self.range(type, ctx), ctx)
            if let quantized = quantizedActivations[x], quantized.parameters == parameters,
               let softmax = quantizedSoftmaxInputs[quantized.source], let (inScale, inZero) = softmax.parameters.perTensor,
               let (outScale, outZero) = parameters.perTensor, parameters.low == 0 {
                let kernel = QuantizedSoftmax(inputScale: inScale, inputZeroPoint: inZero, outputScale: outScale,
                                              outputZeroPoint: outZero, cols: softmax.cols)
                let id = try emit(.quantizedSoftmax(kernel), inputs: [softmax.input], output: output,
                                  shape: ActivationShape(dims: shape.dims), ctx)
                // Already on the output's grid: quantizing it again gives back its values exactly.
                fakeQuantized[id] = QuantizedActivation(source: id, parameters: parameters)
            } else if let quantized = quantizedActivations[x], quantized.parameters == parameters {
                // Q → DQ with the same parameters: one rounding step on the float source, which a
                // Gemm/MatMul reading it replaces by quantizing the source itself.
                let id = try emit(.fakeQuantize(parameters), inputs: [quantized.source], output: output,
                                  shape: ActivationShape(dims: shape.dims), ctx)
                fakeQuantized[id] = QuantizedActivation(source: quantized.source, parameters: parameters)
            } else {
                try emit(.dequantize(parameters), inputs: [x], output: output, shape: ActivationShape(dims: shape.dims), ctx)
            }
        case .opaque:
            throw ctx.error(.invalidGraph, "unexpected opaque input")
        }
    }

    /// Integer weights B (k×n) with their per-tensor or per-column parameters, when `b` was
    /// folded from int8/uint8 by a DequantizeLinear whose axis (if any) is the output axis.
    private func integerWeights(_ b: Int, transposed: Bool) -> (QuantizedConstant, scales: [Float])? {
        guard let q = quantizedConstants[b], q.elementType != .int32, q.dims.count == 2 else { return nil }
        let outputAxis = transposed ? 0 : 1
        guard q.axis == nil || q.axis == outputAxis else { return nil }
        return (q, q.scales)
    }

    /// Gemm/MatMul of a Q→DQ'd activation and DequantizeLinear'd integer weights, lowered to one
    /// integer step; nil when the node is not of that form (then it runs on the folded floats).
    ///
    /// - Parameters:
    ///   - bias: input C's id (Gemm), or nil.
    mutating func lowerQuantizedLinear(_ ctx: NodeContext, a: Int, b: Int, bias: Int?, transposed: Bool,
                                       outputDims: (ActivationShape) -> [Int]?) throws(ModelError) -> Bool {
        guard let input = fakeQuantized[a], let (sa, za) = input.parameters.perTensor,
              let (weights, scales) = integerWeights(b, transposed: transposed),
              case .activation(let sourceShape) = states[input.source], let dims = outputDims(sourceShape) else { return false }
        let (k, n) = transposed ? (weights.dims[1], weights.dims[0]) : (weights.dims[0], weights.dims[1])
        var integerBias: [Int32]?
        var floatBias: [Float]?
        if let bias {
            if let q = quantizedConstants[bias], q.elementType == .int32, q.values.count == n, q.dims.last == n {
                integerBias = q.values.map { Int32(truncatingIfNeeded: $0) }
            } else if case .constant(let c) = states[bias], let values = c.floats, values.count == n, c.dims.last == n {
                floatBias = values
            } else {
                return false
            }
        }
        try Self.checkInnerDimension(k, ctx)
        let output = try firstOutput(ctx)
        let zeroPoints = weights.zeroPoints.map { Int32($0) }
        let packed = store.quantized("quantized:\(output)", k: k, n: n) {
            weights.values.map { Int32($0) }.withUnsafeBufferPointer {
                QuantizedWeights(b: $0, k: k, n: n, zeroPoints: zeroPoints, transposed: transposed)
            }
        }
        let layer = QuantizedLinearLayer(
            weights: packed, weightScales: scales,
            input: .quantize(scale: sa, zeroPoint: za, offset: input.parameters.unsignedOffset),
            integerBias: integerBias, output: .scaled(bias: floatBias, activation: .identity))
        try emit(.quantizedLinear(layer), inputs: [input.source], output: output, shape: ActivationShape(dims: dims), ctx)
        return true
    }

    /// QLinearMatMul: quantized A (an integer activation) times constant quantized B, requantized.
    mutating func lowerQLinearMatMul(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let (a, aShape) = try activation(ctx, inputs, 0, "a", allowInteger: true)
        guard aShape.isInteger, let k = aShape.dims.last else {
            throw ctx.error(.invalidGraph, "a '\(names[a])' must be a quantized (integer) tensor of rank >= 2")
        }
        let aScale = try constant(ctx, inputs, 1, "a_scale")
        let aZero = try constant(ctx, inputs, 2, "a_zero_point")
        let b = try constant(ctx, inputs, 3, "b")
        let bScale = try constant(ctx, inputs, 4, "b_scale")
        let bZero = try constant(ctx, inputs, 5, "b_zero_point")
        let yScale = try constant(ctx, inputs, 6, "y_scale")
        let yZero = try constant(ctx, inputs, 7, "y_zero_point")
        guard b.dims.count == 2, b.elementType == .int8 || b.elementType == .uint8, let bValues = b.int64s else {
            throw ctx.unsupported("b must be a constant 2-D int8 or uint8 matrix [K, n], got \(b.elementType.name) with dims \(b.dims)")
        }
        let n = b.dims[1]
        guard b.dims[0] == k else { throw ctx.error(.invalidGraph, "a has K=\(k) columns but b has \(counted(b.dims[0], "row"))") }
        try Self.checkInnerDimension(k, ctx)
        func scalar(_ c: ConstantTensor, _ role: String) throws(ModelError) -> Float {
            guard c.count == 1, c.dims.count <= 1, let v = c.floats?.first else {
                throw ctx.unsupported("\(role) must be a scalar (per-tensor), got dims \(c.dims)")
            }
            return v
        }
        let (sa, za, sy, zy) = (try scalar(aScale, "a_scale"), try scalar(aZero, "a_zero_point"),
                                try scalar(yScale, "y_scale"), try scalar(yZero, "y_zero_point"))
        let (aLow, _) = try Self.range(aZero.elementType, ctx)
        let (yLow, yHigh) = try Self.range(yZero.elementType, ctx)
        guard let bScales = bScale.floats, bScale.count == 1 || bScale.count == n, let bZeros = bZero.int64s,
              bZero.count == bScale.count, bZero.elementType == b.elementType else {
            throw ctx.unsupported("b_scale and b_zero_point must be scalars or [\(n)] and b_zero_point of b's type")
        }
        let output = try firstOutput(ctx)
        let packed = store.quantized("quantized:\(output)", k: k, n: n) {
            bValues.map { Int32($0) }.withUnsafeBufferPointer {
                QuantizedWeights(b: $0, k: k, n: n, zeroPoints: bZeros.map { Int32($0) }, transposed: false)
            }
        }
        // (a_scale · b_scale) / y_scale in float, as onnxruntime computes the multiplier.
        let multipliers = bScales.map { sa * $0 / sy }
        let layer = QuantizedLinearLayer(
            weights: packed, weightScales: bScales, input: .values(zeroPoint: Int32(za), offset: aLow < 0 ? 128 : 0),
            integerBias: nil,
            output: .requantized(multipliers: multipliers, zeroPoint: Int32(zy), low: Int32(yLow), high: Int32(yHigh), output: .values))
        try emit(.quantizedLinear(layer), inputs: [a], output: output,
                 shape: ActivationShape(dims: Array(aShape.dims.dropLast()) + [n], isInteger: true), ctx)
    }
}
