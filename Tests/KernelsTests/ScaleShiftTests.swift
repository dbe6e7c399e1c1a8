import Testing
import Kernels

@Suite struct ScaleShiftTests {
    /// Made with scikit-learn 1.9.1 / numpy 2.4.6:
    ///     X = (np.random.default_rng(7).standard_normal((40, 1)) * 30 + 52).round(3)
    ///     StandardScaler().fit(X).transform(X)[:12, 0].astype(np.float32).view(np.uint32)
    ///     MinMaxScaler().fit(X).transform(X)[:12, 0].astype(np.float32).view(np.uint32)
    /// with the fitted mean_, scale_ (StandardScaler) and scale_, min_ (MinMaxScaler) below.
    static let x: [Double] = [52.037, 60.962, 43.776, 25.282, 38.36, 22.251, 53.804, 92.206, 37.234,
                              33.386, 66.695, 62.707]
    static let mean = 40.144425
    static let std = 24.312749088582617
    static let standardized: [UInt32] = [0x3efa_71d6, 0x3f5b_329e, 0x3e18_f43b, 0xbf1c_7e45, 0xbd96_4feb,
                                         0xbf3c_6874, 0x3f0f_d3f0, 0x4009_0b85, 0xbdf5_2959, 0xbe8e_5337,
                                         0x3f8b_c813, 0x3f6d_9256]
    static let minMaxScale = 0.008642370083571719
    static let minMaxOffset = 0.2031216240741861
    static let minMaxed: [UInt32] = [0x3f27_20d3, 0x3f3a_dfd3, 0x3f14_d9e9, 0x3ed7_de51, 0x3f08_de5c,
                                     0x3eca_74e2, 0x3f2b_09a1, 0x3f80_0000, 0x3f06_609c, 0x3efb_ba4f,
                                     0x3f47_8eeb, 0x3f3e_bc2b]

    @Test("scaleShift equals scikit-learn's StandardScaler bit for bit")
    func standardScaler() {
        var out = [Float](repeating: 0, count: 2 * Self.x.count)
        scaleShift(Self.x, count: Self.x.count, shift: Self.mean, divide: Self.std, into: &out, stride: 2)
        #expect((0..<Self.x.count).map { out[2 * $0].bitPattern } == Self.standardized)
        #expect((0..<Self.x.count).allSatisfy { out[2 * $0 + 1] == 0 })
    }

    @Test("scaleAdd equals scikit-learn's MinMaxScaler bit for bit")
    func minMaxScaler() {
        var out = [Float](repeating: 0, count: Self.x.count)
        scaleAdd(Self.x, count: Self.x.count, scale: Self.minMaxScale, offset: Self.minMaxOffset,
                 into: &out, stride: 1)
        #expect(out.map(\.bitPattern) == Self.minMaxed)
    }

    /// Both versions do the same two correctly rounded Double operations and one rounding to
    /// Float, so here (and only here) exact equality is the right test.
    @Test("fast versions equal their twins exactly", arguments: awkwardSizes)
    func twins(count: Int) {
        var rng = SplitMix64(seed: UInt64(count) + 11)
        let x = (0..<max(count, 1)).map { _ in Double.random(in: -1e6...1e6, using: &rng) }
        for stride in [1, 3] {
            var fast = [Float](repeating: -1, count: max(count * stride, 1))
            var slow = fast
            scaleShift(x, count: count, shift: 12.5, divide: 3.3, into: &fast, stride: stride)
            scaleShiftReference(x, count: count, shift: 12.5, divide: 3.3, into: &slow, stride: stride)
            #expect(fast.map(\.bitPattern) == slow.map(\.bitPattern))
            scaleAdd(x, count: count, scale: 0.3, offset: -7.1, into: &fast, stride: stride)
            scaleAddReference(x, count: count, scale: 0.3, offset: -7.1, into: &slow, stride: stride)
            #expect(fast.map(\.bitPattern) == slow.map(\.bitPattern))
        }
    }
}
