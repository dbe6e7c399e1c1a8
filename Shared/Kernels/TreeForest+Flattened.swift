/// A forest as a few scalars plus plain arrays, so that it can be written outside the process
/// (the infer stage's weight cache) and used again from there, mapped read-only and shared.
extension TreeForest {
    /// `scalars` and `buffers` for `init(scalars:buffers:)`.
    public var flattened: (scalars: [Int64], buffers: [WeightBuffer]) {
        let scalars: [Int64] = [Int64(outputs), Int64(Self.code(aggregate)), Int64(featureCount), canonical ? 1 : 0,
                                leafValue != nil ? 1 : 0]
        var buffers = [feature.buffer, threshold.buffer, children.buffer, nanToA.buffer, isEqualTest.buffer,
                       comparison.buffer, originalThreshold.buffer, trueChild.buffer, falseChild.buffer,
                       missingTrue.buffer, isLeaf.buffer, roots.buffer, depths.buffer, leafStart.buffer,
                       leafCount.buffer, weightOutput.buffer, weightValue.buffer]
        if let leafValue, let leafOutput { buffers += [leafValue.buffer, leafOutput.buffer] }
        return (scalars, buffers)
    }

    /// A forest from what `flattened` gave (possibly in another process), checked so that no
    /// walk can leave its arrays: every index in range, every code valid. O(nodes + weights).
    ///
    /// - Throws: `TreeForestError` when the arrays do not make a valid forest.
    public convenience init(scalars: [Int64], buffers: [WeightBuffer]) throws(TreeForestError) {
        let bad = { (what: String) in TreeForestError("stored forest: \(what)") }
        guard scalars.count == 5, let aggregate = Self.aggregate(code: scalars[1]),
              scalars[0] >= 1, scalars[0] <= Int64(Int32.max), scalars[2] >= 0, scalars[2] <= Int64(Int32.max) else {
            throw bad("bad scalars \(scalars)")
        }
        let outputs = Int(scalars[0]), featureCount = Int(scalars[2])
        let single = scalars[4] != 0
        guard buffers.count == (single ? 19 : 17) else { throw bad("\(buffers.count) arrays") }
        func view<T: BitwiseCopyable>(_ index: Int, _: T.Type) throws(TreeForestError) -> WeightArray<T> {
            guard let array = WeightArray<T>(viewing: buffers[index]) else { throw bad("array \(index) is misaligned") }
            return array
        }
        let a = Arrays(
            feature: try view(0, Int32.self), threshold: try view(1, Float.self), children: try view(2, Int32.self),
            nanToA: try view(3, UInt8.self), isEqualTest: try view(4, UInt8.self), comparison: try view(5, UInt8.self),
            originalThreshold: try view(6, Float.self), trueChild: try view(7, Int32.self),
            falseChild: try view(8, Int32.self), missingTrue: try view(9, UInt8.self), isLeaf: try view(10, UInt8.self),
            roots: try view(11, Int32.self), depths: try view(12, Int32.self), leafStart: try view(13, Int32.self),
            leafCount: try view(14, Int32.self), weightOutput: try view(15, Int32.self),
            weightValue: try view(16, Float.self),
            leafValue: single ? try view(17, Float.self) : nil, leafOutput: single ? try view(18, Int32.self) : nil)
        try Self.check(a, outputs: outputs, featureCount: featureCount, bad)
        self.init(outputs: outputs, aggregate: aggregate, featureCount: featureCount, canonical: scalars[3] != 0, arrays: a)
    }

    private static func check(_ a: Arrays, outputs: Int, featureCount: Int,
                              _ bad: (String) -> TreeForestError) throws(TreeForestError) {
        let nodes = a.feature.count
        for (name, count) in [("threshold", a.threshold.count), ("nanToA", a.nanToA.count), ("isEqualTest", a.isEqualTest.count),
                              ("comparison", a.comparison.count), ("originalThreshold", a.originalThreshold.count),
                              ("trueChild", a.trueChild.count), ("falseChild", a.falseChild.count),
                              ("missingTrue", a.missingTrue.count), ("isLeaf", a.isLeaf.count),
                              ("leafStart", a.leafStart.count), ("leafCount", a.leafCount.count),
                              ("children", a.children.count / 2), ("leafValue", a.leafValue?.count ?? nodes),
                              ("leafOutput", a.leafOutput?.count ?? nodes)] where count != nodes {
            throw bad("\(name) has \(count) entries for \(nodes) nodes")
        }
        guard a.children.count == 2 * nodes, a.roots.count == a.depths.count, a.weightOutput.count == a.weightValue.count else {
            throw bad("array sizes do not match")
        }
        let inNodes = { (i: Int32) in i >= 0 && Int(i) < nodes }
        let weights = a.weightValue.count
        for i in 0..<nodes {
            guard inNodes(a.children[2 * i]), inNodes(a.children[2 * i + 1]), inNodes(a.trueChild[i]), inNodes(a.falseChild[i]),
                  a.feature[i] >= 0, Int(a.feature[i]) < max(featureCount, 1), TreeComparison(rawValue: a.comparison[i]) != nil,
                  a.leafStart[i] >= 0, a.leafCount[i] >= 0, Int(a.leafStart[i]) + Int(a.leafCount[i]) <= weights,
                  (a.leafOutput.map { $0[i] >= 0 && Int($0[i]) < outputs } ?? true) else {
                throw bad("node \(i) is out of range")
            }
        }
        for t in 0..<a.roots.count where !inNodes(a.roots[t]) || a.depths[t] < 0 {
            throw bad("tree \(t) is out of range")
        }
        for w in 0..<weights where a.weightOutput[w] < 0 || Int(a.weightOutput[w]) >= outputs {
            throw bad("weight \(w) is for output \(a.weightOutput[w])")
        }
    }

    private static func code(_ aggregate: TreeAggregate) -> Int {
        switch aggregate {
        case .sum: 0
        case .average: 1
        case .min: 2
        case .max: 3
        }
    }

    private static func aggregate(code: Int64) -> TreeAggregate? {
        switch code {
        case 0: .sum
        case 1: .average
        case 2: .min
        case 3: .max
        default: nil
        }
    }
}
