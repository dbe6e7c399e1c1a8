/// Ops that only rename or reshape data (Identity, Dropout, Reshape, Flatten), Concat, and
/// Constant. On activations the first dimension must stay the batch; on constants they fold.
extension GraphLowering {
    /// Defines `output` as the same data as `input`, new shape: a constant stays constant.
    private mutating func alias(_ input: Int, to output: String, dims: [Int], _ ctx: NodeContext) throws(ModelError) {
        switch states[input] {
        case .constant(var c):
            c.dims = dims
            define(output, .constant(c))
        case .activation(let shape):
            try emit(.alias, inputs: [input], output: output, shape: ActivationShape(dims: dims, isInteger: shape.isInteger), ctx)
        case .opaque(let o):
            define(output, .opaque(o))
        }
    }

    private func itemDims(_ id: Int) -> [Int] {
        switch states[id] {
        case .constant(let c): c.dims
        case .activation(let shape): shape.dims
        case .opaque: []
        }
    }

    mutating func lowerIdentity(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let x = try required(ctx, inputs, 0, "input")
        try alias(x, to: try firstOutput(ctx), dims: itemDims(x), ctx)
    }

    /// Inference-mode Dropout is the identity; the mask output is not computed.
    mutating func lowerDropout(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        if let mode = optional(inputs, 2) {
            guard case .constant(let c) = states[mode], let flags = c.int64s, flags.allSatisfy({ $0 == 0 }) else {
                throw ctx.unsupported("training_mode must be a constant false; training-mode Dropout is not supported")
            }
        }
        let x = try required(ctx, inputs, 0, "data")
        try alias(x, to: try firstOutput(ctx), dims: itemDims(x), ctx)
        if let mask = outputName(ctx, 1) {
            define(mask, .opaque(OpaqueValue(typeName: "tensor(bool)", reason: "is a Dropout mask, which inference does not compute")))
        }
    }

    mutating func lowerReshape(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let x = try required(ctx, inputs, 0, "data")
        let target: [Int64]
        if ctx.opset < 5 {
            guard let shape = try ctx.ints("shape") else { throw ctx.error(.invalidGraph, "missing attribute 'shape'") }
            target = shape
        } else {
            let tensor = try constant(ctx, inputs, 1, "shape")
            guard tensor.elementType.isInteger, let shape = tensor.int64s else {
                throw ctx.error(.invalidGraph, "the shape input must be an int64 tensor")
            }
            target = shape
        }
        let allowZero = try ctx.int("allowzero", default: 0) != 0
        let output = try firstOutput(ctx)
        switch states[x] {
        case .constant(let c):
            try alias(x, to: output, dims: try Self.resolveReshape(c.dims, target, allowZero: allowZero, ctx), ctx)
        case .activation(let shape):
            guard let first = target.first, first == 0 && !allowZero || first == -1 else {
                let shown = target.first.map { "\($0)" } ?? "none (a scalar)"
                throw ctx.unsupported("Reshape to \(target) is not supported: the first dimension (here \(shown)) "
                    + "must stay the batch, written 0 or -1")
            }
            // Resolve with the batch as 1: a 0 copies it, a -1 there must come out as 1.
            let resolved = try Self.resolveReshape([1] + shape.dims, target, allowZero: allowZero, ctx)
            guard resolved[0] == 1 else {
                throw ctx.unsupported("Reshape to \(target) would merge items of the batch (first dimension N×\(resolved[0])); not supported")
            }
            try alias(x, to: output, dims: Array(resolved.dropFirst()), ctx)
        case .opaque:
            throw ctx.error(.invalidGraph, "unexpected opaque input")
        }
    }

    /// ONNX Reshape semantics on a static shape: 0 copies the input dimension, -1 is inferred.
    static func resolveReshape(_ input: [Int], _ target: [Int64], allowZero: Bool,
                               _ ctx: NodeContext) throws(ModelError) -> [Int] {
        var out: [Int] = []
        var inferred: Int?
        for (i, t) in target.enumerated() {
            if t == -1 {
                guard inferred == nil else { throw ctx.error(.invalidGraph, "shape \(target) has more than one -1") }
                inferred = i
                out.append(1)
            } else if t == 0 && !allowZero {
                guard i < input.count else { throw ctx.error(.invalidGraph, "shape \(target) copies dimension \(i), which the input lacks") }
                out.append(input[i])
            } else if t <= 0 || t > Int64(Int32.max) {
                throw ctx.unsupported("shape \(target) has a dimension \(t); empty or negative dimensions are not supported")
            } else {
                out.append(Int(t))
            }
        }
        let total = input.reduce(1, *)
        guard let known = ConstantTensor.elementCount(out) else {
            throw ctx.unsupported("shape \(target) is too large")
        }
        if let j = inferred {
            guard known > 0, total % known == 0 else {
                throw ctx.error(.invalidGraph, "cannot reshape \(input) to \(target)")
            }
            out[j] = total / known
        }
        guard out.reduce(1, *) == total else { throw ctx.error(.invalidGraph, "cannot reshape \(input) to \(target)") }
        return out
    }

    mutating func lowerFlatten(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let x = try required(ctx, inputs, 0, "input")
        let isConstant = if case .constant = states[x] { true } else { false }
        let full = isConstant ? itemDims(x) : [1] + itemDims(x)
        let rank = full.count
        let raw = try ctx.int("axis", default: 1)
        guard raw >= -Int64(rank), raw <= Int64(rank) else {
            throw ctx.error(.invalidGraph, "axis=\(raw) is out of range for rank \(rank)")
        }
        let axis = Int(raw < 0 ? raw + Int64(rank) : raw)
        let outer = full[..<axis].reduce(1, *)
        let inner = full[axis...].reduce(1, *)
        if isConstant {
            try alias(x, to: try firstOutput(ctx), dims: [outer, inner], ctx)
            return
        }
        guard axis >= 1, outer == 1 else {
            throw ctx.unsupported("Flatten with axis=\(raw) would merge the batch dimension with others; only axis=1 (or an equivalent) is supported")
        }
        try alias(x, to: try firstOutput(ctx), dims: [inner], ctx)
    }

    mutating func lowerConstant(_ ctx: NodeContext) throws(ModelError) {
        let output = try firstOutput(ctx)
        if let tensor = try ctx.tensor("value") {
            define(output, .constant(tensor))
        } else if let f = ctx.attribute("value_float") {
            define(output, .constant(ConstantTensor(floats: [try ctx.float(f.name, default: 0)], dims: [])))
        } else if let floats = try ctx.floats("value_floats") {
            define(output, .constant(ConstantTensor(floats: floats, dims: [floats.count])))
        } else if let i = ctx.attribute("value_int") {
            define(output, .constant(ConstantTensor(ints: [try ctx.int(i.name, default: 0)], dims: [])))
        } else if let ints = try ctx.ints("value_ints") {
            define(output, .constant(ConstantTensor(ints: ints, dims: [ints.count])))
        } else if ctx.attribute("value_string") != nil {
            let s = try ctx.string("value_string", default: "")
            define(output, .constant(ConstantTensor(dims: [], elementType: .string, storage: .string([s]))))
        } else if let strings = try ctx.strings("value_strings") {
            define(output, .constant(ConstantTensor(dims: [strings.count], elementType: .string, storage: .string(strings))))
        } else {
            throw ctx.unsupported("a Constant needs one of value, value_float(s), value_int(s), value_string(s); sparse_value is not supported")
        }
    }
}
