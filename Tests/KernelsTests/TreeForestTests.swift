import Kernels
import Testing
import TestSupport

/// The fast forest walk against its scalar reference twin. Both accumulate the same values in
/// the same order, so they must agree exactly (bit for bit), whatever the tests, NaNs and ties.
@Suite struct TreeForestTests {
    /// Thresholds and inputs from one small set, so rows land exactly on thresholds often.
    static let values: [Float] = [-2, -0.5, 0, 0.25, 1, 3, .infinity, -.infinity, Float(0.25).nextUp, Float(1).nextDown]

    /// A random tree of at most `depth` levels (leaves at any level), nodes in depth-first order.
    static func randomTree(_ rng: inout SplitMix64, depth: Int, features: Int, outputs: Int,
                           comparisons: [TreeComparison], weightsPerLeaf: ClosedRange<Int>) -> [TreeNode] {
        var nodes: [TreeNode] = []
        func build(_ level: Int) -> Int {
            let index = nodes.count
            nodes.append(.leaf([]))
            if level == depth || (level > 0 && Int.random(in: 0..<4, using: &rng) == 0) {
                let count = Int.random(in: weightsPerLeaf, using: &rng)
                nodes[index] = .leaf((0..<count).map { _ in
                    TreeLeafWeight(output: Int.random(in: 0..<outputs, using: &rng), value: Float.random(in: -1...1, using: &rng))
                })
                return index
            }
            let t = build(level + 1)
            let f = build(level + 1)
            nodes[index] = .branch(feature: Int.random(in: 0..<features, using: &rng),
                                   threshold: values.randomElement(using: &rng)!,
                                   comparison: comparisons.randomElement(using: &rng)!,
                                   missingGoesTrue: Bool.random(using: &rng), trueChild: t, falseChild: f)
            return index
        }
        _ = build(0)
        return nodes
    }

