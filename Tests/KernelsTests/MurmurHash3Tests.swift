import Testing
import Kernels

@Suite struct MurmurHash3Tests {
    /// Expected values made with scikit-learn 1.9.1:
    ///     from sklearn.utils import murmurhash3_32
    ///     murmurhash3_32(key, seed=seed, positive=True)   # and positive=False for the signed one
    /// with `key` the bytes below (strings as their UTF-8 encoding, which is what scikit-learn hashes).
    static let vectors: [(key: [UInt8], seed: UInt32, unsigned: UInt32, signed: Int32)] = [
        (Array("".utf8), 0, 0, 0),
        (Array("a".utf8), 0, 1_009_084_850, 1_009_084_850),
        (Array("ab".utf8), 0, 2_613_040_991, -1_681_926_305),
        (Array("abc".utf8), 0, 3_017_643_002, -1_277_324_294),
        (Array("abcd".utf8), 0, 1_139_631_978, 1_139_631_978),
        (Array("abcde".utf8), 0, 3_902_511_862, -392_455_434),
        (Array("hello world".utf8), 0, 1_586_663_183, 1_586_663_183),
        (Array("café".utf8), 0, 605_818_632, 605_818_632),
        (Array("日本語".utf8), 0, 2_779_017_879, -1_515_949_417),
        (Array("😀 ok".utf8), 0, 2_054_424_896, 2_054_424_896),
        (Array("The quick brown fox jumps over the lazy dog".utf8), 0, 776_992_547, 776_992_547),
        (Array("".utf8), 42, 142_593_372, 142_593_372),
        (Array("a".utf8), 42, 3_001_393_763, -1_293_573_533),
        (Array("ab".utf8), 42, 3_610_054_215, -684_913_081),
        (Array("abc".utf8), 42, 1_313_807_976, 1_313_807_976),
        (Array("abcd".utf8), 42, 3_898_664_396, -396_302_900),
        (Array("abcde".utf8), 42, 2_933_533_680, -1_361_433_616),
        (Array("日本語".utf8), 42, 3_318_144_696, -976_822_600),
        (Array("".utf8), 0xFFFF_FFFF, 2_180_083_513, -2_114_883_783),
        (Array("a".utf8), 0xFFFF_FFFF, 711_476_519, 711_476_519),
        (Array("ab".utf8), 0xFFFF_FFFF, 2_944_253_413, -1_350_713_883),
        (Array("abc".utf8), 0xFFFF_FFFF, 4_236_296_879, -58_670_417),
        (Array("😀 ok".utf8), 0xFFFF_FFFF, 3_081_739_960, -1_213_227_336),
        (Array("The quick brown fox jumps over the lazy dog".utf8), 0xFFFF_FFFF, 590_642_366, 590_642_366),
    ]

    @Test("known scikit-learn values", arguments: vectors.indices)
    func knownValues(index: Int) {
        let v = Self.vectors[index]
        v.key.withUnsafeBytes { bytes in
            #expect(murmurHash3_32(bytes, seed: v.seed) == v.unsigned)
            #expect(murmurHash3_32Signed(bytes, seed: v.seed) == v.signed)
        }
        #expect(murmurHash3_32(String(decoding: v.key, as: UTF8.self), seed: v.seed) == v.unsigned)
    }

    @Test("the key's position in memory does not matter (unaligned loads)")
    func unaligned() {
        let key = Array("The quick brown fox jumps over the lazy dog".utf8)
        for offset in 0...3 {
            let shifted = [UInt8](repeating: 9, count: offset) + key
            shifted.withUnsafeBytes { bytes in
                let slice = UnsafeRawBufferPointer(rebasing: bytes[offset...])
                #expect(murmurHash3_32(slice, seed: 0) == 776_992_547)
            }
        }
    }
}
