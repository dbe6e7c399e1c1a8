/// Turns a decoded GraphProto into the engine's lowered graph: every value gets a `ValueState`
/// (activation with a static per-item shape, constant, or opaque) and every node becomes zero or
/// more `LoweredNode`s. Constant-only subgraphs are folded here, so sessions never see them.
struct GraphLowering {
    var names: [String] = []
    var states: [ValueState] = []
    var ids: [String: Int] = [:]
    var nodes: [LoweredNode] = []
    /// The class labels of every classifier node (and label table) lowered, in graph order.
    var classLabels: [ModelClassLabels] = []
    /// Opset versions in force for the default and the ai.onnx.ml domains.
    var defaultOpset: Int64
    var mlOpset: Int64
    /// The model file's bytes, which large initializers (and tensor attributes) are views into.
    let bytes: ModelBytes
    /// Where packed weights and tree arrays come from (built here, or a weight cache).
    let store: WeightStore
    /// Values inside a `quantize_dynamic` layer being matched (see `QuantizedPart`).
    var quantizedParts: [Int: QuantizedPart] = [:]
    /// Constants that a DequantizeLinear folded, with their integer form (QDQ weights and biases).
    var quantizedConstants: [Int: QuantizedConstant] = [:]
    /// QuantizeLinear outputs (whole-number activations): their float source and parameters.
    var quantizedActivations: [Int: QuantizedActivation] = [:]
    /// Outputs of a QuantizeLinear → DequantizeLinear pair: their float source and parameters,
    /// so that a Gemm/MatMul reading one quantizes the source itself (QDQ fusion).
    var fakeQuantized: [Int: QuantizedActivation] = [:]
    /// Softmax outputs whose input is a uint8 Q→DQ pair: if a Q→DQ pair follows too, the four
    /// become one `quantizedSoftmax` step (onnxruntime's QLinearSoftmax).
    var quantizedSoftmaxInputs: [Int: (input: Int, parameters: QuantizationParameters, cols: Int)] = [:]

    init(defaultOpset: Int64, mlOpset: Int64, bytes: ModelBytes, store: WeightStore) {
        self.defaultOpset = defaultOpset
        self.mlOpset = mlOpset
        self.bytes = bytes
        self.store = store
    }

    @discardableResult
    mutating func define(_ name: String, _ state: ValueState) -> Int {
        let id = names.count
        names.append(name)
        states.append(state)
        ids[name] = id
        return id
    }

    /// Adds a lowered node producing a new activation named `name`.
    ///
    /// - Throws: when the shape has an empty dimension or more than `ActivationShape.maxWidth`
    ///   floats per item (a guard against absurd, possibly hostile, shapes).
    @discardableResult
    mutating func emit(_ op: LoweredOp, inputs: [Int], output name: String, shape: ActivationShape,
                       _ ctx: NodeContext) throws(ModelError) -> Int {
        guard ActivationShape.checkedWidth(shape.dims) != nil else {
            throw ctx.unsupported("output '\(name)' would have shape [N, \(shape.dims.map(String.init).joined(separator: ", "))]; "
                + "every dimension must be positive and an item at most \(ActivationShape.maxWidth) values")
        }
        let id = define(name, .activation(shape))
        nodes.append(LoweredNode(op: op, inputs: inputs, output: id, nodeName: ctx.name, opType: ctx.opType))
        return id
    }

    /// Notes a node's class labels: `ints` or `strings`, whichever it has.
    mutating func noteClassLabels(ints: [Int64]?, strings: [String]?) {
        if let ints { classLabels.append(.ints(ints)) } else if let strings { classLabels.append(.strings(strings)) }
    }

    /// A name for an engine-internal value that cannot clash with the model's own names.
    func internalName(_ ctx: NodeContext, _ suffix: String) -> String {
        var name = "\(ctx.name.isEmpty ? ctx.opType : ctx.name)#\(suffix)"
        while ids[name] != nil { name += "_" }
        return name
    }

    /// Lowers one node, whose inputs are all defined (nodes arrive in topological order).
    mutating func lower(_ node: NodeProto) throws(ModelError) {
        let opset = OperatorSet.isDefaultDomain(node.domain) ? defaultOpset : mlOpset
        let ctx = NodeContext(node: node, opset: opset, bytes: bytes)
        let inputs: [Int?] = node.inputs.map { $0.isEmpty ? nil : ids[$0] }
        // A node fed by an opaque value (string labels, a ZipMap) is opaque too: it is only an
        // error if a session needs it.
        for input in inputs {
            guard let input, quantizedParts[input] == nil, case .opaque(let opaque) = states[input] else { continue }
            let reason = "depends on '\(names[input])', which \(opaque.reason)"
            for output in node.outputs where !output.isEmpty {
                define(output, .opaque(OpaqueValue(typeName: opaque.typeName, reason: reason)))
            }
            return
        }
        do throws(ModelError) {
            try dispatch(ctx, inputs)
        } catch {
            var error = error
            if error.opType == nil {
                error.node = ctx.name
                error.opType = ctx.opType
            }
            throw error
        }
    }