    static func randomInput(_ rng: inout SplitMix64, rows: Int, ldx: Int) -> [Float] {
        (0..<(rows * ldx)).map { _ in
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: .nan
            case 1...5: values.randomElement(using: &rng)!
            default: Float.random(in: -3...3, using: &rng)
            }
        }
    }

    /// Runs both twins and checks every score (and presence flag) is identical.
    static func check(_ forest: TreeForest, rows: Int, ldx: Int, input: [Float], presence: Bool) {
        let n = rows * forest.outputs
        var fast = [Float](repeating: .nan, count: max(n, 1))
        var slow = [Float](repeating: .nan, count: max(n, 1))
        var fastSeen = [Float](repeating: .nan, count: max(n, 1))
        var slowSeen = [Float](repeating: .nan, count: max(n, 1))
        input.withUnsafeBufferPointer { x in
            let base = x.baseAddress ?? UnsafePointer(bitPattern: 64)!
            fast.withUnsafeMutableBufferPointer { f in fastSeen.withUnsafeMutableBufferPointer { fs in
                forest.evaluate(rows: rows, x: base, ldx: ldx, scores: f.baseAddress!, presence: presence ? fs.baseAddress! : nil)
            } }
            slow.withUnsafeMutableBufferPointer { s in slowSeen.withUnsafeMutableBufferPointer { ss in
                forest.evaluateReference(rows: rows, x: base, ldx: ldx, scores: s.baseAddress!, presence: presence ? ss.baseAddress! : nil)
            } }
        }
        let differing = (0..<n).filter { fast[$0].bitPattern != slow[$0].bitPattern }
        let first = differing.first ?? 0
        #expect(differing.isEmpty, "rows \(rows): \(differing.count) scores differ, first at \(first): \(fast[first]) vs \(slow[first])")
        if presence {
            #expect(fastSeen[0..<n] == slowSeen[0..<n], "rows \(rows): presence differs")
        }
    }

    static let rowCounts = [0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 129, 4099]

    @Test(arguments: [TreeAggregate.sum, .average, .min, .max])
    func fastPathMatchesReference(aggregate: TreeAggregate) throws {
        var rng = SplitMix64(seed: 7)
        // Rewritable tests (the branch-free path), all six tests (the generic path), multi-output
        // leaves, one weight per leaf, and a single output.
        let configurations: [([TreeComparison], Int, ClosedRange<Int>)] = [
            ([.lessOrEqual, .less, .greaterOrEqual, .greater], 1, 1...1),
            ([.lessOrEqual, .less, .greaterOrEqual, .greater], 3, 1...1),
            ([.lessOrEqual, .less, .greaterOrEqual, .greater], 3, 0...3),
            (TreeComparison.allCases, 2, 0...2),
            (TreeComparison.allCases, 1, 1...1),
        ]
        for (comparisons, outputs, perLeaf) in configurations {
            let trees = (0..<9).map { _ in
                Self.randomTree(&rng, depth: Int.random(in: 1...7, using: &rng), features: 5, outputs: outputs,
                                comparisons: comparisons, weightsPerLeaf: perLeaf)
            }
            let forest = try TreeForest(trees: trees, outputs: outputs, aggregate: aggregate)
            for rows in Self.rowCounts {
                let ldx = rows % 2 == 0 ? 5 : 7  // strided rows too
                let input = Self.randomInput(&rng, rows: rows, ldx: ldx)
                Self.check(forest, rows: rows, ldx: ldx, input: input, presence: false)
                Self.check(forest, rows: rows, ldx: ldx, input: input, presence: true)
            }
        }
    }

    /// One node per comparison, against the rule onnxruntime applies: `x CMP t`, except NaN,
    /// which goes true only when missing values track true (or the test is `notEqual`).
    @Test(arguments: TreeComparison.allCases)
    func singleTestFollowsOnnxRuntimeRule(comparison: TreeComparison) throws {
        for threshold in Self.values + [.nan] {
            for missing in [false, true] {
                let tree: [TreeNode] = [
                    .branch(feature: 0, threshold: threshold, comparison: comparison, missingGoesTrue: missing,
                            trueChild: 1, falseChild: 2),
                    .leaf([TreeLeafWeight(output: 0, value: 1)]), .leaf([TreeLeafWeight(output: 0, value: 2)]),
                ]
                let forest = try TreeForest(trees: [tree], outputs: 1, aggregate: .sum)
                let inputs = Self.values + [.nan, threshold.nextUp, threshold.nextDown, -0.0]
                var scores = [Float](repeating: 0, count: inputs.count)
                forest.evaluate(rows: inputs.count, x: inputs, ldx: 1, scores: &scores)
                for (x, got) in zip(inputs, scores) {
                    let expected: Float = comparison.holds(x, threshold) || (missing && x.isNaN) ? 1 : 2
                    #expect(got == expected, "\(comparison) x=\(x) t=\(threshold) missing=\(missing)")
                }
            }
        }
    }

    @Test func averageDividesTheSumByTheTreeCount() throws {
        let leaf = { (v: Float) in [TreeNode.leaf([TreeLeafWeight(output: 0, value: v)])] }
        let forest = try TreeForest(trees: [leaf(1), leaf(2), leaf(4)], outputs: 1, aggregate: .average)
        var score: Float = 0
        forest.evaluate(rows: 1, x: [0], ldx: 1, scores: &score)
        #expect(score == Float(7) / 3)
        #expect(forest.featureCount == 0)
    }

    @Test func minAndMaxLeaveUnreachedOutputsAtZero() throws {
        let trees: [[TreeNode]] = [[.leaf([TreeLeafWeight(output: 0, value: 5)])], [.leaf([TreeLeafWeight(output: 0, value: 3)])]]
        for (aggregate, expected) in [(TreeAggregate.min, Float(3)), (.max, 5)] {
            let forest = try TreeForest(trees: trees, outputs: 2, aggregate: aggregate)
            var scores: [Float] = [.nan, .nan]
            var seen: [Float] = [.nan, .nan]
            forest.evaluate(rows: 1, x: [0], ldx: 1, scores: &scores, presence: &seen)
            #expect(scores == [expected, 0])
            #expect(seen == [1, 0])
        }
    }

    @Test func invalidTreesAreRejected() {
        let leaf = TreeNode.leaf([])
        let cases: [([[TreeNode]], Int, String)] = [
            ([[.branch(feature: 0, threshold: 0, comparison: .less, missingGoesTrue: false, trueChild: 1, falseChild: 5), leaf]],
             1, "outside the tree"),
            ([[.branch(feature: 0, threshold: 0, comparison: .less, missingGoesTrue: false, trueChild: 0, falseChild: 1), leaf]],
             1, "cycle"),
            ([[]], 1, "no nodes"),
            ([[.leaf([TreeLeafWeight(output: 2, value: 1)])]], 2, "outside 0..<2"),
            ([[.branch(feature: -1, threshold: 0, comparison: .less, missingGoesTrue: false, trueChild: 1, falseChild: 1), leaf]],
             1, "feature -1"),
            ([[leaf]], 0, "at least one output"),
        ]
        for (trees, outputs, text) in cases {
            let error = #expect(throws: TreeForestError.self) { try TreeForest(trees: trees, outputs: outputs, aggregate: .sum) }
            #expect(error?.description.contains(text) == true, "\(error?.description ?? "no error") lacks \(text)")
        }
    }
}
