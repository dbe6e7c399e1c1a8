/// How a branch node compares a feature value `x` with its threshold `t` (ONNX-ML `nodes_modes`).
/// A NaN feature value takes the false branch, except where `missingGoesTrue` says otherwise
/// (onnxruntime: `x CMP t || (missing_tracks_true && isnan(x))`); so `notEqual` sends NaN true.
public enum TreeComparison: UInt8, Sendable, CaseIterable {
    case lessOrEqual, less, greaterOrEqual, greater, equal, notEqual

    /// The comparison as onnxruntime evaluates it, in Float.
    public func holds(_ x: Float, _ t: Float) -> Bool {
        switch self {
        case .lessOrEqual: x <= t
        case .less: x < t
        case .greaterOrEqual: x >= t
        case .greater: x > t
        case .equal: x == t
        case .notEqual: x != t
        }
    }
}

/// How the leaf values of all trees combine into one score per output (`aggregate_function`).
public enum TreeAggregate: Sendable {
    case sum, average, min, max
}

/// One node of a tree as an exporter describes it; children are indices into the same tree.
public enum TreeNode: Sendable, Equatable {
    case branch(feature: Int, threshold: Float, comparison: TreeComparison, missingGoesTrue: Bool,
                trueChild: Int, falseChild: Int)
    /// Values added to outputs when a row ends here, in the order they are accumulated.
    case leaf([TreeLeafWeight])
}

/// One value a leaf contributes to one output (a class or a regression target).
public struct TreeLeafWeight: Sendable, Equatable {
    public var output: Int
    public var value: Float
    public init(output: Int, value: Float) {
        self.output = output
        self.value = value
    }
}

/// Why a set of trees cannot be flattened.
public struct TreeForestError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// A tree ensemble flattened into structure-of-arrays form, evaluated many rows at a time.
///
/// Every tree is stored as contiguous node arrays (feature index, threshold, child to take when
/// the test holds, child otherwise, NaN direction); a leaf points to itself, so a row walks
/// every tree for exactly that tree's depth with no test for "is this a leaf". For the fast
/// path each test is rewritten at build time as `x <= t'` with the children swapped where
/// needed (`x < t` is `x <= t.nextDown` for every non-NaN x; `x > t` is `!(x <= t)`), or as
/// `x == t` (`notEqual` with its children swapped), and the NaN direction is kept per node.
/// The few tests that cannot be rewritten (`x < -inf`, `x > NaN`), min / max aggregation and
/// per-row presence take a generic path that evaluates the tests as given. Both give exactly
/// onnxruntime's decisions: thresholds are compared in Float, never widened.
///
/// Scores are accumulated in Float in tree order, and within a leaf in weight order, which is
/// the order onnxruntime uses single-threaded, so sums are bit-identical to it.
public final class TreeForest: Sendable {
    /// Scores per row: classes or regression targets.
    public let outputs: Int
    /// The number of trees, in accumulation order.
    public let treeCount: Int
    /// How the trees' leaf values combine.
    public let aggregate: TreeAggregate
    /// The smallest row width that holds every feature a branch reads.
    public let featureCount: Int

    // Fast-path arrays, indexed by global node number.
    let feature: [Int32]
    let threshold: [Float]      // t' of `x <= t'` / `x == t'`
    /// Per node two entries: the child taken when the test holds (or x is NaN and nanToA), then
    /// the other.
    let children: [Int32]
    let nanToA: [UInt8]
    /// Per node 1 when the fast-path test is `x == t'` (equal, and notEqual with its children
    /// swapped: LightGBM's categorical splits), 0 for `x <= t'`.
    let isEqualTest: [UInt8]
    let hasEqualTests: Bool
    // The nodes as given, for the generic path and the reference twin.
    let comparison: [TreeComparison]
    let originalThreshold: [Float]
    let trueChild: [Int32]
    let falseChild: [Int32]
    let missingTrue: [Bool]
    let isLeaf: [Bool]
    // Per tree.
    let roots: [Int32]
    let depths: [Int32]
    // Leaves: weights `leafStart[node] ..< leafStart[node] + leafCount[node]`.
    let leafStart: [Int32]
    let leafCount: [Int32]
    let weightOutput: [Int32]
    let weightValue: [Float]
    /// Per node: its single weight's value and output, when every leaf has exactly one weight
    /// (boosted trees, regressors); nil otherwise (random forests' per-class leaves).
    let leafValue: [Float]?
    let leafOutput: [Int32]?
    /// True when every test could be rewritten as `x <= t'` or `x == t'`.
    let canonical: Bool

