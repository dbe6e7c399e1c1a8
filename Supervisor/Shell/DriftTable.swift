import Config
import ControlCore
import Messages
import PipelineSink

/// `pipeline drift`: the drift watch's last windows, as a table (fields down, windows across)
/// or as JSON; and the lines `ps` and the run's summary show.
public enum DriftTable {
    /// Windows shown across the text table.
    static let shownWindows = 6

    public static func text(_ watch: DriftWatch) -> String {
        let spec = watch.spec
        var out = "drift watch: reference \(spec.reference) (\(grouped(watch.profile.records)) records)\n"
        out += "window: \(grouped(UInt64(spec.window))) records; PSI warn \(spec.psiWarn), alert \(spec.psiAlert); "
            + "JS distance warn \(spec.jsWarn), alert \(spec.jsAlert)\n"
        out += "windows closed: \(watch.closed); open window: \(grouped(watch.records)) records\n"
        if watch.uncounted > 0 { out += "not counted (batches without drift counts): \(grouped(watch.uncounted)) records\n" }
        let windows = Array(watch.windows.suffix(shownWindows))
        guard !windows.isEmpty else { return out + "no window has closed yet\n" }
        out += "\n"
        for w in windows {
            out += "window \(w.index): lines \(w.firstLine)–\(w.lastLine), \(grouped(w.records)) records"
                + (w.partial ? " (partial: the run's last, under half a window; no levels)" : "") + "\n"
        }
        out += "\n"
        var rows: [[String]] = [["field", "stat"] + windows.map { "window \($0.index)" }]
        for (i, name) in watch.fieldNames.enumerated() {
            var row = [name, windows.last!.results[i].statistic.rawValue]
            for w in windows {
                let r = w.results[i]
                row.append(DriftWatch.format(r.value) + (r.level == .ok ? "" : " " + r.level.rawValue))
            }
            rows.append(row)
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
        for row in rows {
            out += zip(row, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ")
                .replacingTrailingSpaces() + "\n"
        }
        out += "\n" + summary(watch) + "\n"
        return out
    }

    /// One line: which fields drifted over the run, or that none did.
    public static func summary(_ watch: DriftWatch) -> String {
        let drifted = watch.fieldNames.compactMap { name in watch.worst[name].map { (name, $0) } }
        guard !drifted.isEmpty else {
            return "drift: no field drifted in \(watch.closed) window\(watch.closed == 1 ? "" : "s")"
        }
        return "drift: " + drifted.map { "\($0.0) (\($0.1.level.rawValue), \(DriftWatch.format($0.1.value)) in window \($0.1.window))" }
            .joined(separator: ", ") + " drifted, over \(watch.closed) window\(watch.closed == 1 ? "" : "s")"
    }

    /// `ps`'s line.
    public static func statusLine(_ watch: DriftWatch) -> String {
        guard let last = watch.windows.last else {
            return "drift: watching, no window closed yet (\(grouped(watch.records)) of \(grouped(UInt64(watch.spec.window))) records)"
        }
        let drifted = last.drifted
        let now = drifted.isEmpty ? "no field drifted"
            : drifted.map { "\($0.field) \($0.statistic.rawValue) \(DriftWatch.format($0.value)) \($0.level.rawValue)" }.joined(separator: ", ")
        return "drift: window \(last.index) (lines \(last.firstLine)–\(last.lastLine)): \(now); `pipeline drift` for the table"
    }

    public static func json(_ watch: DriftWatch) -> String {
        let spec = watch.spec
        func result(_ r: DriftWatch.Result) -> String {
            "{\"field\":\(RejectJSON.quote(r.field)),\"statistic\":\"\(r.statistic.rawValue)\",\"value\":\(r.value.isFinite ? "\(r.value)" : "null"),\"level\":\"\(r.level.rawValue)\"}"
        }
        var out = "{\"reference\":\(RejectJSON.quote(spec.reference)),\"reference_records\":\(watch.profile.records),"
        out += "\"window\":\(spec.window),\"thresholds\":{\"psi_warn\":\(spec.psiWarn),\"psi_alert\":\(spec.psiAlert),"
        out += "\"js_warn\":\(spec.jsWarn),\"js_alert\":\(spec.jsAlert)},"
        out += "\"windows_closed\":\(watch.closed),\"open_window_records\":\(watch.records),\"uncounted_records\":\(watch.uncounted),"
        out += "\"windows\":[" + watch.windows.map { w in
            "{\"window\":\(w.index),\"first_line\":\(w.firstLine),\"last_line\":\(w.lastLine),\"records\":\(w.records),"
                + "\"partial\":\(w.partial),\"fields\":[" + w.results.map(result).joined(separator: ",") + "]}"
        }.joined(separator: ",") + "],"
        out += "\"drifted\":[" + watch.fieldNames.compactMap { name in
            watch.worst[name].map { "{\"field\":\(RejectJSON.quote(name)),\"level\":\"\($0.level.rawValue)\",\"value\":\($0.value),\"window\":\($0.window)}" }
        }.joined(separator: ",") + "]}"
        return out
    }

    static func grouped(_ n: UInt64) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(d)
        }
        return out
    }
}

private enum RejectJSON {
    static func quote(_ s: String) -> String { RejectLine.quote(s) }
}

private extension String {
    func replacingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
