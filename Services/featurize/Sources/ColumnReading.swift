import Kernels
import Messages

/// Reading record columns the way the feature kinds need them.
extension ColumnView {
    /// Writes the column's values as doubles to `out[0..<count]`, NaN where a value is missing,
    /// then `fill` in place of every NaN when one is given.
    ///
    /// Ints convert to the nearest Double, bools to 0 or 1. A missing int or bool holds 0 on the
    /// wire; it must become NaN here so that every numeric kind maps "missing" to NaN.
    func gatherDoubles(into out: UnsafeMutablePointer<Double>, fill: Double?) {
        for row in 0..<count {
            out[row] = isMissing(row) ? .nan : double(row)
        }
        if let fill { imputeNaN(out, count: count, fill: fill) }
    }

    /// The output column (within the feature) of `row`'s category, or nil when the value is
    /// missing without a fill, unknown, or the dropped category.
    @inline(__always)
    func category(_ row: Int, in encoding: OneHotEncoding) -> Int? {
        let index: Int?
        if isMissing(row) {
            index = encoding.fill
        } else {
            switch encoding.text {
            case .string: index = encoding.table.index(of: string(row))
            case .int: index = encoding.table.index(ofDecimal: int(row))
            case .bool:
                let word: StaticString = bool(row) ? "true" : "false"
                index = encoding.table.index(of: UnsafeRawBufferPointer(start: word.utf8Start,
                                                                        count: word.utf8CodeUnitCount))
            }
        }
        return index.flatMap(encoding.column(of:))
    }

    /// The hashed column and ±1 value of `row`, or nil when the string is missing without a fill.
    /// An empty string is a value: FeatureHasher hashes "" like any other string.
    @inline(__always)
    func hashed(_ row: Int, _ hashing: StringHashing) -> (column: Int, value: Float)? {
        if isMissing(row) {
            guard let fill = hashing.fill else { return nil }
            return fill.withUnsafeBytes {
                FeatureHashing.hash($0, buckets: hashing.nFeatures, alternateSign: hashing.alternateSign)
            }
        }
        return FeatureHashing.hash(string(row), buckets: hashing.nFeatures, alternateSign: hashing.alternateSign)
    }

    /// The document of `row` for a text kind: a missing value is an empty document.
    func document(_ row: Int) -> UnsafeRawBufferPointer {
        isMissing(row) ? UnsafeRawBufferPointer(start: nil, count: 0) : string(row)
    }
}