    /// Flattens `trees`; node 0 of each tree is its root.
    ///
    /// - Parameters:
    ///   - trees: the trees in the order their values accumulate; nodes not reachable from the
    ///     root are ignored.
    ///   - outputs: the number of scores per row (classes or targets), >= 1.
    ///   - aggregate: how trees combine.
    /// - Throws: `TreeForestError` for a child index outside its tree, a cycle, a negative
    ///   feature, a leaf weight for an output outside `0..<outputs`, an empty tree, or more
    ///   than `Int32.max` nodes.
    public init(trees: [[TreeNode]], outputs: Int, aggregate: TreeAggregate) throws(TreeForestError) {
        guard outputs >= 1 else { throw TreeForestError("a tree ensemble needs at least one output, got \(outputs)") }
        let total = trees.reduce(0) { $0 + $1.count }
        guard total < Int(Int32.max) else { throw TreeForestError("\(total) nodes are more than this kernel indexes") }
        var builder = ForestBuilder(capacity: total)
        var maxFeature = -1
        for (t, tree) in trees.enumerated() {
            guard !tree.isEmpty else { throw TreeForestError("tree \(t) has no nodes") }
            let depth = try Self.depth(of: tree, index: t)
            let base = builder.count
            for (i, node) in tree.enumerated() {
                switch node {
                case .branch(let f, let th, let cmp, let missing, let tc, let fc):
                    guard f >= 0, f < Int(Int32.max) else { throw TreeForestError("tree \(t) node \(i) reads feature \(f)") }
                    maxFeature = Swift.max(maxFeature, f)
                    builder.addBranch(feature: f, threshold: th, comparison: cmp, missingTrue: missing,
                                      trueChild: base + tc, falseChild: base + fc)
                case .leaf(let weights):
                    for w in weights where w.output < 0 || w.output >= outputs {
                        throw TreeForestError("tree \(t) leaf \(i) has a weight for output \(w.output), outside 0..<\(outputs)")
                    }
                    builder.addLeaf(self: base + i, weights: weights)
                }
            }
            builder.roots.append(Int32(base))
            builder.depths.append(Int32(depth))
        }
        self.outputs = outputs
        treeCount = trees.count
        self.aggregate = aggregate
        featureCount = maxFeature + 1
        feature = builder.feature
        threshold = builder.threshold
        children = builder.children
        isEqualTest = builder.isEqualTest
        hasEqualTests = builder.isEqualTest.contains(1)
        nanToA = builder.nanToA
        comparison = builder.comparison
        originalThreshold = builder.originalThreshold
        trueChild = builder.trueChild
        falseChild = builder.falseChild
        missingTrue = builder.missingTrue
        isLeaf = builder.isLeaf
        roots = builder.roots
        depths = builder.depths
        leafStart = builder.leafStart
        leafCount = builder.leafCount
        weightOutput = builder.weightOutput
        weightValue = builder.weightValue
        canonical = builder.canonical
        let single = zip(builder.isLeaf, builder.leafCount).allSatisfy { !$0 || $1 == 1 }
        leafValue = single ? (0..<total).map { builder.isLeaf[$0] ? builder.weightValue[Int(builder.leafStart[$0])] : 0 } : nil
        leafOutput = single ? (0..<total).map { builder.isLeaf[$0] ? builder.weightOutput[Int(builder.leafStart[$0])] : 0 } : nil
    }

