import Glibc
import Kernels

/// Small row-wise loops for the ML ops and ArgMax. They are cheap next to the GEMMs that feed
/// them, so they are plain scalar code; each reads a row fully before writing it, so they are
/// safe in place (`x == out`).
enum MLKernels {
    /// Index of the largest value along an axis (`inner` floats apart), as Float. Ties keep the
    /// first index, or the last with `selectLast` (ArgMax's select_last_index); a NaN is passed
    /// over unless it comes first.
    static func argMax(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, outer: Int, axis: Int,
                       inner: Int, selectLast: Bool) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: inner) { best in
            for o in 0..<outer {
                // The `inner` positions of one outer index are rows one float apart, their values
                // `inner` floats apart.
                argmaxRows(x + o * axis * inner, rows: inner, cols: axis, ld: 1, stride: inner, nan: .unordered,
                           ties: selectLast ? .last : .first, into: best.baseAddress!)
                for i in 0..<inner { out[o * inner + i] = Float(best[i]) }
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

    /// LinearClassifier labels from raw scores: the argmax's label (first maximum; a NaN is
    /// passed over unless it comes first), or for a single score column `labels[1]` when the
    /// score is positive, else `labels[0]`.
    static func classLabels(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                            labels: UnsafeBufferPointer<Float>) {
        for r in 0..<rows {
            let row = x + r * cols
            if cols == 1 {
                out[r] = labels[row[0] > 0 ? 1 : 0]
                continue
            }
            var best: Int32 = 0
            argmaxRows(row, rows: 1, cols: cols, ld: cols, nan: .unordered, into: &best)
            out[r] = labels[Int(best)]
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
