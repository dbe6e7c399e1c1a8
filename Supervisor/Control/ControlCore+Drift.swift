import Config
import Messages

/// The drift watch's side of the core: each committed batch's counts, in order, once.
extension ControlCore {
    mutating func watchDrift(_ pieces: [Output], lines: ClosedRange<UInt64>, into out: inout [Action]) {
        // Once the end is decided the last window is closed: a batch committed after a failure
        // (its output already on its way) is written but not watched.
        guard drift != nil, !stopping else { return }
        let records = pieces.reduce(0) { $0 + $1.records }
        let rows = pieces.reduce(0) { $0 + $1.records - $1.rejected }
        // The parts with rows must all carry counts of one shape; otherwise the whole batch is
        // uncounted (the watch reports it), rather than a window whose counts miss some rows.
        var counts: [UInt64] = []
        for (n, p) in pieces.filter({ $0.records > $0.rejected }).enumerated() {
            let c = p.driftCounts
            guard !c.isEmpty, n == 0 || c.count == counts.count else {
                counts = []
                break
            }
            if n == 0 { counts = c } else { for i in counts.indices { counts[i] += c[i] } }
        }
        if let window = drift!.add(firstLine: lines.lowerBound, lastLine: lines.upperBound, records: records, rows: rows, counts: counts) {
            report(window, into: &out)
        }
    }

    /// Closes the drift watch's last window (the run is ending).
    mutating func finishDrift(into out: inout [Action]) {
        guard drift != nil, let window = drift!.finish() else { return }
        report(window, into: &out)
    }

    func report(_ window: DriftWatch.Window, into out: inout [Action]) {
        out.append(.event(.driftWindow(window)))
        for r in window.drifted {
            out.append(.event(.drift(window: window.index, firstLine: window.firstLine, lastLine: window.lastLine, r)))
            out.append(.log(r.level == .alert ? .error : .info,
                            "drift \(r.level.rawValue): \(r.field) \(r.statistic.rawValue) \(DriftWatch.format(r.value)) in lines "
                            + "\(window.firstLine)–\(window.lastLine) (window \(window.index), \(counted(Int(window.records), "record")))"))
        }
    }
}
