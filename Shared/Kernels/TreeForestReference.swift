extension TreeForest {
    /// Scalar reference twin of `evaluate`: one row at a time, each tree walked from its root
    /// until a leaf with the tests exactly as given (`comparison`, threshold, missing direction),
    /// none of the fast path's rewriting. Same arguments and results as `evaluate`.
    public func evaluateReference(rows: Int, x: UnsafePointer<Float>, ldx: Int, scores: UnsafeMutablePointer<Float>,
                                  presence: UnsafeMutablePointer<Float>? = nil) {
        precondition(rows >= 0, "TreeForest.evaluateReference: negative rows \(rows)")
        var seen = [Bool](repeating: false, count: outputs)
        for r in 0..<rows {
            let row = x + r * ldx
            let out = scores + r * outputs
            for j in 0..<outputs {
                out[j] = 0
                seen[j] = false
            }
            for tree in 0..<treeCount {
                var node = Int(roots[tree])
                while !isLeaf[node] {
                    let v = row[Int(feature[node])]
                    let holds = comparison[node].holds(v, originalThreshold[node]) || (missingTrue[node] && v.isNaN)
                    node = Int(holds ? trueChild[node] : falseChild[node])
                }
                for w in Int(leafStart[node])..<Int(leafStart[node] + leafCount[node]) {
                    let j = Int(weightOutput[w])
                    out[j] = Self.combine(aggregate, out[j], weightValue[w], seen: seen[j])
                    seen[j] = true
                }
            }
            if aggregate == .average {
                for j in 0..<outputs { out[j] /= Float(treeCount) }
            }
            if let presence {
                for j in 0..<outputs { presence[r * outputs + j] = seen[j] ? 1 : 0 }
            }
        }
    }
}
