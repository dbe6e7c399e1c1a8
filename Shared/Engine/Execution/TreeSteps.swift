import Glibc
import Kernels

/// The forest kernel step: raw aggregated leaf values, `outputs` per row, followed (when
/// `presence`) by a block of `rows × outputs` 0/1 flags saying which outputs a reached leaf
/// had a value for. Tracked only when that varies by row: onnxruntime writes an output without
/// one as 0, and the two-class label depends on it.
struct TreeScores: Sendable {
    var forest: TreeForest
    var presence: Bool

    func execute(rows: Int, _ x: UnsafePointer<Float>, inputWidth: Int, _ out: UnsafeMutablePointer<Float>) {
        let outputs = forest.outputs
        forest.evaluate(rows: rows, x: x, ldx: inputWidth, scores: out, presence: presence ? out + rows * outputs : nil)
    }
}

/// Base values, post_transform and labels applied to raw tree scores exactly as onnxruntime's
/// tree aggregators do (`tree_ensemble_aggregator.h`), quirks included: for two classes, the
/// number of base values and whether class 1 has leaf values decide how one score becomes two.
struct TreeFinalize: Sendable {
    var outputs: Int
    var classifier: Bool
    var base: [Float]
    var transform: GraphLowering.PostTransform
    /// Two classes, and every weight is for the same class id.
    var binaryCase: Bool
    var weightsAllPositive: Bool
    /// Class labels as Float (whole numbers).
    var labels: [Float]
    /// Per class: a reached leaf always has a value for it (when not tracked per row).
    var staticPresence: [Bool]
    var dynamicPresence: Bool

    /// Floats per row of the raw input this step reads (scores, then presence flags).
    var rawWidth: Int { dynamicPresence ? 2 * outputs : outputs }

    /// Scores (into `out`) or labels (into `labelsOut`) of `rows` rows; raw rows are `outputs` floats apart,
    /// presence (if tracked) starts at `raw + rows * outputs`. Safe in place for scores.
    func execute(rows: Int, _ raw: UnsafePointer<Float>, scores out: UnsafeMutablePointer<Float>?,
                 labels labelsOut: UnsafeMutablePointer<Float>?) {
        let c = outputs
        withUnsafeTemporaryAllocation(of: Float.self, capacity: c) { s in
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: c) { has in
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: c) { scored in
            for r in 0..<rows {
                for j in 0..<c {
                    s[j] = raw[r * c + j]
                    has[j] = dynamicPresence ? raw[rows * c + r * c + j] != 0 : staticPresence[j]
                }
                let dst = out.map { $0 + r * c }
                if !classifier {
                    regression(s.baseAddress!, has.baseAddress!, dst)
                } else if c > 2 {
                    let label = multiclass(s.baseAddress!, has.baseAddress!, dst, scored: scored.baseAddress!)
                    labelsOut?[r] = label
                } else {
                    let label = binary(s.baseAddress!, has.baseAddress!, dst)
                    labelsOut?[r] = label
                }
            }
        } } }
    }

    private func regression(_ s: UnsafeMutablePointer<Float>, _ has: UnsafeMutablePointer<Bool>,
                            _ out: UnsafeMutablePointer<Float>?) {
        guard let out else { return }
        // onnxruntime writes a target no reached leaf had a value for as 0, base value or not.
        for j in 0..<outputs { out[j] = !has[j] ? 0 : base.count == outputs ? s[j] + base[j] : s[j] }
        // onnxruntime ignores every post_transform but PROBIT for a single target.
        if outputs >= 2 { Self.transform(transform, out, count: outputs) }
    }

    /// - Parameter scored: room for `outputs` class indices (scratch; `s` is scratch too once
    ///   the scores are written).
    private func multiclass(_ s: UnsafeMutablePointer<Float>, _ has: UnsafeMutablePointer<Bool>,
                            _ out: UnsafeMutablePointer<Float>?, scored: UnsafeMutablePointer<Int32>) -> Float {
        for k in 0..<base.count {
            s[k] += base[k]
            has[k] = true
        }
        if let out {
            for k in 0..<outputs { out[k] = has[k] ? s[k] : 0 }
            Self.transform(transform, out, count: outputs)
        }
        // The label: the first maximum among the classes a reached leaf (or a base value) scored,
        // else the first class.
        var count = 0
        for k in 0..<outputs where has[k] {
            s[count] = s[k]
            scored[count] = Int32(k)
            count += 1
        }
        var best: Int32 = -1
        argmaxRows(s, rows: 1, cols: count, ld: count, nan: .unordered, into: &best)
        return labels[best < 0 ? 0 : Int(scored[Int(best)])]
    }

    private func binary(_ s: UnsafeMutablePointer<Float>, _ has: UnsafeMutablePointer<Bool>,
                        _ out: UnsafeMutablePointer<Float>?) -> Float {
        var count = 2
        var secondClass = -1
        switch base.count {
        case 2:
            if has[1] {
                // Sic: onnxruntime derives both from class 0's sum here (base[0] unused).
                s[1] = base[1] + s[0]
                s[0] = -s[1]
            } else {
                s[1] += base[1]
                s[0] += base[0]
            }
        case 1:
            s[0] += base[0]
            if !has[1] { count = 1 }
        default:
            secondClass = 3
            if !has[1] { count = 1 }
        }
        let positive = count == 2 && has[1] ? s[1] : (has[0] ? s[0] : 0)
        var label: Float
        if binaryCase {
            if weightsAllPositive {
                (label, secondClass) = positive > 0.5 ? (labels[1], 0) : (labels[0], 1)
            } else {
                (label, secondClass) = positive > 0 ? (labels[1], 2) : (labels[0], 3)
            }
        } else {
            label = positive > 0 ? 1 : 0
        }
        guard let out else { return label }
        if count == 2 {
            // onnxruntime writes a class no leaf (or base value) gave a score as 0.
            out[0] = has[0] ? s[0] : 0
            out[1] = has[1] ? s[1] : 0
            Self.transform(transform, out, count: 2)
            return label
        }
        let v = s[0]
        switch secondClass {
        case 0, 1:
            out[0] = 1 - v
            out[1] = v
        case 2, 3:
            if transform == .logistic {
                out[0] = Self.logistic(-v)
                out[1] = Self.logistic(v)
            } else {
                out[0] = -v
                out[1] = v
            }
        default:
            out[0] = v
            out[1] = 0
        }
        return label
    }

    /// onnxruntime's post_transform on a row of two or more scores.
    static func transform(_ transform: GraphLowering.PostTransform, _ x: UnsafeMutablePointer<Float>, count: Int) {
        switch transform {
        case .none: break
        case .logistic: for j in 0..<count { x[j] = logistic(x[j]) }
        case .softmax:
            var m = -Float.greatestFiniteMagnitude
            for j in 0..<count where x[j] > m { m = x[j] }
            var sum: Float = 0
            for j in 0..<count {
                x[j] = expf(x[j] - m)
                sum += x[j]
            }
            for j in 0..<count { x[j] /= sum }
        case .softmaxZero: MLKernels.softmaxZero(x, rows: 1, cols: count)
        }
    }

    /// onnxruntime's `ComputeLogistic`: symmetric, so it is exact near 1 for large |v|.
    static func logistic(_ v: Float) -> Float {
        let p = 1 / (1 + expf(-abs(v)))
        return v < 0 ? 1 - p : p
    }
}
