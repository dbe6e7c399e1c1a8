/// From decoded protobuf to the lowered graph: opsets, initializers, graph inputs, operator
/// check, topological order, then lowering node by node.
struct LoadedGraph: Sendable {
    var names: [String]
    var states: [ValueState]
    var ids: [String: Int]
    var nodes: [LoweredNode]
    /// Graph inputs that are fed at run time (not initializers), in declaration order.
    var inputNames: [String]
    var outputNames: [String]
    var inputs: [TensorInfo]
    var outputs: [TensorInfo]
    var opCounts: [(op: String, count: Int)]
    /// The model's classes: the one set of class labels its classifier nodes carry (nil when
    /// none do, or when two disagree and the model does not say which output they belong to).
    var classLabels: ModelClassLabels?
}

enum ModelLoader {
    static func load(_ model: ModelProto, bytes: ModelBytes, store: WeightStore) throws(ModelError) -> LoadedGraph {
        guard model.hasGraph else { throw ModelError(.malformed, "the file has no graph (is it an ONNX model?)") }
        let graph = model.graph
        var lowering = GraphLowering(defaultOpset: try opsetVersion(model, nil), mlOpset: try opsetVersion(model, OperatorSet.mlDomain),
                                     bytes: bytes, store: store)
        if graph.sparseInitializerCount > 0 {
            throw ModelError(.unsupported, "sparse initializers are not supported")
        }
        for tensor in graph.initializers {
            guard !tensor.name.isEmpty else { throw ModelError(.invalidGraph, "an initializer has no name") }
            guard lowering.ids[tensor.name] == nil else {
                throw ModelError(.invalidGraph, "initializer '\(tensor.name)' is defined twice")
            }
            lowering.define(tensor.name, .constant(try ConstantTensor(tensor, bytes: bytes)))
        }
        var inputNames: [String] = []
        for input in graph.inputs where lowering.ids[input.name] == nil {
            guard !input.name.isEmpty else { throw ModelError(.invalidGraph, "a graph input has no name") }
            lowering.define(input.name, try inputState(input))
            inputNames.append(input.name)
        }
        for node in graph.nodes { try OperatorSet.check(node, functionNames: model.functionNames) }
        let order = try TopologicalOrder.order(graph.nodes, available: Set(lowering.ids.keys))
        for index in order { try lowering.lower(graph.nodes[index]) }

        for output in graph.outputs {
            guard let id = lowering.ids[output.name] else {
                throw ModelError(.invalidGraph, "graph output '\(output.name)' is not produced by any node")
            }
            if let part = lowering.quantizedParts[id] {
                throw ModelError(.unsupported, "graph output '\(output.name)' is \(part.role), which exists only inside the "
                    + "fused quantized layer \(QuantizedPart.chain)")
            }
        }
        let declared = Dictionary(graph.inputs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        return LoadedGraph(
            names: lowering.names, states: lowering.states, ids: lowering.ids, nodes: lowering.nodes,
            inputNames: inputNames, outputNames: graph.outputs.map(\.name),
            inputs: inputNames.map { declaredInfo(declared[$0]!) },
            outputs: graph.outputs.map { info($0, lowering.states[lowering.ids[$0.name]!]) },
            opCounts: opCounts(graph.nodes),
            classLabels: lowering.classLabels.first.flatMap { first in lowering.classLabels.allSatisfy { $0 == first } ? first : nil })
    }

    /// The opset version imported for `domain` (nil = the default domain); one must be imported
    /// when a node uses the domain, since an op's meaning depends on it (Softmax's axis, …).
    private static func opsetVersion(_ model: ModelProto, _ domain: String?) throws(ModelError) -> Int64 {
        let matches = { (d: String) in domain == nil ? OperatorSet.isDefaultDomain(d) : d == domain }
        guard let version = model.opsetImports.last(where: { matches($0.domain) })?.version else {
            if let node = model.graph.nodes.first(where: { matches($0.domain) }) {
                throw ModelError(.invalidGraph, "the model imports no opset for domain '\(domain ?? "")', which node "
                    + "'\(node.name)' (\(node.opType)) uses")
            }
            return 0
        }
        guard version >= 1 else {
            throw ModelError(.invalidGraph, "invalid opset version \(version) for domain '\(domain ?? "")'")
        }
        return version
    }

    /// A fed graph input: a float tensor [batch, static dims…] becomes an activation; anything
    /// else is recognised but cannot be fed (opaque).
    private static func inputState(_ input: ValueInfoProto) throws(ModelError) -> ValueState {
        let typeName = input.type?.typeName ?? "unknown"
        guard case .tensor(let elem, let shape)? = input.type, ElementType(code: elem) == .float else {
            return .opaque(OpaqueValue(typeName: typeName, reason: "is \(typeName); the engine feeds float32 tensors only"))
        }
        guard let shape, !shape.isEmpty else {
            throw ModelError(.unsupported, "input '\(input.name)' has no declared shape; the engine needs [batch, static dims…]")
        }
        var dims: [Int] = []
        for (axis, dim) in shape.enumerated().dropFirst() {
            guard case .value(let size) = dim, size > 0, size <= Int64(Int32.max) else {
                throw ModelError(.unsupported, "input '\(input.name)' has a symbolic or invalid dimension at axis \(axis) "
                    + "(\(dim)); only the first (batch) dimension may be symbolic")
            }
            dims.append(Int(size))
        }
        guard ActivationShape.checkedWidth(dims) != nil else {
            throw ModelError(.unsupported, "input '\(input.name)' has more than \(ActivationShape.maxWidth) values per item")
        }
        return .activation(ActivationShape(dims: dims))
    }

    private static func declaredInfo(_ value: ValueInfoProto) -> TensorInfo {
        let type = value.type ?? .unknown
        var elem = ElementType.other(0)
        var shape: [Int?] = []
        if case .tensor(let code, let dims) = type {
            elem = ElementType(code: code)
            shape = (dims ?? []).map { if case .value(let v) = $0 { Int(clamping: v) } else { nil } }
        }
        return TensorInfo(name: value.name, elementType: elem, shape: shape, typeName: type.typeName)
    }

    /// Declared type, with the shape the engine inferred when it computes the value.
    private static func info(_ value: ValueInfoProto, _ state: ValueState) -> TensorInfo {
        var result = declaredInfo(value)
        switch state {
        case .activation(let shape):
            result.shape = [nil] + shape.dims.map { Optional($0) }
            if value.type == nil {
                result.elementType = shape.elementType
                result.typeName = "tensor(\(shape.elementType.name))"
            }
        case .constant(let c):
            result.shape = c.dims.map { Optional($0) }
        case .opaque(let o):
            if value.type == nil { result.typeName = o.typeName }
        }
        return result
    }

    private static func opCounts(_ nodes: [NodeProto]) -> [(op: String, count: Int)] {
        var counts: [(op: String, count: Int)] = []
        for node in nodes {
            let name = OperatorSet.qualifiedName(domain: node.domain, opType: node.opType)
            if let i = counts.firstIndex(where: { $0.op == name }) { counts[i].count += 1 } else { counts.append((name, 1)) }
        }
        return counts
    }
}
