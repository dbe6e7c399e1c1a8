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
            if case .quantizedLinear = nodes[index].op {
                fuseQuantized(&nodes, index, keeping: keeping, readers: readers, removed: &removed)
                continue
            }
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

    /// A quantized layer takes, in onnxruntime's order: one bias (Add/Sub of a constant row) then
    /// an activation, after the scaling; or, for a static layer without a float bias, the Q→DQ
    /// pair on its output, which makes it requantize (onnxruntime's QGemm). A Mul is never folded
    /// into the integer weights: it would change the rounding.
    private static func fuseQuantized(_ nodes: inout [LoweredNode], _ index: Int, keeping: Int, readers: [Int: Int],
                                      removed: inout Set<Int>) {
        guard case .quantizedLinear(var layer) = nodes[index].op else { return }
        while true {
            let value = nodes[index].output
            guard value != keeping, readers[value] == 1,
                  let c = nodes.indices.first(where: { $0 > index && !removed.contains($0) && nodes[$0].inputs.contains(value) }),
                  case .scaled(let bias, let activation) = layer.output, activation == .identity
            else { return }
            switch nodes[c].op {
            case .binaryConstant(let kind, let row, let constantFirst)
                where bias == nil && (kind == .add || (kind == .sub && !constantFirst)):
                guard let add = periodicRow(row, period: layer.n) else { return }
                // v - b and v + (-b) round alike.
                layer.output = .scaled(bias: kind == .sub ? add.map { -$0 } : add, activation: .identity)
            case .activation(let activation):
                layer.output = .scaled(bias: bias, activation: activation)
            case .fakeQuantize(let p):
                guard bias == nil, case .quantize(let inputScale, _, _) = layer.input, let (scale, zero) = p.perTensor else { return }
                // (a_scale · b_scale) / y_scale, as onnxruntime computes the multiplier.
                layer.output = .requantized(multipliers: layer.weightScales.map { inputScale * $0 / scale }, zeroPoint: zero,
                                            low: Int32(p.low), high: Int32(p.high), output: .dequantized(scale: scale))
            default:
                return
            }
            nodes[index].op = .quantizedLinear(layer)
            nodes[index].output = nodes[c].output
            removed.insert(c)
        }
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
