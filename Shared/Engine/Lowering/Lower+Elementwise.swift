import Glibc
import Kernels

/// Add/Sub/Mul/Div, Relu/Sigmoid/Tanh and Cast. Constant operands are expanded once into the
/// row they repeat per batch item; constant-only nodes are folded.
extension GraphLowering {
    mutating func lowerBinary(_ kind: BinaryKind, _ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        if ctx.attribute("broadcast") != nil || ctx.attribute("axis") != nil {
            throw ctx.unsupported("the legacy 'broadcast'/'axis' attributes (opset < 7) are not supported")
        }
        let x = try required(ctx, inputs, 0, "A")
        let y = try required(ctx, inputs, 1, "B")
        let output = try firstOutput(ctx)
        switch (states[x], states[y]) {
        case (.constant(let a), .constant(let b)):
            if let shape = Broadcast.shape(a.dims, b.dims), (ConstantTensor.elementCount(shape) ?? .max) > ActivationShape.maxWidth {
                throw ctx.unsupported("folding constants of dims \(a.dims) and \(b.dims) would make a tensor of dims \(shape), too large")
            }
            guard let folded = Broadcast.fold(kind, a, b) else {
                throw ctx.error(.invalidGraph, "constant operands with dims \(a.dims) and \(b.dims) do not broadcast")
            }
            define(output, .constant(folded))
        case (.activation(let shape), .constant(let c)), (.constant(let c), .activation(let shape)):
            let constantFirst = if case .constant = states[x] { true } else { false }
            let activationID = constantFirst ? y : x
            try requireFloat(shape, ctx, names[activationID])
            let row = try constantRow(c, for: shape.dims, ctx)
            try emit(.binaryConstant(kind, row: row, constantFirst: constantFirst), inputs: [activationID],
                 output: output, shape: ActivationShape(dims: shape.dims), ctx)
        case (.activation(let a), .activation(let b)):
            try requireFloat(a, ctx, names[x])
            try requireFloat(b, ctx, names[y])
            guard a.dims == b.dims else {
                throw ctx.unsupported("\(kind.rawValue) of activations with shapes [N, \(a.dims)] and [N, \(b.dims)] "
                    + "is not supported; two activations must have the same shape")
            }
            try emit(.binary(kind), inputs: [x, y], output: output, shape: ActivationShape(dims: a.dims), ctx)
        default:
            throw ctx.error(.invalidGraph, "unexpected operand kinds")
        }
    }

    private func requireFloat(_ shape: ActivationShape, _ ctx: NodeContext, _ name: String) throws(ModelError) {
        if shape.isInteger {
            throw ctx.unsupported("arithmetic on the integer tensor '\(name)' is not supported (float tensors only)")
        }
    }

    /// The constant broadcast onto one batch item of shape `dims`; it may not expand the
    /// activation nor broadcast along the batch dimension.
    func constantRow(_ c: ConstantTensor, for dims: [Int], _ ctx: NodeContext) throws(ModelError) -> [Float] {
        let full = [1] + dims
        guard let values = c.floats else {
            throw ctx.unsupported("a string constant cannot be used in arithmetic")
        }
        guard c.dims.count <= full.count, Broadcast.shape(full, c.dims) == full else {
            throw ctx.unsupported("a constant with dims \(c.dims) does not broadcast onto the activation [N, "
                + "\(dims.map(String.init).joined(separator: ", "))] without changing its shape or the batch dimension")
        }
        return Broadcast.indexMap(from: c.dims, to: full).map { values[$0] }
    }

    mutating func lowerActivation(_ kind: Activation, _ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let x = try required(ctx, inputs, 0, "X")
        let output = try firstOutput(ctx)
        if case .constant(let c) = states[x] {
            guard let values = c.floats else { throw ctx.unsupported("a string constant cannot be an activation input") }
            define(output, .constant(ConstantTensor(floats: values.map { Self.scalar(kind, $0) }, dims: c.dims)))
            return
        }
        let (id, shape) = try activation(ctx, inputs, 0, "X")
        try emit(.activation(kind), inputs: [id], output: output, shape: shape, ctx)
    }

    /// Scalar forms for folding constants.
    static func scalar(_ kind: Activation, _ x: Float) -> Float {
        switch kind {
        case .identity: x
        case .relu: max(x, 0)
        case .sigmoid: 1 / (1 + expf(-x))
        case .tanh: tanhf(x)
        }
    }

    /// Cast to float, int64 or int32; other targets are rejected.
    mutating func lowerCast(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        guard ctx.attribute("to") != nil else { throw ctx.error(.invalidGraph, "missing attribute 'to'") }
        let to = try ctx.int("to", default: 0)
        let target = ElementType(code: Int32(truncatingIfNeeded: to))
        guard target == .float || target == .int64 || target == .int32 else {
            throw ctx.unsupported("Cast to \(target.name) is not supported; supported targets: float, int64, int32")
        }
        let x = try required(ctx, inputs, 0, "input")
        let output = try firstOutput(ctx)
        let toInteger = target != .float
        switch states[x] {
        case .constant(let c):
            if toInteger {
                guard let ints = c.int64s else { throw ctx.unsupported("Cast of strings is not supported") }
                define(output, .constant(ConstantTensor(dims: c.dims, elementType: target, storage: .int64(ints))))
            } else {
                guard let floats = c.floats else { throw ctx.unsupported("Cast of strings is not supported") }
                define(output, .constant(ConstantTensor(floats: floats, dims: c.dims)))
            }
        case .activation(let shape):
            let result = ActivationShape(dims: shape.dims, isInteger: toInteger)
            let op: LoweredOp = toInteger && !shape.isInteger ? .truncate : .alias
            try emit(op, inputs: [x], output: output, shape: result, ctx)
        case .opaque:
            throw ctx.error(.invalidGraph, "unexpected opaque input")
        }
    }
}
