/// Row-wise loops for the preprocessing ops scikit-learn pipelines export (Imputer,
/// OneHotEncoder, column selection). Scalar, like the rest of `MLKernels`: they are cheap next
/// to the model that follows them.
extension MLKernels {
    /// `out[r, j] = x[r, indices[j]]` for rows of `inputWidth` floats.
    static func selectColumns(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, inputWidth: Int,
                              indices: UnsafeBufferPointer<Int>) {
        let width = indices.count
        for r in 0..<rows {
            let row = x + r * inputWidth
            for j in 0..<width { out[r * width + j] = row[indices[j]] }
        }
    }

    /// Imputer as onnxruntime computes it: a NaN `replaced` matches NaN values, any other
    /// `replaced` matches equal values; matches become the column's entry of `row`.
    static func impute(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int,
                       row: UnsafeBufferPointer<Float>, replaced: Float) {
        let width = row.count
        let matchNaN = replaced.isNaN
        for r in 0..<rows {
            for j in 0..<width {
                let v = x[r * width + j]
                out[r * width + j] = (matchNaN ? v.isNaN : v == replaced) ? row[j] : v
            }
        }
    }

    /// OneHotEncoder: every value (truncated toward zero, as onnxruntime casts to int64) becomes
    /// `categories.count` floats, 1 at its category. Returns the first value that matched no
    /// category (its floats are all 0), or nil.
    static func oneHot(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int,
                       categories: UnsafeBufferPointer<Float>) -> Float? {
        let c = categories.count
        var unknown: Float?
        for i in 0..<count {
            let v = x[i].rounded(.towardZero)
            let dst = out + i * c
            var found = false
            for j in 0..<c {
                let hit = categories[j] == v
                dst[j] = hit ? 1 : 0
                found = found || hit
            }
            if !found && unknown == nil { unknown = x[i] }
        }
        return unknown
    }
}
