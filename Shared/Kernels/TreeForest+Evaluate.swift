extension TreeForest {
    /// Rows walked together through one tree: their feature rows (32 features: 8 KiB) and the
    /// tree's nodes stay in L1 while each level is one pass over the block, whose walks are
    /// independent, so their load latencies overlap.
    static let blockRows = 64

    /// Scores `rows` rows: `scores[r * outputs + j]` is the aggregate of the leaf values every
    /// tree gives row r for output j (sum; sum / treeCount for `average`; the least or greatest
    /// value for `min` / `max`), 0 for an output no reached leaf has a value for.
    ///
    /// - Parameters:
    ///   - rows: >= 0.
    ///   - x: `rows` rows of at least `featureCount` floats, `ldx` floats apart.
    ///   - ldx: the row stride in floats, >= `featureCount` when rows > 1.
    ///   - scores: room for `rows * outputs` floats.
    ///   - presence: nil, or room for `rows * outputs` floats, set to 1 where some reached leaf
    ///     has a value for that output and 0 elsewhere (onnxruntime's `has_score`).
    /// - Important: allocates nothing; `scores` must not overlap `x`.
    public func evaluate(rows: Int, x: UnsafePointer<Float>, ldx: Int, scores: UnsafeMutablePointer<Float>,
                         presence: UnsafeMutablePointer<Float>? = nil) {
        precondition(rows >= 0, "TreeForest.evaluate: negative rows \(rows)")
        precondition(rows <= 1 || ldx >= featureCount, "TreeForest.evaluate: ldx \(ldx) < featureCount \(featureCount)")
        if rows == 0 { return }
        scores.update(repeating: 0, count: rows * outputs)
        if let presence { presence.update(repeating: 0, count: rows * outputs) }
        let fast = canonical && presence == nil && (aggregate == .sum || aggregate == .average)
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.blockRows) { index in
            var start = 0
            while start < rows {
                let count = Swift.min(Self.blockRows, rows - start)
                let block = x + start * ldx
                let out = scores + start * outputs
                if fast {
                    walkCanonical(count, block, ldx, index.baseAddress!, out)
                } else if let presence {
                    walkGeneric(count, block, ldx, index.baseAddress!, out, presence + start * outputs)
                } else if aggregate == .sum || aggregate == .average {
                    walkGeneric(count, block, ldx, index.baseAddress!, out, nil)
                } else {
                    // min / max must know which outputs already hold a value: a block-sized scratch.
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: count * outputs) { seen in
                        seen.initialize(repeating: 0)
                        walkGeneric(count, block, ldx, index.baseAddress!, out, seen.baseAddress!)
                    }
                }
                start += count
            }
        }
        if aggregate == .average {
            let n = Float(treeCount)
            for i in 0..<(rows * outputs) { scores[i] /= n }
        }
    }

    /// Sum / average with every test in `x <= t'` or `x == t'` form: a branch-free step per level.
    private func walkCanonical(_ count: Int, _ x: UnsafePointer<Float>, _ ldx: Int,
                               _ index: UnsafeMutablePointer<Int32>, _ out: UnsafeMutablePointer<Float>) {
        feature.withUnsafeBufferPointer { feature in
        threshold.withUnsafeBufferPointer { threshold in
        children.withUnsafeBufferPointer { children in
        nanToA.withUnsafeBufferPointer { nanToA in
        isEqualTest.withUnsafeBufferPointer { isEqual in
            for tree in 0..<treeCount {
                let root = roots[tree]
                for r in 0..<count { index[r] = root }
                for _ in 0..<depths[tree] {
                    // Each row of the block one level down; the rows' walks are independent, so
                    // their loads overlap. The child is picked with bit arithmetic, not a branch
                    // (a mispredicted branch per node costs more than the whole step): 1 = the
                    // test holds; NaN fails every test and goes to A only where the node says so.
                    if hasEqualTests {
                        for r in 0..<count {
                            let i = Int(index[r])
                            let v = x[r * ldx + Int(feature[i])]
                            let le: UInt8 = v <= threshold[i] ? 1 : 0
                            let eq: UInt8 = v == threshold[i] ? 1 : 0
                            let m = isEqual[i]
                            let nan: UInt8 = v.isNaN ? 1 : 0
                            let goB = 1 &- ((le & (m ^ 1)) | (eq & m) | (nan & nanToA[i]))
                            index[r] = children[2 &* i &+ Int(goB)]
                        }
                    } else {
                        for r in 0..<count {
                            let i = Int(index[r])
                            let v = x[r * ldx + Int(feature[i])]
                            let le: UInt8 = v <= threshold[i] ? 1 : 0
                            let nan: UInt8 = v.isNaN ? 1 : 0
                            let goB = 1 &- (le | (nan & nanToA[i]))
                            index[r] = children[2 &* i &+ Int(goB)]
                        }
                    }
                }
                accumulate(count, index, out)
            }
        } } } } }
    }

    /// Any test, min / max, and presence: the tests as given. `presence` (zeroed by the caller) is
    /// required for min / max.
    private func walkGeneric(_ count: Int, _ x: UnsafePointer<Float>, _ ldx: Int, _ index: UnsafeMutablePointer<Int32>,
                             _ out: UnsafeMutablePointer<Float>, _ presence: UnsafeMutablePointer<Float>?) {
        for tree in 0..<treeCount {
            let root = roots[tree]
            for r in 0..<count { index[r] = root }
            for _ in 0..<depths[tree] {
                for r in 0..<count {
                    let i = Int(index[r])
                    let v = x[r * ldx + Int(feature[i])]
                    let holds = comparison[i].holds(v, originalThreshold[i]) || (missingTrue[i] && v.isNaN)
                    index[r] = holds ? trueChild[i] : falseChild[i]
                }
            }
            if let presence {
                combineLeaves(count, index, out, presence)
            } else {
                accumulate(count, index, out)
            }
        }
    }

    private func combineLeaves(_ count: Int, _ index: UnsafeMutablePointer<Int32>, _ out: UnsafeMutablePointer<Float>,
                               _ presence: UnsafeMutablePointer<Float>) {
        for r in 0..<count {
            let leaf = Int(index[r])
            for w in Int(leafStart[leaf])..<Int(leafStart[leaf] + leafCount[leaf]) {
                let j = r * outputs + Int(weightOutput[w])
                out[j] = Self.combine(aggregate, out[j], weightValue[w], seen: presence[j] != 0)
                presence[j] = 1
            }
        }
    }

    static func combine(_ aggregate: TreeAggregate, _ current: Float, _ value: Float, seen: Bool) -> Float {
        switch aggregate {
        case .sum, .average: current + value
        case .min: !seen || value < current ? value : current
        case .max: !seen || value > current ? value : current
        }
    }

    /// Adds each row's leaf values: one load for single-weight leaves, the weight list otherwise.
    private func accumulate(_ count: Int, _ index: UnsafeMutablePointer<Int32>, _ out: UnsafeMutablePointer<Float>) {
        if let leafValue, let leafOutput {
            leafValue.withUnsafeBufferPointer { values in
                if outputs == 1 {
                    for r in 0..<count { out[r] += values[Int(index[r])] }
                    return
                }
                leafOutput.withUnsafeBufferPointer { target in
                    for r in 0..<count {
                        let leaf = Int(index[r])
                        out[r * outputs + Int(target[leaf])] += values[leaf]
                    }
                }
            }
            return
        }
        for r in 0..<count {
            let leaf = Int(index[r])
            let row = out + r * outputs
            for w in Int(leafStart[leaf])..<Int(leafStart[leaf] + leafCount[leaf]) {
                row[Int(weightOutput[w])] += weightValue[w]
            }
        }
    }
}
