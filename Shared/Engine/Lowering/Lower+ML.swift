import Kernels

/// ai.onnx.ml operators. Where the ONNX-ML spec is silent (the binary LinearClassifier, the
/// single-target LinearRegressor's post_transform, Normalizer details) the engine does what
/// onnxruntime does, since that is what users compare against.
extension GraphLowering {
    enum PostTransform: String { case none = "NONE", logistic = "LOGISTIC", softmax = "SOFTMAX", softmaxZero = "SOFTMAX_ZERO" }

    private func postTransform(_ ctx: NodeContext) throws(ModelError) -> PostTransform {
        let text = try ctx.string("post_transform", default: "NONE")
        guard let value = PostTransform(rawValue: text) else {
            throw ctx.unsupported("post_transform '\(text)' is not supported; supported: NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO")
        }
        return value
    }

    /// `[N, C]` float input of an ML op.
    private func matrixInput(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) -> (id: Int, width: Int) {
        let (x, shape) = try activation(ctx, inputs, 0, "X", allowInteger: true)
        guard shape.dims.count == 1 else {
            throw ctx.unsupported("X must be 2-D [N, C], got rank \(shape.dims.count + 1)")
        }
        return (x, shape.dims[0])
    }

    /// Scores `X · coefficientsᵀ + intercepts` as a linear layer over `targets` rows of coefficients.
    private mutating func linearScores(_ ctx: NodeContext, x: Int, width: Int, coefficients: [Float],
                                       intercepts: [Float], targets: Int, name: String) throws(ModelError) -> Int {
        guard targets > 0, coefficients.count == targets * width else {
            throw ctx.error(.invalidGraph, "\(counted(coefficients.count, "coefficient")) do not make \(counted(targets, "row")) of \(counted(width, "feature"))")
        }
        guard intercepts.isEmpty || intercepts.count == targets else {
            throw ctx.error(.invalidGraph, "\(counted(intercepts.count, "intercept")) for \(counted(targets, "target"))")
        }
        let weights = store.packed("linear:\(name)", k: width, n: targets) {
            Self.pack(coefficients, k: width, n: targets, transposed: true)
        }
        let layer = LinearLayer(weights: weights, bias: intercepts.isEmpty ? nil : intercepts, activation: .identity)
        return try emit(.linear(layer), inputs: [x], output: name, shape: ActivationShape(dims: [targets]), ctx)
    }

    /// Applies `transform` to scores [N, cols]; `.none` is an alias.
    private mutating func transformScores(_ transform: PostTransform, _ scores: Int, cols: Int, output: String,
                                          _ ctx: NodeContext) throws(ModelError) {
        let op: LoweredOp = switch transform {
        case .none: .alias
        case .logistic: .activation(.sigmoid)
        case .softmax: .softmax(cols: cols, log: false)
        case .softmaxZero: .softmaxZero(cols: cols)
        }
        try emit(op, inputs: [scores], output: output, shape: ActivationShape(dims: [cols]), ctx)
    }

    mutating func lowerLinearClassifier(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let (x, width) = try matrixInput(ctx, inputs)
        guard let coefficients = try ctx.floats("coefficients"), !coefficients.isEmpty else {
            throw ctx.error(.invalidGraph, "missing attribute 'coefficients'")
        }
        let intercepts = try ctx.floats("intercepts") ?? []
        let intLabels = try ctx.ints("classlabels_ints")
        let stringLabels = try ctx.strings("classlabels_strings")
        guard (intLabels == nil) != (stringLabels == nil) else {
            throw ctx.error(.invalidGraph, "exactly one of classlabels_ints and classlabels_strings must be set")
        }
        let labelCount = intLabels?.count ?? stringLabels?.count ?? 0
        let targets = intercepts.isEmpty ? coefficients.count / max(width, 1) : intercepts.count
        let transform = try postTransform(ctx)
        let binary = targets == 1
        guard binary ? labelCount == 2 : labelCount == targets else {
            throw ctx.error(.invalidGraph, "\(counted(labelCount, "class label")) for \(counted(targets, "coefficient row")) "
                + "(need one label per row, or 2 labels for a single row)")
        }
        noteClassLabels(ints: intLabels, strings: stringLabels)
        let raw = try linearScores(ctx, x: x, width: width, coefficients: coefficients, intercepts: intercepts,
                                   targets: targets, name: internalName(ctx, "scores"))
        if let z = outputName(ctx, 1) {
            if binary {
                // onnxruntime: one score s becomes [1 - s, s], or [1 - σ(s), σ(s)] with LOGISTIC;
                // SOFTMAX and SOFTMAX_ZERO leave it as [1 - s, s].
                try emit(.binaryScores(logistic: transform == .logistic), inputs: [raw], output: z,
                     shape: ActivationShape(dims: [2]), ctx)
            } else {
                try transformScores(transform, raw, cols: targets, output: z, ctx)
            }
        }
        if let y = outputName(ctx, 0) {
            if let intLabels {
                try emit(.classLabel(labels: intLabels.map { Float($0) }), inputs: [raw], output: y,
                     shape: ActivationShape(dims: [], isInteger: true), ctx)
            } else {
                define(y, .opaque(OpaqueValue(typeName: "tensor(string)", reason: "holds string class labels, which the engine does not compute")))
            }
        }
    }

