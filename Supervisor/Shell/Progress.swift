import Messages

/// The one line `pipeline up` keeps at the bottom of a terminal while it runs: records in and
/// out, the rate, and when stdin is a file, how much of it is read and the time left.
enum Progress {
    /// How often it is redrawn.
    static let intervalNanos: UInt64 = 250_000_000

    /// "pipeline 6,000 read, 5,870 written, 2 rejected | 3,416/s | 45% 0:12 left | 0:02"
    /// (ASCII only: any terminal shows it).
    static func line(_ s: StatusSnapshot) -> String {
        var counts = "\(count(s.recordsIn)) read, \(count(s.recordsOut)) written"
        if s.rejected > 0 { counts += ", \(count(s.rejected)) rejected" }
        var parts = ["pipeline " + counts, "\(count(UInt64(s.recentRecordsOutPerSecond.rounded())))/s"]
        if s.inputSize > 0 {
            let done = min(1, Double(s.bytesIn) / Double(s.inputSize))
            var part = "\(Int(done * 100))%"
            let elapsed = Double(s.uptimeNanos) / 1e9
            if done > 0.01 && done < 1 && elapsed > 1 { part += " " + clock((1 - done) / done * elapsed) + " left" }
            parts.append(part)
        }
        parts.append(clock(Double(s.uptimeNanos) / 1e9))
        return parts.joined(separator: " | ")
    }

    /// `line` cut to one screen row (a wrapped line would leave a copy behind at every redraw,
    /// since the redraw erases only the row the cursor is on); unchanged when the width is unknown.
    static func fitted(_ line: String, columns: Int?) -> String {
        guard let columns, columns > 1, line.utf8.count >= columns else { return line }
        return String(line.prefix(columns - 1))
    }

    /// 1234567 → "1,234,567".
    static func count(_ n: UInt64) -> String {
        var digits = Array(String(n))
        var i = digits.count - 3
        while i > 0 {
            digits.insert(",", at: i)
            i -= 3
        }
        return String(digits)
    }

    /// Seconds as m:ss, or h:mm:ss past an hour.
    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        let two = { (v: Int) in v < 10 ? "0\(v)" : "\(v)" }
        return h > 0 ? "\(h):\(two(m)):\(two(s))" : "\(m):\(two(s))"
    }
}
