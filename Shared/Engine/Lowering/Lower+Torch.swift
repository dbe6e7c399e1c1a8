/// Ops PyTorch's exporters emit for MLPs beyond the linear ones: Erf (the opset < 20 Gelu
/// decomposition), Gelu (opset 20), and BatchNormalization in inference form.
extension GraphLowering {
    mutating func lowerUnary(_ kind: UnaryKind, _ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let x = try required(ctx, inputs, 0, "input")
        let output = try firstOutput(ctx)
        if case .constant(let c) = states[x] {
            guard let values = c.floats else { throw ctx.unsupported("a string constant cannot be an input of \(kind.rawValue)") }
            define(output, .constant(ConstantTensor(floats: values.map { UnaryKernels.scalar(kind, $0) }, dims: c.dims)))
            return
        }
        let (id, shape) = try activation(ctx, inputs, 0, "input")
        try emit(.unary(kind), inputs: [id], output: output, shape: shape, ctx)
    }

    mutating func lowerGelu(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let approximate = try ctx.string("approximate", default: "none")
        switch approximate {
        case "none": try lowerUnary(.gelu, ctx, inputs)
        case "tanh": try lowerUnary(.geluTanh, ctx, inputs)
        default: throw ctx.unsupported("approximate='\(approximate)' is not supported; supported: none, tanh")
        }
    }

    /// Inference BatchNormalization over channel axis 1: `x · s + (B - mean · s)` with
    /// `s = scale / sqrt(var + epsilon)`, computed in Float as onnxruntime does. Lowered to a
    /// Mul and an Add of constant rows, which `LinearFusion` folds into a preceding Gemm/MatMul.
    mutating func lowerBatchNormalization(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        if try ctx.int("training_mode", default: 0) != 0 {
            throw ctx.unsupported("training_mode=1 is not supported; export the model in eval mode")
        }
        if ctx.opset < 9, try ctx.int("spatial", default: 1) != 1 {
            throw ctx.unsupported("spatial=0 is not supported")
        }
        if ctx.node.outputs.dropFirst().contains(where: { !$0.isEmpty }) {
            throw ctx.unsupported("the running mean/variance outputs (training) are not supported")
        }
        let (x, shape) = try activation(ctx, inputs, 0, "X")
        guard let channels = shape.dims.first else { throw ctx.unsupported("X must have a channel axis: [N, C, …]") }
        let epsilon = try ctx.float("epsilon", default: 1e-5)
        var params: [[Float]] = []
        for (index, role) in [(1, "scale"), (2, "B"), (3, "input_mean"), (4, "input_var")] {
            let c = try constant(ctx, inputs, index, role)
            guard let values = c.floats, values.count == channels else {
                throw ctx.error(.invalidGraph, "\(role) must hold \(counted(channels, "value")) (one per channel), got \(c.count)")
            }
            params.append(values)
        }
        let (scale, bias, mean, variance) = (params[0], params[1], params[2], params[3])
        let s = (0..<channels).map { scale[$0] * (1 / (variance[$0] + epsilon).squareRoot()) }
        let b = (0..<channels).map { bias[$0] - mean[$0] * s[$0] }
        let inner = shape.width / channels
        let sRow = s.flatMap { [Float](repeating: $0, count: inner) }
        let bRow = b.flatMap { [Float](repeating: $0, count: inner) }
        let scaled = try emit(.binaryConstant(.mul, row: sRow, constantFirst: false), inputs: [x],
                              output: internalName(ctx, "scaled"), shape: shape, ctx)
        try emit(.binaryConstant(.add, row: bRow, constantFirst: false), inputs: [scaled], output: try firstOutput(ctx),
                 shape: shape, ctx)
    }
}