    mutating func lowerLinearRegressor(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let (x, width) = try matrixInput(ctx, inputs)
        guard let coefficients = try ctx.floats("coefficients"), !coefficients.isEmpty else {
            throw ctx.error(.invalidGraph, "missing attribute 'coefficients'")
        }
        let intercepts = try ctx.floats("intercepts") ?? []
        let targets = try ctx.int("targets", default: 1)
        guard targets >= 1, targets <= Int64(coefficients.count) else {
            throw ctx.error(.invalidGraph, "targets=\(targets) does not fit \(coefficients.count) coefficients")
        }
        let transform = try postTransform(ctx)
        let output = try firstOutput(ctx)
        if targets == 1 || transform == .none {
            // onnxruntime ignores post_transform for a single target.
            _ = try linearScores(ctx, x: x, width: width, coefficients: coefficients, intercepts: intercepts,
                                 targets: Int(targets), name: output)
            return
        }
        let raw = try linearScores(ctx, x: x, width: width, coefficients: coefficients, intercepts: intercepts,
                                   targets: Int(targets), name: internalName(ctx, "scores"))
        try transformScores(transform, raw, cols: Int(targets), output: output, ctx)
    }

    mutating func lowerNormalizer(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let (x, width) = try matrixInput(ctx, inputs)
        let text = try ctx.string("norm", default: "MAX")
        guard let norm = NormKind(rawValue: text) else {
            throw ctx.unsupported("norm '\(text)' is not supported; supported: MAX, L1, L2")
        }
        try emit(.normalize(norm), inputs: [x], output: try firstOutput(ctx), shape: ActivationShape(dims: [width]), ctx)
    }

    /// ZipMap's output (a sequence of maps) is recognised, not computed: the float tensor feeding
    /// it is what a session reads instead.
    mutating func lowerZipMap(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let (x, width) = try matrixInput(ctx, inputs)
        let ints = try ctx.ints("classlabels_int64s")
        let strings = try ctx.strings("classlabels_strings")
        guard (ints == nil) != (strings == nil), (ints?.count ?? strings?.count) == width else {
            throw ctx.error(.invalidGraph, "ZipMap needs exactly one of classlabels_int64s / classlabels_strings with \(width) labels")
        }
        noteClassLabels(ints: ints, strings: strings)
        let key = ints == nil ? "string" : "int64"
        define(try firstOutput(ctx), .opaque(OpaqueValue(
            typeName: "seq(map(\(key),tensor(float)))",
            reason: "is a ZipMap output (a sequence of maps); select its input '\(names[x])', the float probability tensor, instead",
            zipMapInput: names[x])))
    }

    /// ArrayFeatureExtractor with a constant 1-D table (skl2onnx's class labels) and computed
    /// indices: looks each index up. onnxruntime shapes the result [1, count]; the engine keeps
    /// the indices' batch-first shape (same values, same order).
    mutating func lowerArrayFeatureExtractor(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let tableID = try required(ctx, inputs, 0, "X")
        if case .activation(let shape) = states[tableID] {
            try lowerColumnExtractor(ctx, tableID, shape, inputs)
            return
        }
        guard case .constant(let table) = states[tableID], table.dims.count == 1 else {
            throw ctx.unsupported("ArrayFeatureExtractor is supported with a constant 1-D X (a label table) only")
        }
        let (indices, shape) = try activation(ctx, inputs, 1, "Y", allowInteger: true)
        let output = try firstOutput(ctx)
        switch table.storage {
        case .int64(let labels): noteClassLabels(ints: labels, strings: nil)
        case .string(let labels): noteClassLabels(ints: nil, strings: labels)
        case .float, .floatView: break
        }
        guard let values = table.floats else {
            define(output, .opaque(OpaqueValue(typeName: "tensor(string)", reason: "holds string class labels, which the engine does not compute")))
            return
        }
        try emit(.gather(table: values), inputs: [indices], output: output,
             shape: ActivationShape(dims: shape.dims, isInteger: table.elementType.isInteger), ctx)
    }
}
