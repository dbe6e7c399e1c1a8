import Kernels
import Testing
import TestSupport

/// Kernel storage in borrowed memory (as a mapped weight cache provides it) gives the same bits
/// as the storage the kernels build themselves.
@Suite struct WeightArrayTests {
    /// A copy of `buffer` in memory "someone else" owns, the way a mapping is borrowed.
    final class Owner {
        let memory: UnsafeMutableRawPointer
        init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
            memory = .allocate(byteCount: bytes.count + offset + 1, alignment: 64)
            if let base = bytes.baseAddress { (memory + offset).copyMemory(from: base, byteCount: bytes.count) }
        }
        deinit { memory.deallocate() }
    }

    static func borrowed(_ buffer: WeightBuffer, offset: Int = 0) -> WeightBuffer {
        let owner = Owner(buffer.bytes, offset: offset)
        return WeightBuffer(borrowing: owner.memory + offset, byteCount: buffer.byteCount, owner: owner)
    }

    @Test func arraysRoundTripAndStayAligned() {
        for count in awkwardSizes {
            let values = (0..<count).map { Int32($0 * 3 - 7) }
            let array = WeightArray(values)
            #expect(array.array == values && array.count == count && !array.buffer.isBorrowed)
            #expect(UInt(bitPattern: array.buffer.base) % 64 == 0)
            let view = WeightArray<Int32>(viewing: Self.borrowed(array.buffer))
            #expect(view?.array == values && view?.buffer.isBorrowed == true)
        }
    }

    @Test func misalignedOrRaggedMemoryIsNotViewed() {
        let array = WeightArray([Float](repeating: 1, count: 9))
        #expect(WeightArray<Float>(viewing: Self.borrowed(array.buffer, offset: 2)) == nil)
        let ragged = WeightBuffer(byteCount: 10)
        #expect(WeightArray<Float>(viewing: ragged) == nil)
        #expect(WeightArray<UInt8>(viewing: ragged)?.count == 10)
    }

    @Test(arguments: [(0, 0), (1, 1), (5, 7), (17, 16), (33, 17), (64, 10)])
    func borrowedPanelsGiveTheSameProducts(k: Int, n: Int) {
        var rng = SplitMix64(seed: UInt64(k * 100 + n))
        let packed = PackedWeights(rng.floats(k * n), k: k, n: n)
        let shared = PackedWeights(k: k, n: n, panels: WeightArray(viewing: Self.borrowed(packed.buffer))!)
        #expect(shared.unpacked() == packed.unpacked())
        let m = 13
        let a = rng.floats(m * k)
        let bias = rng.floats(n)
        var c1 = [Float](repeating: .nan, count: max(m * n, 1))
        var c2 = c1
        a.withUnsafeBufferPointer { a in bias.withUnsafeBufferPointer { bias in
            let x = a.baseAddress ?? UnsafePointer(bitPattern: 64)!
            c1.withUnsafeMutableBufferPointer {
                gemm(m: m, a: x, lda: k, b: packed, bias: bias.baseAddress, activation: .relu, c: $0.baseAddress!, ldc: n)
            }
            c2.withUnsafeMutableBufferPointer {
                gemm(m: m, a: x, lda: k, b: shared, bias: bias.baseAddress, activation: .relu, c: $0.baseAddress!, ldc: n)
            }
        } }
        #expect(zip(c1, c2).allSatisfy { $0.bitPattern == $1.bitPattern })
    }

    @Test func flattenedForestsScoreTheSameBits() throws {
        var rng = SplitMix64(seed: 11)
        for (outputs, perLeaf, aggregate) in [(1, 1...1, TreeAggregate.sum), (3, 0...3, .average), (2, 1...2, .max)] {
            let trees = (0..<6).map { _ in
                TreeForestTests.randomTree(&rng, depth: 5, features: 4, outputs: outputs, comparisons: TreeComparison.allCases,
                                           weightsPerLeaf: perLeaf)
            }
            let forest = try TreeForest(trees: trees, outputs: outputs, aggregate: aggregate)
            let flat = forest.flattened
            let copy = try TreeForest(scalars: flat.scalars, buffers: flat.buffers.map { Self.borrowed($0) })
            #expect(copy.outputs == outputs && copy.treeCount == forest.treeCount && copy.featureCount == forest.featureCount)
            let rows = 70
            let input = TreeForestTests.randomInput(&rng, rows: rows, ldx: 4)
            var a = [Float](repeating: .nan, count: rows * outputs)
            var b = a
            input.withUnsafeBufferPointer { x in
                a.withUnsafeMutableBufferPointer { forest.evaluate(rows: rows, x: x.baseAddress!, ldx: 4, scores: $0.baseAddress!) }
                b.withUnsafeMutableBufferPointer { copy.evaluate(rows: rows, x: x.baseAddress!, ldx: 4, scores: $0.baseAddress!) }
            }
            #expect(zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern })
        }
    }

    @Test func corruptFlattenedForestsAreRefused() throws {
        let tree: [TreeNode] = [
            .branch(feature: 1, threshold: 0.5, comparison: .less, missingGoesTrue: false, trueChild: 1, falseChild: 2),
            .leaf([TreeLeafWeight(output: 0, value: 1)]), .leaf([TreeLeafWeight(output: 0, value: 2)]),
        ]
        let flat = try TreeForest(trees: [tree], outputs: 1, aggregate: .sum).flattened
        // A child index past the nodes (array 2: children).
        var children = WeightArray<Int32>(viewing: flat.buffers[2])!.array
        children[0] = 99
        var buffers = flat.buffers
        buffers[2] = WeightArray(children).buffer
        #expect(throws: TreeForestError.self) { try TreeForest(scalars: flat.scalars, buffers: buffers) }
        // A comparison code that is not one (array 5).
        buffers = flat.buffers
        buffers[5] = WeightArray([UInt8](repeating: 9, count: 3)).buffer
        #expect(throws: TreeForestError.self) { try TreeForest(scalars: flat.scalars, buffers: buffers) }
        // Missing arrays, bad scalars.
        #expect(throws: TreeForestError.self) { try TreeForest(scalars: flat.scalars, buffers: Array(flat.buffers.dropLast())) }
        #expect(throws: TreeForestError.self) { try TreeForest(scalars: [0, 0, 0, 0, 1], buffers: flat.buffers) }
    }
}
