import Kernels

/// The trees of a TreeEnsembleClassifier / TreeEnsembleRegressor (ai.onnx.ml 1–3) or a
/// TreeEnsemble (ai.onnx.ml 5) node, read from its attributes into per-tree node lists.
///
/// Where the spec leaves room, this follows onnxruntime: a tree is the run of nodes sharing a
/// tree id, rooted at its first node; weights on branch nodes are ignored; a leaf's weights are
/// accumulated in (tree, node, attribute position) order; with a single output only each leaf's
/// first weight counts (0 when it has none).
struct TreeAttributes {
    var trees: [[TreeNode]] = []

    static let modeNames: [String: TreeComparison?] = [
        "BRANCH_LEQ": .lessOrEqual, "BRANCH_LT": .less, "BRANCH_GTE": .greaterOrEqual, "BRANCH_GT": .greater,
        "BRANCH_EQ": .equal, "BRANCH_NEQ": .notEqual, "LEAF": nil,
    ]

    /// Reads the `nodes_*` attributes and the leaf weights named by `prefix` (`class` or `target`).
    init(_ ctx: NodeContext, weightPrefix prefix: String, outputs: Int) throws(ModelError) {
        let treeIDs = try Self.ints(ctx, "nodes_treeids")
        let nodeIDs = try Self.ints(ctx, "nodes_nodeids")
        let features = try Self.ints(ctx, "nodes_featureids")
        let modes = try ctx.strings("nodes_modes") ?? []
        let trueIDs = try Self.ints(ctx, "nodes_truenodeids")
        let falseIDs = try Self.ints(ctx, "nodes_falsenodeids")
        let values = try Self.floats(ctx, "nodes_values")
        let missing = try ctx.ints("nodes_missing_value_tracks_true") ?? []
        let count = treeIDs.count
        guard count > 0 else { throw ctx.error(.invalidGraph, "the ensemble has no nodes (nodes_treeids is empty)") }
        for (name, n) in [("nodes_nodeids", nodeIDs.count), ("nodes_featureids", features.count), ("nodes_modes", modes.count),
                          ("nodes_truenodeids", trueIDs.count), ("nodes_falsenodeids", falseIDs.count), ("nodes_values", values.count)]
        where n != count {
            throw ctx.error(.invalidGraph, "\(name) has \(counted(n, "entry")), nodes_treeids \(count)")
        }
        guard missing.isEmpty || missing.count == count else {
            throw ctx.error(.invalidGraph, "nodes_missing_value_tracks_true has \(counted(missing.count, "entry")), nodes_treeids \(count)")
        }

        // Trees in order of first appearance; each must be one contiguous run (as onnxruntime requires).
        var local: [Int64: [Int64: Int]] = [:]   // tree id -> node id -> index in the tree
        var order: [Int64] = []
        var start: [Int] = []
        for i in 0..<count {
            let tree = treeIDs[i]
            if i == 0 || treeIDs[i - 1] != tree {
                guard local[tree] == nil else {
                    throw ctx.error(.invalidGraph, "the nodes of tree \(tree) are not contiguous in nodes_treeids")
                }
                local[tree] = [:]
                order.append(tree)
                start.append(i)
            }
            let index = i - start[start.count - 1]
            guard local[tree]![nodeIDs[i]] == nil else {
                throw ctx.error(.invalidGraph, "node \(nodeIDs[i]) of tree \(tree) is defined twice")
            }
            local[tree]![nodeIDs[i]] = index
        }

        // Leaf weights, grouped per (tree, node) in attribute order (a stable sort by node).
        let wTrees = try Self.ints(ctx, "\(prefix)_treeids")
        let wNodes = try Self.ints(ctx, "\(prefix)_nodeids")
        let wIDs = try Self.ints(ctx, "\(prefix)_ids")
        let wValues = try Self.floats(ctx, "\(prefix)_weights")
        guard wNodes.count == wTrees.count, wIDs.count == wTrees.count, wValues.count == wTrees.count else {
            throw ctx.error(.invalidGraph, "\(prefix)_treeids, _nodeids, _ids and _weights have different lengths "
                + "(\(wTrees.count), \(wNodes.count), \(wIDs.count), \(wValues.count))")
        }
        var leafWeights: [Int64: [Int: [TreeLeafWeight]]] = [:]
        for k in 0..<wTrees.count {
            guard let index = local[wTrees[k]]?[wNodes[k]] else {
                throw ctx.error(.invalidGraph, "a weight refers to node \(wNodes[k]) of tree \(wTrees[k]), which does not exist")
            }
            guard wIDs[k] >= 0, wIDs[k] < Int64(outputs) else {
                throw ctx.error(.invalidGraph, "a weight is for \(prefix) \(wIDs[k]), outside 0..<\(outputs)")
            }
            leafWeights[wTrees[k], default: [:]][index, default: []].append(TreeLeafWeight(output: Int(wIDs[k]), value: wValues[k]))
        }

        for (t, tree) in order.enumerated() {
            let first = start[t]
            let end = t + 1 < start.count ? start[t + 1] : count
            let ids = local[tree]!
            var nodes: [TreeNode] = []
            nodes.reserveCapacity(end - first)
            for i in first..<end {
                guard let entry = Self.modeNames[modes[i]] else {
                    throw ctx.unsupported("nodes_modes value '\(modes[i])' is not supported; supported: "
                        + "BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, BRANCH_EQ, BRANCH_NEQ, LEAF")
                }
                guard let comparison = entry else {
                    var weights = leafWeights[tree]?[i - first] ?? []
                    if outputs == 1 { weights = [TreeLeafWeight(output: 0, value: weights.first?.value ?? 0)] }
                    nodes.append(.leaf(weights))
                    continue
                }
                guard let tc = ids[trueIDs[i]], let fc = ids[falseIDs[i]] else {
                    throw ctx.error(.invalidGraph, "node \(nodeIDs[i]) of tree \(tree) has a child that is not in the tree "
                        + "(true \(trueIDs[i]), false \(falseIDs[i]))")
                }
                guard features[i] >= 0, features[i] < Int64(Int32.max) else {
                    throw ctx.error(.invalidGraph, "node \(nodeIDs[i]) of tree \(tree) reads feature \(features[i])")
                }
                nodes.append(.branch(feature: Int(features[i]), threshold: values[i], comparison: comparison,
                                     missingGoesTrue: !missing.isEmpty && missing[i] != 0, trueChild: tc, falseChild: fc))
            }
            trees.append(nodes)
        }
    }

