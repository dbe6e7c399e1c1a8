import Glibc

/// Small row-wise loops for the ML ops and ArgMax. They are cheap next to the GEMMs that feed
/// them, so they are plain scalar code; each reads a row fully before writing it, so they are
/// safe in place (`x == out`).
enum MLKernels {
    /// Index of the largest value along an axis (`inner` floats apart), as Float. Ties keep the
    /// first index, or the last with `selectLast` (ArgMax's select_last_index).
    static func argMax(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, outer: Int, axis: Int,
                       inner: Int, selectLast: Bool) {
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * axis * inner + i
                var best = 0
                var bestValue = x[base]
                for a in 1..<max(axis, 1) {
                    let v = x[base + a * inner]
                    if v > bestValue || (selectLast && v == bestValue) {
                        best = a
                        bestValue = v
                    }
                }
                out[o * inner + i] = Float(best)
            }
        }
    }

    /// onnxruntime's binary LinearClassifier scores: `[1 - s, s]`, or `[1 - σ(s), σ(s)]`.
    static func binaryScores(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, logistic: Bool) {
        for r in 0..<rows {
            let s = x[r]
            let p = logistic ? 1 / (1 + expf(-s)) : s
            out[2 * r] = 1 - p
            out[2 * r + 1] = p
        }
    }

    /// LinearClassifier labels from raw scores: the argmax's label (first maximum), or for a
    /// single score column `labels[1]` when the score is positive, else `labels[0]`.
    static func classLabels(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                            labels: UnsafeBufferPointer<Float>) {
        for r in 0..<rows {
            let row = x + r * cols
            if cols == 1 {
                out[r] = labels[row[0] > 0 ? 1 : 0]
                continue
            }
            var best = 0
            for j in 1..<cols where row[j] > row[best] { best = j }
            out[r] = labels[best]
        }
    }

    /// Normalizer as onnxruntime computes it: MAX divides by the row maximum, L1 by the sum of
    /// absolute values, L2 gives `sign(x)·sqrt(x² / Σx²)`; a zero divisor leaves the row as is.
    static func normalize(_ norm: NormKind, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let row = x + r * cols
            let dst = out + r * cols
            switch norm {
            case .max:
                var m = -Float.greatestFiniteMagnitude
                for j in 0..<cols { m = max(m, row[j]) }
                for j in 0..<cols { dst[j] = m != 0 ? row[j] / m : row[j] }
            case .l1:
                var sum: Float = 0
                for j in 0..<cols { sum += abs(row[j]) }
                for j in 0..<cols { dst[j] = sum != 0 ? row[j] / sum : row[j] }
            case .l2:
                var sum: Float = 0
                for j in 0..<cols { sum += row[j] * row[j] }
                for j in 0..<cols {
                    let v = row[j]
                    let magnitude = (v * v / sum).squareRoot()
                    dst[j] = sum != 0 ? (v < 0 ? -magnitude : magnitude) : v
                }
            }
        }
    }

    /// SOFTMAX_ZERO: a softmax in which (near-)zero scores stay zero.
    static func softmaxZero(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let row = x + r * cols
            var m = -Float.greatestFiniteMagnitude
            for j in 0..<cols { m = max(m, row[j]) }
            let expNegMax = expf(-m)
            var sum: Float = 0
            for j in 0..<cols {
                let v = row[j]
                if v > 1e-7 || v < -1e-7 {
                    row[j] = expf(v - m)
                    sum += row[j]
                } else {
                    row[j] = v * expNegMax
                }
            }
            for j in 0..<cols { row[j] /= sum }
        }
    }
}
