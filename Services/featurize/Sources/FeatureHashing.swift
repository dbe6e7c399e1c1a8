import Kernels

/// scikit-learn's `FeatureHasher(n_features=buckets, input_type="string", alternate_sign=...)`
/// applied to one string value, as the `hash` feature kind uses it.
///
/// scikit-learn hashes the value's UTF-8 bytes with signed MurmurHash3 (seed 0) to `h`, puts it in
/// column `abs(h) % buckets` and gives it the value -1 when `h < 0` and alternate signs are on,
/// else +1. `abs(Int32.min)` is undefined in C; scikit-learn special-cases it to mean 2^31, which
/// `Int32.magnitude` is. The empty string is hashed like any other (to column 0, value +1).
public enum FeatureHashing {
    /// The column and value of the string whose UTF-8 bytes are `utf8`.
    ///
    /// - Parameters:
    ///   - utf8: the string's bytes (may be empty).
    ///   - buckets: the number of columns, `1...Int32.max`.
    ///   - alternateSign: whether a negative hash gives -1 (scikit-learn's default, true).
    /// - Returns: the column in `0..<buckets` and the value, `1` or `-1`.
    @inline(__always)
    public static func hash(_ utf8: UnsafeRawBufferPointer, buckets: Int, alternateSign: Bool = true)
        -> (column: Int, value: Float)
    {
        precondition(buckets >= 1 && buckets <= Int(Int32.max), "hash buckets \(buckets) out of range")
        let h = murmurHash3_32Signed(utf8, seed: 0)
        return (Int(h.magnitude) % buckets, alternateSign && h < 0 ? -1 : 1)
    }

    /// The column and value of `string` (tests, tools).
    public static func hash(_ string: String, buckets: Int, alternateSign: Bool = true) -> (column: Int, value: Float) {
        var s = string
        return s.withUTF8 { hash(UnsafeRawBufferPointer($0), buckets: buckets, alternateSign: alternateSign) }
    }
}
