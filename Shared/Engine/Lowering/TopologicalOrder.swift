/// Orders the graph's nodes so every node comes after the producers of its inputs.
enum TopologicalOrder {
    /// Indices into `nodes`, producers first, otherwise in file order.
    ///
    /// - Parameter available: names defined before any node runs (graph inputs, initializers).
    /// - Throws: `.invalidGraph` for an input nothing defines, a name defined twice, or a cycle.
    static func order(_ nodes: [NodeProto], available: Set<String>) throws(ModelError) -> [Int] {
        var producer: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            for output in node.outputs where !output.isEmpty {
                let context = nodeError(node)
                if available.contains(output) {
                    throw context("output '\(output)' has the same name as a graph input or initializer")
                }
                if let other = producer[output] {
                    throw context("output '\(output)' is also produced by node '\(nodes[other].name)' (\(nodes[other].opType))")
                }
                producer[output] = index
            }
        }
        var pending = [Int](repeating: 0, count: nodes.count)
        var consumers = [[Int]](repeating: [], count: nodes.count)
        for (index, node) in nodes.enumerated() {
            for input in node.inputs where !input.isEmpty && !available.contains(input) {
                guard let source = producer[input] else {
                    throw nodeError(node)("input '\(input)' is not a graph input, an initializer, or the output of any node")
                }
                pending[index] += 1
                consumers[source].append(index)
            }
        }
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        var ready = (0..<nodes.count).filter { pending[$0] == 0 }
        var cursor = 0
        while cursor < ready.count {
            let index = ready[cursor]
            cursor += 1
            order.append(index)
            for consumer in consumers[index] {
                pending[consumer] -= 1
                if pending[consumer] == 0 { ready.append(consumer) }
            }
        }
        if order.count < nodes.count {
            let stuck = (0..<nodes.count).filter { pending[$0] > 0 }
            let names = stuck.prefix(5).map { "'\(nodes[$0].name)' (\(nodes[$0].opType))" }.joined(separator: ", ")
            throw ModelError(.invalidGraph, "the graph has a cycle through nodes \(names)",
                             node: nodes[stuck[0]].name, opType: nodes[stuck[0]].opType)
        }
        return order
    }

    private static func nodeError(_ node: NodeProto) -> (String) -> ModelError {
        { message in ModelError(.invalidGraph, message, node: node.name, opType: node.opType) }
    }
}