    private mutating func dispatch(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        if inputs.contains(where: { $0.map { quantizedParts[$0] != nil } ?? false }) {
            return try lowerQuantizedPart(ctx, inputs)
        }
        switch ctx.node.opType {
        case "Gemm": try lowerGemm(ctx, inputs)
        case "MatMul": try lowerMatMul(ctx, inputs)
        case "Add": try lowerBinary(.add, ctx, inputs)
        case "Sub": try lowerBinary(.sub, ctx, inputs)
        case "Mul": try lowerBinary(.mul, ctx, inputs)
        case "Div": try lowerBinary(.div, ctx, inputs)
        case "Relu": try lowerActivation(.relu, ctx, inputs)
        case "Sigmoid": try lowerActivation(.sigmoid, ctx, inputs)
        case "Tanh": try lowerActivation(.tanh, ctx, inputs)
        case "Cast": try lowerCast(ctx, inputs)
        case "Softmax": try lowerSoftmax(ctx, inputs, log: false)
        case "LogSoftmax": try lowerSoftmax(ctx, inputs, log: true)
        case "ArgMax": try lowerArgMax(ctx, inputs)
        case "Identity": try lowerIdentity(ctx, inputs)
        case "Dropout": try lowerDropout(ctx, inputs)
        case "Reshape": try lowerReshape(ctx, inputs)
        case "Flatten": try lowerFlatten(ctx, inputs)
        case "Concat": try lowerConcat(ctx, inputs)
        case "Constant": try lowerConstant(ctx)
        case "LinearClassifier": try lowerLinearClassifier(ctx, inputs)
        case "LinearRegressor": try lowerLinearRegressor(ctx, inputs)
        case "Normalizer": try lowerNormalizer(ctx, inputs)
        case "ZipMap": try lowerZipMap(ctx, inputs)
        case "ArrayFeatureExtractor": try lowerArrayFeatureExtractor(ctx, inputs)
        case "TreeEnsembleClassifier": try lowerTreeEnsembleClassifier(ctx, inputs)
        case "TreeEnsembleRegressor": try lowerTreeEnsembleRegressor(ctx, inputs)
        case "TreeEnsemble": try lowerTreeEnsemble(ctx, inputs)
        case "Scaler": try lowerScaler(ctx, inputs)
        case "Imputer": try lowerImputer(ctx, inputs)
        case "OneHotEncoder": try lowerOneHotEncoder(ctx, inputs)
        case "Gather": try lowerGather(ctx, inputs)
        case "Erf": try lowerUnary(.erf, ctx, inputs)
        case "Gelu": try lowerGelu(ctx, inputs)
        case "BatchNormalization": try lowerBatchNormalization(ctx, inputs)
        case "DynamicQuantizeLinear": try lowerDynamicQuantizeLinear(ctx, inputs)
        case "MatMulInteger": try lowerMatMulInteger(ctx, inputs)
        case "QuantizeLinear": try lowerQuantizeLinear(ctx, inputs)
        case "DequantizeLinear": try lowerDequantizeLinear(ctx, inputs)
        case "QLinearMatMul": try lowerQLinearMatMul(ctx, inputs)
        default:
            throw ModelError(.unsupported, "operator \(ctx.opType) is not supported; supported operators: \(OperatorSet.supportedList)")
        }
    }
}

// MARK: - Input access shared by the op lowerings

extension GraphLowering {
    /// The id of input `index`, which the op requires.
    func required(_ ctx: NodeContext, _ inputs: [Int?], _ index: Int, _ role: String) throws(ModelError) -> Int {
        guard index < inputs.count, let id = inputs[index] else {
            throw ctx.error(.invalidGraph, "missing required input \(index) (\(role))")
        }
        return id
    }

    func optional(_ inputs: [Int?], _ index: Int) -> Int? {
        index < inputs.count ? inputs[index] : nil
    }

    /// Input `index` as an activation; a constant there is an unsupported form of the op.
    func activation(_ ctx: NodeContext, _ inputs: [Int?], _ index: Int, _ role: String,
                    allowInteger: Bool = false) throws(ModelError) -> (id: Int, shape: ActivationShape) {
        let id = try required(ctx, inputs, index, role)
        guard case .activation(let shape) = states[id] else {
            throw ctx.unsupported("input \(index) (\(role)) '\(names[id])' is a constant; this op needs it to be the batch of activations")
        }
        if shape.isInteger && !allowInteger {
            throw ctx.unsupported("input \(index) (\(role)) '\(names[id])' holds integers; this op is supported on float tensors only")
        }
        return (id, shape)
    }

    /// Input `index` as a constant (initializer, Constant node, or folded subgraph).
    func constant(_ ctx: NodeContext, _ inputs: [Int?], _ index: Int, _ role: String) throws(ModelError) -> ConstantTensor {
        let id = try required(ctx, inputs, index, role)
        guard case .constant(let tensor) = states[id] else {
            throw ctx.unsupported("input \(index) (\(role)) '\(names[id])' must be a constant (an initializer); computed values there are not supported")
        }
        return tensor
    }

    /// Output `index`'s name, or nil when the node leaves it unnamed (not wanted).
    func outputName(_ ctx: NodeContext, _ index: Int) -> String? {
        index < ctx.node.outputs.count && !ctx.node.outputs[index].isEmpty ? ctx.node.outputs[index] : nil
    }

    func firstOutput(_ ctx: NodeContext) throws(ModelError) -> String {
        guard let name = outputName(ctx, 0) else { throw ctx.error(.invalidGraph, "the node has no output") }
        return name
    }
}
