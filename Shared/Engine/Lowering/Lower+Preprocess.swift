/// The preprocessing ops of exported scikit-learn pipelines: Scaler, Imputer, OneHotEncoder,
/// and column selection (Gather on axis 1, ArrayFeatureExtractor with constant indices), which
/// skl2onnx emits for a ColumnTransformer over one float tensor.
extension GraphLowering {
    /// Scaler: `(X - offset) * scale`, each a single value or one per column; lowered to the
    /// same two element-wise steps (same roundings) onnxruntime performs.
    mutating func lowerScaler(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let (x, shape) = try activation(ctx, inputs, 0, "X", allowInteger: true)
        guard shape.dims.count == 1 else { throw ctx.unsupported("X must be 2-D [N, C], got rank \(shape.dims.count + 1)") }
        let width = shape.dims[0]
        let offset = try columnRow(ctx, "offset", width: width, default: 0)
        let scale = try columnRow(ctx, "scale", width: width, default: 1)
        let shifted = try emit(.binaryConstant(.sub, row: offset, constantFirst: false), inputs: [x],
                               output: internalName(ctx, "shifted"), shape: ActivationShape(dims: [width]), ctx)
        try emit(.binaryConstant(.mul, row: scale, constantFirst: false), inputs: [shifted], output: try firstOutput(ctx),
                 shape: ActivationShape(dims: [width]), ctx)
    }

    /// Imputer on floats: `imputed_value_floats` (one, or one per column) replace NaN
    /// (`replaced_value_float` NaN) or values equal to `replaced_value_float`.
    mutating func lowerImputer(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let (x, shape) = try activation(ctx, inputs, 0, "X")
        guard shape.dims.count == 1 else { throw ctx.unsupported("X must be 2-D [N, C], got rank \(shape.dims.count + 1)") }
        if ctx.attribute("imputed_value_int64s") != nil {
            throw ctx.unsupported("imputed_value_int64s (integer imputation) is not supported; float inputs with imputed_value_floats are")
        }
        guard let floats = try ctx.floats("imputed_value_floats"), !floats.isEmpty else {
            throw ctx.error(.invalidGraph, "missing attribute 'imputed_value_floats'")
        }
        let row = try columnRow(ctx, "imputed_value_floats", width: shape.dims[0], default: 0)
        let replaced = try ctx.float("replaced_value_float", default: 0)
        try emit(.impute(row: row, replaced: replaced), inputs: [x], output: try firstOutput(ctx), shape: shape, ctx)
    }

    /// OneHotEncoder with integer categories: [N, …] → [N, …, categories].
    mutating func lowerOneHotEncoder(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let (x, shape) = try activation(ctx, inputs, 0, "X", allowInteger: true)
        guard let cats = try ctx.ints("cats_int64s"), !cats.isEmpty else {
            throw ctx.unsupported("OneHotEncoder is supported with cats_int64s only (numeric inputs); cats_strings needs string inputs")
        }
        let categories = cats.map { Float($0) }
        for (c, f) in zip(cats, categories) where Int64(exactly: f) != c {
            throw ctx.unsupported("category \(c) is not exactly representable as a float32; categories up to 2^24 are supported")
        }
        let zeros = try ctx.int("zeros", default: 1) != 0
        try emit(.oneHot(categories: categories, zeros: zeros), inputs: [x], output: try firstOutput(ctx),
                 shape: ActivationShape(dims: shape.dims + [cats.count]), ctx)
    }

    /// Gather of constant indices along the last axis of an activation [N, C] (column selection).
    mutating func lowerGather(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let dataID = try required(ctx, inputs, 0, "data")
        guard case .activation(let shape) = states[dataID] else {
            throw ctx.unsupported("Gather is supported on the batch of activations (column selection) only")
        }
        let full = [1] + shape.dims
        let axis = try ctx.axis("axis", default: 0, rank: full.count)
        guard axis == 1, shape.dims.count == 1 else {
            throw ctx.unsupported("Gather along axis \(axis) of [N, \(shape.dims)] is not supported; only axis 1 of a 2-D [N, C] input is")
        }
        let indices = try constant(ctx, inputs, 1, "indices")
        let columns = try columnIndices(ctx, indices, width: shape.dims[0])
        try emit(.selectColumns(indices: columns), inputs: [dataID], output: try firstOutput(ctx),
                 shape: ActivationShape(dims: indices.dims, isInteger: shape.isInteger), ctx)
    }

    /// ArrayFeatureExtractor selecting constant columns of an activation [N, C] → [N, count].
    mutating func lowerColumnExtractor(_ ctx: NodeContext, _ x: Int, _ shape: ActivationShape, _ inputs: [Int?]) throws(ModelError) {
        guard shape.dims.count == 1 else {
            throw ctx.unsupported("ArrayFeatureExtractor on an activation is supported for 2-D [N, C] inputs only")
        }
        let indices = try constant(ctx, inputs, 1, "Y")
        let columns = try columnIndices(ctx, indices, width: shape.dims[0])
        try emit(.selectColumns(indices: columns), inputs: [x], output: try firstOutput(ctx),
                 shape: ActivationShape(dims: [columns.count], isInteger: shape.isInteger), ctx)
    }

    private func columnIndices(_ ctx: NodeContext, _ tensor: ConstantTensor, width: Int) throws(ModelError) -> [Int] {
        guard tensor.elementType.isInteger, let values = tensor.int64s, !values.isEmpty else {
            throw ctx.error(.invalidGraph, "indices must be a non-empty integer tensor")
        }
        var columns: [Int] = []
        for v in values {
            let c = v < 0 ? v + Int64(width) : v
            guard c >= 0, c < Int64(width) else {
                throw ctx.error(.invalidGraph, "index \(v) is out of range for \(width) columns")
            }
            columns.append(Int(c))
        }
        return columns
    }

    /// A float-list attribute as one value per column: a single value repeats; absent → `value`.
    private func columnRow(_ ctx: NodeContext, _ name: String, width: Int, default value: Float) throws(ModelError) -> [Float] {
        let values = try ctx.floats(name) ?? [value]
        if values.count == 1 { return [Float](repeating: values[0], count: width) }
        guard values.count == width else {
            throw ctx.error(.invalidGraph, "\(name) has \(values.count) values for \(width) columns (need 1 or \(width))")
        }
        return values
    }
}