    /// The number of tests on the longest path from the root to a leaf; throws on bad children
    /// or a cycle (a path longer than the tree has nodes).
    private static func depth(of tree: [TreeNode], index t: Int) throws(TreeForestError) -> Int {
        var depth = [Int](repeating: -1, count: tree.count)
        var stack = [(node: 0, level: 0)]
        var deepest = 0
        while let (node, level) = stack.popLast() {
            guard level < tree.count else { throw TreeForestError("tree \(t) has a cycle through node \(node)") }
            guard level > depth[node] else { continue }
            depth[node] = level
            if case .branch(_, _, _, _, let tc, let fc) = tree[node] {
                for child in [tc, fc] {
                    guard child >= 0, child < tree.count else {
                        throw TreeForestError("tree \(t) node \(node) has child \(child), outside the tree's \(tree.count) nodes")
                    }
                    stack.append((child, level + 1))
                }
            } else {
                deepest = Swift.max(deepest, level)
            }
        }
        return deepest
    }
}

/// Accumulates the flattened arrays while `TreeForest.init` walks the trees.
private struct ForestBuilder {
    var feature: [Int32] = [], threshold: [Float] = [], children: [Int32] = []
    var nanToA: [UInt8] = [], isEqualTest: [UInt8] = [], comparison: [TreeComparison] = [], originalThreshold: [Float] = []
    var trueChild: [Int32] = [], falseChild: [Int32] = [], missingTrue: [Bool] = [], isLeaf: [Bool] = []
    var leafStart: [Int32] = [], leafCount: [Int32] = [], weightOutput: [Int32] = [], weightValue: [Float] = []
    var roots: [Int32] = [], depths: [Int32] = []
    var canonical = true
    var count: Int { feature.count }

    init(capacity: Int) {
        feature.reserveCapacity(capacity)
        threshold.reserveCapacity(capacity)
        children.reserveCapacity(2 * capacity)
    }

    mutating func addBranch(feature f: Int, threshold t: Float, comparison cmp: TreeComparison, missingTrue: Bool,
                            trueChild tc: Int, falseChild fc: Int) {
        // Rewrite as `x <= t'`, A = the child taken when that holds; B the other.
        var t2 = t
        var a = tc, b = fc
        switch cmp {
        case .lessOrEqual: break
        case .less: t2 = t.nextDown                 // x < t  <=>  x <= t.nextDown (x not NaN)
        case .greater: swap(&a, &b)                 // x > t  <=>  !(x <= t)
        case .greaterOrEqual: t2 = t.nextDown; swap(&a, &b)   // x >= t <=> !(x < t)
        case .equal: break
        case .notEqual: swap(&a, &b)                // x != t  <=>  !(x == t)
        }
        // -inf.nextDown is -inf, so `x < -inf` (never true) would wrongly hold at x = -inf; and
        // against a NaN threshold `x > t` is false but `!(x <= t)` true. Both take the generic path.
        if (cmp == .less || cmp == .greaterOrEqual) && t == -.infinity { canonical = false }
        if (cmp == .greater || cmp == .greaterOrEqual) && t.isNaN { canonical = false }
        let nanChild = missingTrue || cmp == .notEqual ? tc : fc
        feature.append(Int32(f))
        threshold.append(t2)
        children.append(Int32(a))
        children.append(Int32(b))
        nanToA.append(nanChild == a ? 1 : 0)
        isEqualTest.append(cmp == .equal || cmp == .notEqual ? 1 : 0)
        comparison.append(cmp)
        originalThreshold.append(t)
        trueChild.append(Int32(tc))
        falseChild.append(Int32(fc))
        self.missingTrue.append(missingTrue)
        isLeaf.append(false)
        leafStart.append(Int32(weightValue.count))
        leafCount.append(0)
    }

    mutating func addLeaf(self index: Int, weights: [TreeLeafWeight]) {
        feature.append(0)
        threshold.append(0)
        children.append(Int32(index))
        children.append(Int32(index))
        nanToA.append(0)
        isEqualTest.append(0)
        comparison.append(.lessOrEqual)
        originalThreshold.append(0)
        trueChild.append(Int32(index))
        falseChild.append(Int32(index))
        missingTrue.append(false)
        isLeaf.append(true)
        leafStart.append(Int32(weightValue.count))
        leafCount.append(Int32(weights.count))
        for w in weights {
            weightOutput.append(Int32(w.output))
            weightValue.append(w.value)
        }
    }
}
