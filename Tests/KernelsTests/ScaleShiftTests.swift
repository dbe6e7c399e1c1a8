import Testing
import Kernels
import TestSupport

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

    /// Inputs where dividing by the scale and multiplying by its reciprocal round to different
    /// floats, so a kernel that "optimizes" the division is caught. Made with scikit-learn 1.9.1:
    /// a StandardScaler with mean_ = [40.144425], scale_ = [24.312749088582617], and
    /// x = q·scale + mean for float32 midpoints q (searched until
    /// float32((x - mean) / scale) != float32((x - mean) * (1 / scale))); expected bits from
    /// scaler.transform(x).astype(np.float32). Nine values: one full vector plus a scalar tail.
    static let hardX: [Double] = [5.47153057664125, 7.1833973574798335, 87.8205585600163,
                                  22.701137550982985, 33.71549674620277, 1.0349203792355866,
                                  55.48138338507911, 104.14800489505839, 29.854902314172044]
    static let hardStandardized: [UInt32] = [0xbfb6_8b18, 0xbfad_87e4, 0x3ffb_0079, 0xbf37_ab16, 0xbe87_62df,
                                             0xbfcd_e6a0, 0x3f21_7d64, 0x4028_7b0f, 0xbed8_afa6]

    @Test("scaleShift divides (a reciprocal multiply would differ on these inputs)")
    func divisionNotReciprocal() {
        var fast = [Float](repeating: 0, count: Self.hardX.count)
        var slow = fast
        scaleShift(Self.hardX, count: Self.hardX.count, shift: Self.mean, divide: Self.std, into: &fast, stride: 1)
        scaleShiftReference(Self.hardX, count: Self.hardX.count, shift: Self.mean, divide: Self.std,
                            into: &slow, stride: 1)
        #expect(fast.map(\.bitPattern) == Self.hardStandardized)
        #expect(slow.map(\.bitPattern) == Self.hardStandardized)
    }

    /// Inputs where a fused multiply-add would round differently from scikit-learn's separate
    /// multiply and add. Made like `hardX`, with a MinMaxScaler with scale_ = [minMaxScale],
    /// min_ = [minMaxOffset], searching x = (q - min_) / scale_ for float32 midpoints q until
    /// float32(x * scale_ + min_) (numpy, two roundings) != float32 of the exactly rounded
    /// x·scale_ + min_ (Python fractions); expected bits from scaler.transform(x).astype(np.float32).
    static let hardMinMaxX: [Double] = [-16.30711052835174, -16.971667047863825, -16.179607129815967,
                                        -16.42443102630414, -17.066891942543908, -17.48371993773617,
                                        -17.48153925773315, -16.40604719126783, -16.848721352433785]
    static let hardMinMaxed: [UInt32] = [0x3d7e_ba76, 0x3d67_3420, 0x3d81_9ef6, 0x3d7a_9348, 0x3d63_d52e,
                                         0x3d55_13d0, 0x3d55_2792, 0x3d7b_39e0, 0x3d6b_8e48]

    @Test("scaleAdd multiplies and adds separately (an FMA would differ on these inputs)")
    func noFusedMultiplyAdd() {
        var fast = [Float](repeating: 0, count: Self.hardMinMaxX.count)
        var slow = fast
        scaleAdd(Self.hardMinMaxX, count: Self.hardMinMaxX.count, scale: Self.minMaxScale,
                 offset: Self.minMaxOffset, into: &fast, stride: 1)
        scaleAddReference(Self.hardMinMaxX, count: Self.hardMinMaxX.count, scale: Self.minMaxScale,
                          offset: Self.minMaxOffset, into: &slow, stride: 1)
        #expect(fast.map(\.bitPattern) == Self.hardMinMaxed)
        #expect(slow.map(\.bitPattern) == Self.hardMinMaxed)
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
