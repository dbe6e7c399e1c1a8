import Kernels

/// Gemm and MatMul: the activation times a constant weight matrix, packed once at load.
extension GraphLowering {
    static func pack(_ w: [Float], k: Int, n: Int, transposed: Bool) -> PackedWeights {
        w.withUnsafeBufferPointer { PackedWeights(b: $0, k: k, n: n, transposed: transposed) }
    }

    /// The weights of the linear layer producing `output`, packed from the constant `b` (scaled
    /// by `alpha`), or taken from the weight cache: then `b`'s bytes are not even read.
    func packedWeights(_ b: ConstantTensor, k: Int, n: Int, transposed: Bool, alpha: Float = 1,
                       output: String) -> PackedWeights {
        store.packed("linear:\(output)", k: k, n: n) {
            b.withFloats { w in
                if alpha == 1 { return PackedWeights(b: w, k: k, n: n, transposed: transposed) }
                return Self.pack(w.map { $0 * alpha }, k: k, n: n, transposed: transposed)
            }!  // the caller checked that b is numeric
        }
    }

    /// `Y = alpha · A · op(B) + beta · C`, A the activation [N, K], B a constant, C a constant
    /// broadcast as [n], [1, n] or a scalar.
    mutating func lowerGemm(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let alpha = try ctx.float("alpha", default: 1)
        let beta = try ctx.float("beta", default: 1)
        let transA = try ctx.int("transA", default: 0)
        let transB = try ctx.int("transB", default: 0)
        if ctx.attribute("broadcast") != nil && ctx.opset < 7 {
            throw ctx.unsupported("the legacy 'broadcast' attribute (opset < 7) is not supported")
        }
        let (a, aShape) = try activation(ctx, inputs, 0, "A")
        guard transA == 0 else {
            throw ctx.unsupported("transA=\(transA) is not supported: A is the batch of activations [N, K]")
        }
        guard aShape.dims.count == 1 else {
            throw ctx.error(.invalidGraph, "A must be 2-D [N, K], got rank \(aShape.dims.count + 1)")
        }
        let b = try constant(ctx, inputs, 1, "B")
        guard b.dims.count == 2, !b.isString else {
            throw ctx.error(.invalidGraph, "B must be a 2-D numeric matrix, got dims \(b.dims)")
        }
        let (k, n) = transB != 0 ? (b.dims[1], b.dims[0]) : (b.dims[0], b.dims[1])
        guard k == aShape.dims[0] else {
            throw ctx.error(.invalidGraph, "A has \(counted(aShape.dims[0], "column")) but B has K=\(k) (transB=\(transB))")
        }
        if alpha == 1 && beta == 1,
           try lowerQuantizedLinear(ctx, a: a, b: try required(ctx, inputs, 1, "B"), bias: optional(inputs, 2),
                                    transposed: transB != 0, outputDims: { $0.dims == [k] ? [n] : nil }) {
            return
        }
        var bias: [Float]?
        if let c = optional(inputs, 2), beta != 0 {
            guard case .constant(let tensor) = states[c] else {
                throw ctx.unsupported("input 2 (C) '\(names[c])' must be a constant bias; a computed C is not supported")
            }
            bias = try Self.gemmBias(tensor, n: n, beta: beta, ctx)
        }
        let output = try firstOutput(ctx)
        let layer = LinearLayer(weights: packedWeights(b, k: k, n: n, transposed: transB != 0, alpha: alpha, output: output),
                                bias: bias, activation: .identity)
        try emit(.linear(layer), inputs: [a], output: output, shape: ActivationShape(dims: [n]), ctx)
    }

    /// C as one bias row of `n` floats (scaled by beta): a scalar, [n], [1, n], [1] or [1, 1].
    private static func gemmBias(_ c: ConstantTensor, n: Int, beta: Float, _ ctx: NodeContext) throws(ModelError) -> [Float] {
        guard let values = c.floats else { throw ctx.error(.invalidGraph, "C must be numeric") }
        let dims = c.dims
        let row: [Float]
        if values.count == 1 && dims.count <= 2 {
            row = [Float](repeating: values[0], count: n)
        } else if values.count == n && (dims == [n] || dims == [1, n]) {
            row = values
        } else {
            throw ctx.unsupported("C with dims \(dims) is not supported; C must be a scalar, [\(n)] or [1, \(n)]")
        }
        return beta == 1 ? row : row.map { $0 * beta }
    }

    /// `A · B` with A the activation [N, …, K] and B a constant [K, n] (or [K]).
    mutating func lowerMatMul(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let aID = try required(ctx, inputs, 0, "A")
        let bID = try required(ctx, inputs, 1, "B")
        switch (states[aID], states[bID]) {
        case (.activation, .activation):
            throw ctx.unsupported("MatMul of two activations (batched MatMul) is not supported; B must be a constant matrix")
        case (.constant, .activation):
            throw ctx.unsupported("MatMul with the activation as B is not supported; A must be the activation, B a constant matrix")
        case (.constant, .constant):
            throw ctx.unsupported("MatMul of two constants is not folded; only the activation times a constant matrix is supported")
        default: break
        }
        let (a, aShape) = try activation(ctx, inputs, 0, "A")
        let b = try constant(ctx, inputs, 1, "B")
        guard let k = aShape.dims.last else {
            throw ctx.unsupported("MatMul with a 1-D A (the batch itself) is not supported")
        }
        guard !b.isString, b.dims.count == 1 || b.dims.count == 2 else {
            throw ctx.unsupported("B with dims \(b.dims) is not supported; B must be a constant 2-D matrix [K, n] (or 1-D [K])")
        }
        guard b.dims[0] == k else {
            throw ctx.error(.invalidGraph, "A has K=\(k) columns but B has \(counted(b.dims[0], "row"))")
        }
        let n = b.dims.count == 2 ? b.dims[1] : 1
        let outDims = Array(aShape.dims.dropLast()) + (b.dims.count == 2 ? [n] : [])
        if b.dims.count == 2,
           try lowerQuantizedLinear(ctx, a: a, b: bID, bias: nil, transposed: false,
                                    outputDims: { $0.dims.last == k ? outDims : nil }) {
            return
        }
        let output = try firstOutput(ctx)
        let layer = LinearLayer(weights: packedWeights(b, k: k, n: n, transposed: false, output: output), bias: nil,
                                activation: .identity)
        try emit(.linear(layer), inputs: [a], output: output, shape: ActivationShape(dims: outDims), ctx)
    }
}
