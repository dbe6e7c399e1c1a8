/// Numpy-style (multidirectional) broadcasting, used to fold constant arithmetic and to expand
/// a constant operand into the repeating per-item row the elementwise steps apply.
enum Broadcast {
    /// The broadcast shape of `a` and `b`, or nil when they are incompatible.
    static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 {
                result[i] = da
            } else if da == 1 {
                result[i] = db
            } else {
                return nil
            }
        }
        return result
    }

    /// For every element of a tensor of shape `target` (row-major), the flat index of the element
    /// of a tensor of shape `source` that broadcasts onto it. `source` must broadcast to `target`.
    static func indexMap(from source: [Int], to target: [Int]) -> [Int] {
        let rank = target.count
        let padded = [Int](repeating: 1, count: rank - source.count) + source
        // Strides of `source` in target coordinates: 0 along broadcast dimensions.
        var strides = [Int](repeating: 0, count: rank)
        var step = 1
        for i in (0..<rank).reversed() {
            strides[i] = padded[i] == 1 ? 0 : step
            step *= padded[i]
        }
        let count = target.reduce(1, *)
        var map = [Int](repeating: 0, count: count)
        guard count > 0 else { return map }
        var counter = [Int](repeating: 0, count: rank)
        var offset = 0
        for flat in 0..<count {
            map[flat] = offset
            var axis = rank - 1
            while axis >= 0 {
                counter[axis] += 1
                offset += strides[axis]
                if counter[axis] < target[axis] { break }
                offset -= strides[axis] * counter[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
        return map
    }

    /// Elementwise `op` on two constants with full broadcasting.
    static func fold(_ kind: BinaryKind, _ a: ConstantTensor, _ b: ConstantTensor) -> ConstantTensor? {
        guard let shape = shape(a.dims, b.dims) else { return nil }
        let mapA = indexMap(from: a.dims, to: shape)
        let mapB = indexMap(from: b.dims, to: shape)
        if case .int64(let x) = a.storage, case .int64(let y) = b.storage {
            // Integer arithmetic as ONNX defines it for int64 (division truncates).
            let values = zip(mapA, mapB).map { i, j -> Int64 in
                switch kind {
                case .add: x[i] &+ y[j]
                case .sub: x[i] &- y[j]
                case .mul: x[i] &* y[j]
                case .div: y[j] == 0 ? 0 : x[i].dividedReportingOverflow(by: y[j]).partialValue
                }
            }
            return ConstantTensor(ints: values, dims: shape)
        }
        guard let x = a.floats, let y = b.floats else { return nil }
        return ConstantTensor(floats: zip(mapA, mapB).map { kind.apply(x[$0], y[$1]) }, dims: shape)
    }
}
