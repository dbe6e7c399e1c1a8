import Kernels

/// Builds a session's plan from a loaded model: picks the input and output, keeps only the nodes
/// the output needs, resolves aliases, fuses linear layers with their bias and activation, runs
/// elementwise steps in place where the input dies there, and assigns buffers by liveness.
enum SessionPlanner {
    static func plan(_ graph: LoadedGraph, input: String?, output: String?, store: WeightStore,
                     precision: LinearPrecision = .float32) throws(ModelError) -> SessionPlan {
        let inputID = try selectInput(graph, input)
        let outputID = try selectOutput(graph, output)
        guard case .activation(let inShape) = graph.states[inputID],
              case .activation(let outShape) = graph.states[outputID] else {
            throw ModelError(.invalidArgument, "input and output must be tensors the engine computes")
        }
        var nodes = try requiredNodes(graph, input: inputID, output: outputID)

        // Aliases (Identity, Reshape, Flatten, same-type Cast) share their input's data.
        var root = Array(0..<graph.names.count)
        nodes = nodes.compactMap { node in
            var node = node
            node.inputs = node.inputs.map { root[$0] }
            if case .alias = node.op {
                root[node.output] = node.inputs[0]
                return nil
            }
            return node
        }
        let outputRoot = root[outputID]
        nodes = LinearFusion.fuse(nodes, keeping: outputRoot, names: graph.names, store: store)

        let buffers = BufferAssignment(nodes: nodes, valueCount: graph.names.count, input: inputID, output: outputRoot)
        let width = { (id: Int) -> Int in
            if case .activation(let shape) = graph.states[id] { return shape.width }
            return 0
        }
        var steps = nodes.map { node in
            Step(kind: node.op, inputs: node.inputs.map(buffers.slot), output: buffers.slot(node.output),
                 inputWidth: node.inputs.first.map(width) ?? 0, outputWidth: width(node.output),
                 nodeName: node.nodeName, opType: node.opType)
        }
        if buffers.slot(outputRoot) == Step.inputSlot {
            steps.append(Step(kind: .alias, inputs: [Step.inputSlot], output: Step.outputSlot,
                              inputWidth: inShape.width, outputWidth: outShape.width, nodeName: "", opType: "copy"))
        }
        // The sparse path keeps the float32 layer; the dense steps take the session's precision.
        let sparse = sparseStep(steps, inputWidth: inShape.width)
        var sparseLayer: LinearLayer?
        if let sparse, case .linear(let layer) = steps[sparse].kind { sparseLayer = layer }
        for index in nodes.indices {
            steps[index].kind = try lowerPrecision(steps[index].kind, to: precision, key: graph.names[nodes[index].output],
                                                   store: store, step: steps[index])
        }
        var slotWidths = buffers.slotWidths(width)
        // One scratch slot, shared by every quantized step (steps run one at a time).
        let scratchWidths = steps.map { step in
            if case .quantizedLinear(let layer) = step.kind { (step.inputWidth / layer.k) * layer.scratchWordsPerRow } else { 0 }
        }
        if let scratchWidth = scratchWidths.max(), scratchWidth > 0 {
            let slot = slotWidths.count
            slotWidths.append(scratchWidth)
            for index in steps.indices where scratchWidths[index] > 0 { steps[index].scratch = slot }
        }
        // Shared sessions derive the sparse path's row-major weights now, so that they can be in the
        // weight cache too; private ones on the first sparse run (most never have one).
        var sparseWeights: WeightArray<Float>?
        if store.isShared, let sparse, let layer = sparseLayer {
            sparseWeights = store.floats("sparse:\(graph.names[nodes[sparse].output])",
                                         count: layer.k * layer.n) { layer.weights.unpacked() }
        }
        return SessionPlan(steps: steps, slotWidths: slotWidths, inputName: graph.names[inputID],
                           outputName: graph.names[outputID], inputWidth: inShape.width, outputWidth: outShape.width,
                           sparseStep: sparse, sparseLayer: sparseLayer, sparseWeights: sparseWeights)
    }

