import Kernels

/// Folds `linear → Add/Sub/Mul constant → Relu/Sigmoid/Tanh` chains into one linear step with
/// bias and activation, so the GEMM kernel applies them while the tile is still in registers. A
/// per-column Mul (an inference BatchNormalization's scale) scales the weight columns and bias.
enum LinearFusion {
    /// - Parameters:
    ///   - keeping: a value that must stay materialised (the session output).
    ///   - names: the graph's value names, to key folded weights in `store`.
    static func fuse(_ nodes: [LoweredNode], keeping: Int, names: [String], store: WeightStore) -> [LoweredNode] {
        var nodes = nodes
        var readers: [Int: Int] = [:]
        for node in nodes { for input in node.inputs { readers[input, default: 0] += 1 } }
        var removed = Set<Int>()
        for index in nodes.indices where !removed.contains(index) {
            guard case .linear(var layer) = nodes[index].op else { continue }
            while layer.activation == .identity {
                let value = nodes[index].output
                guard value != keeping, readers[value] == 1,
                      let c = nodes.indices.first(where: { $0 > index && !removed.contains($0) && nodes[$0].inputs.contains(value) })
                else { break }
                var fused = false
                switch nodes[c].op {
                case .binaryConstant(let kind, let row, let constantFirst)
                    where kind == .add || (kind == .sub && !constantFirst):
                    if let add = periodicRow(row, period: layer.n) {
                        let sign: Float = kind == .sub ? -1 : 1
                        let old = layer.bias ?? [Float](repeating: 0, count: layer.n)
                        layer.bias = zip(old, add).map { $0 + sign * $1 }
                        fused = true
                    }
                case .binaryConstant(.mul, let row, _):
                    if let scale = periodicRow(row, period: layer.n) {
                        let unscaled = layer
                        layer.weights = store.packed("scaled:\(names[nodes[c].output])", k: layer.k, n: layer.n) {
                            scaled(unscaled, by: scale).weights
                        }
                        layer.bias = unscaled.bias.map { zip($0, scale).map { $0 * $1 } }
                        fused = true
                    }
                case .activation(let activation):
                    layer.activation = activation
                    fused = true
                default:
                    break
                }
                guard fused else { break }
                nodes[index].op = .linear(layer)
                nodes[index].output = nodes[c].output
                removed.insert(c)
            }
        }
        return nodes.indices.filter { !removed.contains($0) }.map { nodes[$0] }
    }

    /// `(x · W + b) · s` as `x · (W s) + b s`, s one factor per output column.
    static func scaled(_ layer: LinearLayer, by scale: [Float]) -> LinearLayer {
        var w = layer.weights.unpacked()
        let (k, n) = (layer.k, layer.n)
        for i in 0..<k {
            for j in 0..<n { w[i * n + j] *= scale[j] }
        }
        var result = layer
        result.weights = PackedWeights(w, k: k, n: n)
        result.bias = layer.bias.map { zip($0, scale).map { $0 * $1 } }
        return result
    }

    /// The first `period` values when `row` repeats them exactly (a bias per output column).
    static func periodicRow(_ row: [Float], period: Int) -> [Float]? {
        guard period > 0, row.count % period == 0 else { return nil }
        for j in period..<row.count where row[j] != row[j - period] { return nil }
        return Array(row[0..<period])
    }
}
