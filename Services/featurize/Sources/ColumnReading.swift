import Kernels
import Messages

/// Reading record columns the way the feature kinds need them.
extension ColumnView {
    /// Writes the column's values as doubles to `out[0..<count]`, NaN where a value is missing.
    ///
    /// Ints convert to the nearest Double, bools to 0 or 1. A missing int or bool holds 0 on the
    /// wire; it must become NaN here so that every numeric kind maps "missing" to NaN.
    func gatherDoubles(into out: UnsafeMutablePointer<Double>) {
        for row in 0..<count {
            out[row] = isMissing(row) ? .nan : double(row)
        }
    }

    /// The onehot category of `row`, or nil when the value is missing or not a category.
    @inline(__always)
    func category(_ row: Int, in table: CategoryTable, as text: CategoryText) -> Int? {
        if isMissing(row) { return nil }
        switch text {
        case .string: return table.index(of: string(row))
        case .int: return table.index(ofDecimal: int(row))
        case .bool:
            let word: StaticString = bool(row) ? "true" : "false"
            return table.index(of: UnsafeRawBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
        }
    }

    /// The hashed column and ±1 value of `row`, or nil when the string is missing or empty.
    @inline(__always)
    func hashed(_ row: Int, buckets: Int) -> (column: Int, value: Float)? {
        if isMissing(row) { return nil }
        let bytes = string(row)
        if bytes.isEmpty { return nil }
        return FeatureHashing.hash(bytes, buckets: buckets)
    }
}

extension NumericTransform {
    /// Applies the transform to `count` doubles, writing `out[i * stride]`.
    func apply(_ x: UnsafePointer<Double>, count: Int, into out: UnsafeMutablePointer<Float>, stride: Int) {
        switch self {
        case .identity:
            // (x - 0) / 1 is x exactly, -0 included: one kernel for both.
            scaleShift(x, count: count, shift: 0, divide: 1, into: out, stride: stride)
        case .standardize(let mean, let scale):
            scaleShift(x, count: count, shift: mean, divide: scale, into: out, stride: stride)
        case .minmax(let scale, let offset):
            scaleAdd(x, count: count, scale: scale, offset: offset, into: out, stride: stride)
        }
    }
}
