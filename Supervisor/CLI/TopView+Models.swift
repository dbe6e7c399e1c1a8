import ControlCore
import Messages
import PipelineSink

extension TopView {
    /// The model versions' lines of a frame, in `pipeline ps`'s words: the primary version and
    /// the records it scored, then the rollout in progress and its version; while a shadow runs,
    /// a second line with its figures so far (committed batches):
    ///
    ///     primary aadff3884d0b (6.0k records)  shadow 574b9f2ab86c scores every batch too
    ///     shadow 5.0k records compared  labels differ 3.90 %  largest difference 0.3712
    ///
    /// The rollout's part may also be `loading 574b9f2ab86c for a canary`, or
    /// `canary 574b9f2ab86c 10 % (600 records)`: its share of the batches and what it scored. A
    /// shadow's own count is left out: it writes no record (what it scored is its records
    /// compared). With version ids of 12 characters the lines fit 80 columns; longer ones are cut
    /// like any line. None when the snapshot names no version.
    static func modelLines(_ m: StatusSnapshot.Models) -> [String] {
        guard let primary = m.primary else { return [] }
        func scored(_ id: String) -> String { "(\(TopFormat.count(m.records(of: id))) records)" }
        var line = "primary \(printable(primary.id)) \(scored(primary.id))"
        switch m.rollout {
        case .steady: break
        case .loading(let v, let mode): line += "  loading \(printable(v)) for a \(printable(mode))"
        case .canary(let v, let bp): line += "  canary \(printable(v)) \(ControlCore<Sink.Piece>.percent(Int(bp))) % \(scored(v))"
        case .shadow(let v): line += "  shadow \(printable(v)) scores every batch too"
        }
        // Figures of a shadow that has ended (promoted or aborted) stay in `pipeline ps`.
        guard case .shadow(let v) = m.rollout, let shadow = m.shadow, shadow.version == v else { return [line] }
        let s = shadow.stats
        let largest = Double(s.maxDifference)
        return [line, "shadow \(TopFormat.count(s.rows)) records compared  "
            + "labels differ \(ControlCore<Sink.Piece>.formatShare(s.disagreementShare)) %  "
            + "largest difference \(largest.isFinite && largest < 1e9 ? DriftWatch.format(largest) : TopFormat.count(largest))"]
    }
}
