import Config
import Engine
import InferStage
import Kernels
import Messages
import Runtime

/// `pipeline check --data SAMPLE`: what a precision other than float32 costs in accuracy, stated
/// before a user rolls it out. The sample goes through ingest and featurize once; each feature
/// batch is scored by the model as written (float32) and in the config's precision, and the
/// two are compared record by record.
public enum PrecisionCheck {
    /// Scores the records in `data` (the input format of `config`) both ways.
    ///
    /// - Throws: the stages' errors (a model that does not load, a frame a stage rejects).
    public static func compare(config: PipelineConfig, data: UnsafeRawBufferPointer) throws -> PrecisionAgreement {
        var reference = config
        reference.model.precision = .float32
        var fused = try FusedPipeline(config: reference)
        var candidate = try InferProcessor(config: config)
        var agreement = PrecisionAgreement(columns: candidate.outputWidth)
        let scores = FrameBuffer(capacity: 1 << 20)
        let (_, rejects) = try fused.run(input: data, observe: { stage, frame in
            switch (stage, frame.header.kind) {
            case (1, .features):
                // The features, scored in the config's precision; the fused pipeline scores them next.
                scores.removeAll()
                try candidate.process(frame, into: scores)
            case (2, .scores):
                let expected = try ScoreBatchView.decode(frame)
                guard let (decoded, _) = try FrameDecoder().decode(scores.bytes) else {
                    throw FrameError.invalid(field: "frame", reason: "the infer stage wrote no frame")
                }
                let got = try ScoreBatchView.decode(decoded)
                agreement.add(reference: expected.values, candidate: got.values, rows: expected.rows)
            default:
                break
            }
        })
        agreement.rejected = rejects.count
        return agreement
    }
}

/// How far a precision's scores are from float32's on the same records.
public struct PrecisionAgreement: Sendable, Equatable {
    /// Columns per record.
    public let columns: Int
    /// Records scored both ways.
    public private(set) var records = 0
    /// Records whose label (the argmax, as the output writes it) is the same both ways.
    public private(set) var sameLabel = 0
    /// The largest |candidate − reference| over every value.
    public private(set) var largestDifference: Float = 0
    /// Σ |candidate − reference| over every value, for the mean.
    public private(set) var differenceSum: Double = 0
    /// Records rejected before the model (not compared).
    public var rejected = 0

    public init(columns: Int) {
        self.columns = columns
    }

    /// The mean |candidate − reference| over every value (0 with no records).
    public var meanDifference: Double { records == 0 ? 0 : differenceSum / Double(records * columns) }

    /// Adds `rows` records: `reference` and `candidate` hold `rows × columns` values each.
    /// A NaN on one side only counts as an infinite difference.
    public mutating func add(reference: UnsafeBufferPointer<Float>, candidate: UnsafeBufferPointer<Float>, rows: Int) {
        precondition(reference.count == rows * columns && candidate.count == rows * columns,
                     "PrecisionAgreement: \(reference.count) and \(candidate.count) values for \(rows) rows of \(columns)")
        guard rows > 0, columns > 0 else { return }
        var first = [Int32](repeating: 0, count: rows)
        var second = first
        argmaxRows(reference.baseAddress!, rows: rows, cols: columns, ld: columns, into: &first)
        argmaxRows(candidate.baseAddress!, rows: rows, cols: columns, ld: columns, into: &second)
        for row in 0..<rows where first[row] == second[row] { sameLabel += 1 }
        for i in 0..<rows * columns {
            let (a, b) = (reference[i], candidate[i])
            if a.isNaN && b.isNaN { continue }
            let difference = a.isNaN || b.isNaN ? Float.infinity : (b - a).magnitude
            largestDifference = max(largestDifference, difference)
            differenceSum += Double(difference)
        }
        records += rows
    }
}

extension PrecisionAgreement {
    /// What `pipeline check --data` prints of the comparison (a precision other than float32).
    public func report(precision: String) -> String {
        // Beyond what the fixed-point form holds (a regression's huge scores), or infinite: Swift's own form.
        func shown(_ x: Double, _ decimals: Int) -> String { x.isFinite && x.magnitude < 1e12 ? format(x, decimals) : "\(x)" }
        var out = ""
        if columns > 1 {
            let share = records == 0 ? 0 : 100 * Double(sameLabel) / Double(records)
            out += "  \(precision) vs float32: same label for \(sameLabel) of \(records) records (\(shown(share, 2))%)\n"
        } else {
            out += "  \(precision) vs float32: one score per record (no label to compare)\n"
        }
        if largestDifference == 0 {
            out += "  note: no score changed: the model has no layer \(precision) applies to (trees, or one linear "
                + "layer over sparse input, which stays float32)\n"
        }
        out += "  score difference: largest \(shown(Double(largestDifference), 6)), mean \(shown(meanDifference, 6))\n"
        return out
    }
}
