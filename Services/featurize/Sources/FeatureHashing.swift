import Kernels

/// scikit-learn's `FeatureHasher(n_features=buckets, input_type="string", alternate_sign=True)`
/// applied to one string value, as the `hash` feature kind uses it.
///
/// scikit-learn hashes the value's UTF-8 bytes with signed MurmurHash3 (seed 0) to `h`, puts it in
/// column `abs(h) % buckets` and gives it the value -1 when `h < 0`, else +1. `abs(Int32.min)`
/// is undefined in C; scikit-learn special-cases it to mean 2^31, which `Int32.magnitude` is.
///
/// Unlike scikit-learn, the stage emits nothing for an empty string (scikit-learn would hash ""
/// into column 0 with +1): an empty optional string field means "absent" here, as a missing one does.
public enum FeatureHashing {
    /// The column and value of the string whose UTF-8 bytes are `utf8`.
    ///
    /// - Parameters:
    ///   - utf8: the string's bytes (may be empty: the caller decides whether to emit it).
    ///   - buckets: the number of columns, `1...Int32.max`.
    /// - Returns: the column in `0..<buckets` and the value, `1` or `-1`.
    @inline(__always)
    public static func hash(_ utf8: UnsafeRawBufferPointer, buckets: Int) -> (column: Int, value: Float) {
        precondition(buckets >= 1 && buckets <= Int(Int32.max), "hash buckets \(buckets) out of range")
        let h = murmurHash3_32Signed(utf8, seed: 0)
        return (Int(h.magnitude) % buckets, h < 0 ? -1 : 1)
    }

    /// The column and value of `string` (tests, tools).
    public static func hash(_ string: String, buckets: Int) -> (column: Int, value: Float) {
        var s = string
        return s.withUTF8 { hash(UnsafeRawBufferPointer($0), buckets: buckets) }
    }
}
