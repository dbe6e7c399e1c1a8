/// Ops that work along an axis: Softmax, LogSoftmax, ArgMax, Concat. The axis may be any but
/// the batch axis; data stays row-major, so "along an axis" means groups of contiguous floats.
extension GraphLowering {
    /// opset < 13: softmax over the input coerced to 2-D at `axis` (default 1);
    /// opset >= 13: softmax along `axis` (default -1), supported when it is the last non-1 axis.
    mutating func lowerSoftmax(_ ctx: NodeContext, _ inputs: [Int?], log: Bool) throws(ModelError) {
        let (x, shape) = try activation(ctx, inputs, 0, "input")
        let full = [1] + shape.dims
        let axis = try ctx.axis("axis", default: ctx.opset < 13 ? 1 : -1, rank: full.count)
        guard axis >= 1 else {
            throw ctx.unsupported("softmax along axis 0 (the batch) is not supported")
        }
        if ctx.opset >= 13 && full[(axis + 1)...].reduce(1, *) != 1 {
            throw ctx.unsupported("softmax along axis \(axis) of [N, \(shape.dims)] is not supported; only the last axis is")
        }
        let cols = full[axis...].reduce(1, *)
        let id = try emit(.softmax(cols: cols, log: log), inputs: [x], output: try firstOutput(ctx), shape: shape, ctx)
        if !log, let input = fakeQuantized[x], input.parameters.low == 0, input.parameters.perTensor != nil {
            quantizedSoftmaxInputs[id] = (input: x, parameters: input.parameters, cols: cols)
        }
    }

    mutating func lowerArgMax(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let (x, shape) = try activation(ctx, inputs, 0, "data", allowInteger: true)
        let full = [1] + shape.dims
        let axis = try ctx.axis("axis", default: 0, rank: full.count)
        let keepDims = try ctx.int("keepdims", default: 1) != 0
        let selectLast = try ctx.int("select_last_index", default: 0) != 0
        guard axis >= 1 else {
            throw ctx.unsupported("ArgMax along axis 0 (the batch) is not supported")
        }
        let inner = full[(axis + 1)...].reduce(1, *)
        var dims = shape.dims
        if keepDims { dims[axis - 1] = 1 } else { dims.remove(at: axis - 1) }
        try emit(.argMax(axis: full[axis], inner: inner, selectLast: selectLast), inputs: [x],
             output: try firstOutput(ctx), shape: ActivationShape(dims: dims, isInteger: true), ctx)
    }

    mutating func lowerConcat(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        guard !inputs.isEmpty, inputs.allSatisfy({ $0 != nil }) else {
            throw ctx.error(.invalidGraph, "Concat needs at least one input and no empty input names")
        }
        guard ctx.attribute("axis") != nil else { throw ctx.error(.invalidGraph, "missing attribute 'axis'") }
        let ids = inputs.compactMap { $0 }
        let output = try firstOutput(ctx)
        let constants = ids.compactMap { id -> ConstantTensor? in
            if case .constant(let c) = states[id] { c } else { nil }
        }
        if constants.count == ids.count {
            define(output, .constant(try Self.concatConstants(constants, ctx)))
            return
        }
        guard constants.isEmpty else {
            throw ctx.unsupported("Concat of activations with constants is not supported")
        }
        var shapes: [ActivationShape] = []
        for index in ids.indices { shapes.append(try activation(ctx, inputs, index, "input \(index)", allowInteger: true).shape) }
        let full = shapes.map { [1] + $0.dims }
        let axis = try ctx.axis("axis", default: 0, rank: full[0].count)
        guard axis >= 1 else { throw ctx.unsupported("Concat along axis 0 (the batch) is not supported") }
        var dims = shapes[0].dims
        var pieces: [Int] = []
        for (index, f) in full.enumerated() {
            guard f.count == full[0].count, f.indices.allSatisfy({ $0 == axis || f[$0] == full[0][$0] }),
                  shapes[index].isInteger == shapes[0].isInteger else {
                throw ctx.error(.invalidGraph, "input \(index) has shape [N, \(shapes[index].dims)], which does not match [N, \(shapes[0].dims)] outside axis \(axis)")
            }
            pieces.append(f[axis...].reduce(1, *))
            if index > 0 { dims[axis - 1] += f[axis] }
        }
        let outer = full[0][1..<axis].reduce(1, *)
        try emit(.concat(outer: outer, pieces: pieces), inputs: ids, output: output,
             shape: ActivationShape(dims: dims, isInteger: shapes[0].isInteger), ctx)
    }

    private static func concatConstants(_ parts: [ConstantTensor], _ ctx: NodeContext) throws(ModelError) -> ConstantTensor {
        let rank = parts[0].dims.count
        guard rank > 0 else { throw ctx.error(.invalidGraph, "Concat of scalars") }
        let axis = try ctx.axis("axis", default: 0, rank: rank)
        let first = parts[0].dims
        guard parts.allSatisfy({ p in
            !p.isString && p.dims.count == rank && p.dims.indices.allSatisfy { $0 == axis || p.dims[$0] == first[$0] }
        }) else {
            throw ctx.error(.invalidGraph, "Concat of constants with mismatched dims \(parts.map(\.dims))")
        }
        let allInts = parts.allSatisfy { if case .int64 = $0.storage { true } else { false } }
        var dims = first
        dims[axis] = parts.reduce(0) { $0 + $1.dims[axis] }
        // Dims any constant may have (their products cannot overflow later); and an empty result
        // is made without walking its outer dims (up to 2^31 rounds of nothing).
        guard let count = ConstantTensor.elementCount(dims) else {
            throw ctx.unsupported("Concat of constants with dims \(parts.map(\.dims)) would make dims \(dims), too large")
        }
        let outer = count == 0 ? 0 : first[..<axis].reduce(1, *)
        if allInts {
            let values = parts.map { $0.int64s ?? [] }
            return ConstantTensor(ints: interleave(values, parts, axis: axis, outer: outer), dims: dims)
        }
        let values = parts.map { $0.floats ?? [] }
        return ConstantTensor(floats: interleave(values, parts, axis: axis, outer: outer), dims: dims)
    }

    private static func interleave<T>(_ values: [[T]], _ parts: [ConstantTensor], axis: Int, outer: Int) -> [T] {
        var out: [T] = []
        for o in 0..<outer {
            for (part, v) in zip(parts, values) {
                let piece = part.dims[axis...].reduce(1, *)
                out += v[(o * piece)..<((o + 1) * piece)]
            }
        }
        return out
    }
}