    /// A fused linear layer in `precision`, its weights converted once through the store:
    /// - bf16: the panels rounded to bfloat16;
    /// - int8: the weights quantized per output column, symmetric (scale = max |w| / 127, values
    ///   rounded half to even into -127...127, zero point 0), each record's activations per row to
    ///   uint8 as DynamicQuantizeLinear does; the bias and activation stay fused, in float.
    private static func lowerPrecision(_ kind: LoweredOp, to precision: LinearPrecision, key: String,
                                       store: WeightStore, step: Step) throws(ModelError) -> LoweredOp {
        guard case .linear(var layer) = kind, precision != .float32 else { return kind }
        let float = layer.weights
        switch precision {
        case .float32:
            return kind
        case .bf16:
            layer.weights = store.packed("bf16:\(key)", k: layer.k, n: layer.n, format: .bfloat16) { float }
            return .linear(layer)
        case .int8:
            let (k, n) = (layer.k, layer.n)
            guard k <= QuantizedWeights.maxK else {
                throw ModelError(.unsupported, "precision int8: an inner dimension of \(k) is too large for exact Int32 sums "
                                 + "(at most \(QuantizedWeights.maxK)); use float32 or bf16", node: step.nodeName, opType: step.opType)
            }
            // The scales and the packed values are records of the store: a replica that maps a
            // weight cache reads neither the float weights nor anything derived from them again.
            let scales = store.floats("int8-scales:\(key)", count: n) { int8Scales(float.unpacked(), k: k, n: n) }.array
            if let bad = scales.first(where: { !$0.isFinite }) {
                throw ModelError(.unsupported, "precision int8: the weights hold \(bad), which has no int8 value",
                                 node: step.nodeName, opType: step.opType)
            }
            let weights = store.quantized("int8:\(key)", k: k, n: n) {
                let w = float.unpacked()
                let values = (0..<(k * n)).map { index in
                    let q = (w[index] / scales[index % n]).rounded(.toNearestOrEven)
                    return Int32(min(max(q, -127), 127))
                }
                return QuantizedWeights(values, k: k, n: n, zeroPoints: [0])
            }
            return .quantizedLinear(QuantizedLinearLayer(weights: weights, weightScales: scales, input: .dynamicRows,
                                                         integerBias: nil,
                                                         output: .scaled(bias: layer.bias, activation: layer.activation)))
        }
    }

    /// One symmetric int8 scale per column of the row-major k×n `w`: max |w| / 127, or 1 for a
    /// column whose scale would be 0 (all zeros, or so tiny that the division underflows: its
    /// values then all quantize to 0). A column holding an infinity or NaN gets that value, which
    /// the caller refuses.
    static func int8Scales(_ w: [Float], k: Int, n: Int) -> [Float] {
        (0..<n).map { j in
            var largest: Float = 0
            for i in 0..<k {
                let x = w[i * n + j]
                if !x.isFinite { return x.isNaN ? x : .infinity }
                largest = max(largest, x.magnitude)
            }
            let scale = largest / 127
            return scale > 0 ? scale : 1
        }
    }

    private static func selectInput(_ graph: LoadedGraph, _ name: String?) throws(ModelError) -> Int {
        guard let chosen = name ?? graph.inputNames.first else {
            throw ModelError(.invalidArgument, "the model has no inputs to feed")
        }
        guard graph.inputNames.contains(chosen), let id = graph.ids[chosen] else {
            throw ModelError(.invalidArgument, "the model has no input named '\(chosen)'; inputs: \(graph.inputNames.joined(separator: ", "))")
        }
        if case .opaque(let o) = graph.states[id] {
            throw ModelError(.unsupported, "input '\(chosen)' \(o.reason)")
        }
        return id
    }

    private static func selectOutput(_ graph: LoadedGraph, _ name: String?) throws(ModelError) -> Int {
        let outputs = graph.outputNames.joined(separator: ", ")
        if let name {
            guard let id = graph.ids[name] else {
                throw ModelError(.invalidArgument, "the model has no tensor named '\(name)'; outputs: \(outputs)")
            }
            switch graph.states[id] {
            case .activation: return id
            case .constant: throw ModelError(.invalidArgument, "output '\(name)' is a constant, not computed from the input")
            case .opaque(let o): throw ModelError(.unsupported, "output '\(name)' \(o.reason)")
            }
        }
        for output in graph.outputNames {
            guard let id = graph.ids[output] else { continue }
            switch graph.states[id] {
            case .activation(let shape) where !shape.isInteger:
                return id
            case .opaque(let o):
                if let source = o.zipMapInput, let sid = graph.ids[source], case .activation(let s) = graph.states[sid], !s.isInteger {
                    return sid
                }
            default: continue
            }
        }
        throw ModelError(.invalidArgument, "the model has no float tensor output to read; outputs: \(outputs)")
    }

    /// The lowered nodes the output depends on, in order; every leaf must be the chosen input.
    private static func requiredNodes(_ graph: LoadedGraph, input: Int, output: Int) throws(ModelError) -> [LoweredNode] {
        var producer: [Int: Int] = [:]
        for (index, node) in graph.nodes.enumerated() { producer[node.output] = index }
        var needed = Set<Int>()
        var seen = Set<Int>()
        var stack = [output]
        while let value = stack.popLast() {
            guard seen.insert(value).inserted else { continue }
            if let index = producer[value] {
                needed.insert(index)
                stack += graph.nodes[index].inputs
            } else if value != input {
                throw ModelError(.invalidArgument, "output '\(graph.names[output])' depends on input '\(graph.names[value])', "
                    + "but the session feeds only '\(graph.names[input])'")
            }
        }
        return needed.sorted().map { graph.nodes[$0] }
    }

    /// The step to run as a sparse GEMM: the only reader of the input, a linear layer over whole rows.
    private static func sparseStep(_ steps: [Step], inputWidth: Int) -> Int? {
        let readers = steps.indices.filter { steps[$0].inputs.contains(Step.inputSlot) }
        guard readers.count == 1, case .linear(let layer) = steps[readers[0]].kind,
              layer.k == inputWidth, steps[readers[0]].inputs.count == 1 else { return nil }
        return readers[0]
    }
}