    /// Reads a TreeEnsemble (ai.onnx.ml 5) node: roots, nodes and separate leaves, each leaf one
    /// weight for one target.
    init(ensemble ctx: NodeContext, outputs: Int) throws(ModelError) {
        let roots = try Self.ints(ctx, "tree_roots")
        let features = try Self.ints(ctx, "nodes_featureids")
        let splits = try Self.tensorFloats(ctx, "nodes_splits")
        let modeCodes = try ctx.tensor("nodes_modes")?.int64s ?? []
        let trueIDs = try Self.ints(ctx, "nodes_truenodeids")
        let falseIDs = try Self.ints(ctx, "nodes_falsenodeids")
        let trueLeaf = try ctx.ints("nodes_trueleafs") ?? []
        let falseLeaf = try ctx.ints("nodes_falseleafs") ?? []
        let missing = try ctx.ints("nodes_missing_value_tracks_true") ?? []
        let targets = try Self.ints(ctx, "leaf_targetids")
        let weights = try Self.tensorFloats(ctx, "leaf_weights")
        let n = features.count
        guard n > 0 || !roots.isEmpty else { throw ctx.error(.invalidGraph, "the ensemble has no trees") }
        for (name, c) in [("nodes_splits", splits.count), ("nodes_modes", modeCodes.count), ("nodes_truenodeids", trueIDs.count),
                          ("nodes_falsenodeids", falseIDs.count), ("nodes_trueleafs", trueLeaf.count), ("nodes_falseleafs", falseLeaf.count)]
        where c != n {
            throw ctx.error(.invalidGraph, "\(name) has \(counted(c, "entry")), nodes_featureids \(n)")
        }
        guard missing.isEmpty || missing.count == n else {
            throw ctx.error(.invalidGraph, "nodes_missing_value_tracks_true has \(counted(missing.count, "entry")), nodes_featureids \(n)")
        }
        guard targets.count == weights.count else {
            throw ctx.error(.invalidGraph, "leaf_targetids has \(counted(targets.count, "entry")), leaf_weights \(weights.count)")
        }
        if ctx.attribute("membership_values") != nil {
            throw ctx.unsupported("BRANCH_MEMBER nodes (membership_values) are not supported")
        }
        let comparisons: [TreeComparison] = [.lessOrEqual, .less, .greaterOrEqual, .greater, .equal, .notEqual]
        for (t, root) in roots.enumerated() {
            // Depth-first from the root; `slot` maps a global node/leaf to its index in this tree.
            var nodes: [TreeNode] = []
            var slot: [Int64: Int] = [:]   // node k -> k, leaf k -> -1 - k
            func place(_ isLeaf: Bool, _ k: Int64) throws(ModelError) -> Int {
                let key = isLeaf ? -1 - k : k
                if let s = slot[key] { return s }
                guard k >= 0, k < Int64(isLeaf ? targets.count : n) else {
                    throw ctx.error(.invalidGraph, "tree \(t) refers to \(isLeaf ? "leaf" : "node") \(k), which does not exist")
                }
                slot[key] = nodes.count
                nodes.append(.leaf([]))  // placeholder, filled below
                return nodes.count - 1
            }
            var pending: [(Bool, Int64)] = [(false, root)]
            _ = try place(false, root)
            while let (isLeaf, k) = pending.popLast() {
                let index = slot[isLeaf ? -1 - k : k]!
                if isLeaf {
                    guard targets[Int(k)] >= 0, targets[Int(k)] < Int64(outputs) else {
                        throw ctx.error(.invalidGraph, "leaf \(k) is for target \(targets[Int(k)]), outside 0..<\(outputs)")
                    }
                    nodes[index] = .leaf([TreeLeafWeight(output: outputs == 1 ? 0 : Int(targets[Int(k)]), value: weights[Int(k)])])
                    continue
                }
                let i = Int(k)
                guard modeCodes[i] >= 0, modeCodes[i] < 6 else {
                    throw ctx.unsupported("node mode \(modeCodes[i]) is not supported; supported: 0-5 (BRANCH_LEQ … BRANCH_NEQ); "
                        + "6 (BRANCH_MEMBER) is not")
                }
                for (leaf, child) in [(trueLeaf[i] != 0, trueIDs[i]), (falseLeaf[i] != 0, falseIDs[i])]
                where slot[leaf ? -1 - child : child] == nil {
                    _ = try place(leaf, child)
                    pending.append((leaf, child))
                }
                let tc = slot[trueLeaf[i] != 0 ? -1 - trueIDs[i] : trueIDs[i]]!
                let fc = slot[falseLeaf[i] != 0 ? -1 - falseIDs[i] : falseIDs[i]]!
                guard features[i] >= 0, features[i] < Int64(Int32.max) else {
                    throw ctx.error(.invalidGraph, "node \(i) reads feature \(features[i])")
                }
                nodes[index] = .branch(feature: Int(features[i]), threshold: splits[i], comparison: comparisons[Int(modeCodes[i])],
                                       missingGoesTrue: !missing.isEmpty && missing[i] != 0, trueChild: tc, falseChild: fc)
            }
            trees.append(nodes)
        }
    }

    private static func ints(_ ctx: NodeContext, _ name: String) throws(ModelError) -> [Int64] {
        try ctx.ints(name) ?? []
    }

    /// A float list given as `name` (floats) or `name_as_tensor` (a double tensor, rounded to
    /// Float as onnxruntime does for float inputs).
    static func floats(_ ctx: NodeContext, _ name: String) throws(ModelError) -> [Float] {
        if let tensor = try ctx.tensor(name + "_as_tensor") {
            guard let values = tensor.floats else { throw ctx.error(.invalidGraph, "\(name)_as_tensor must be numeric") }
            if ctx.attribute(name) != nil { throw ctx.error(.invalidGraph, "both \(name) and \(name)_as_tensor are set") }
            return values
        }
        return try ctx.floats(name) ?? []
    }

    private static func tensorFloats(_ ctx: NodeContext, _ name: String) throws(ModelError) -> [Float] {
        guard let tensor = try ctx.tensor(name) else { return [] }
        guard let values = tensor.floats else { throw ctx.error(.invalidGraph, "\(name) must be numeric") }
        return values
    }
}
