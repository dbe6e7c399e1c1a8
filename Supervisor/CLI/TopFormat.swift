/// How `pipeline top` writes numbers: short, so that a row fits 80 columns whatever the values.
enum TopFormat {
    static let units = ["k", "M", "G", "T", "P", "E"]

    /// A count or rate: exact below 1000, else three significant figures with a unit
    /// (`999`, `1.2k`, `12.3k`, `123k`, `1.0M`); "-" when not a finite, non-negative number.
    static func count(_ value: Double) -> String {
        guard value.isFinite, value >= 0 else { return "-" }
        if value.rounded() < 1000 { return "\(Int(value.rounded()))" }
        var x = value
        var unit = -1
        repeat {
            x /= 1000
            unit += 1
        } while short(x).rounded >= 1000 && unit < units.count - 1
        return short(x).text + units[unit]
    }

    static func count(_ value: UInt64) -> String { count(Double(value)) }

    /// Resident memory in MB (2^20 bytes, as `pipeline ps`), then GB (2^30) from 1000 MB and so
    /// on: `11.8MB`, `123MB`, `1.2GB`; "-" for 0 (no replica has reported yet).
    static func memory(_ bytes: UInt64) -> String {
        guard bytes > 0 else { return "-" }
        var x = Double(bytes) / 1_048_576
        var unit = 0
        while short(x).rounded >= 1000 && unit < memoryUnits.count - 1 {
            x /= 1024
            unit += 1
        }
        return short(x).text + memoryUnits[unit]
    }

    static let memoryUnits = ["MB", "GB", "TB", "PB", "EB"]

    /// A duration in seconds: `85us`, `1.3ms`, `250ms`, `2.5s` (ASCII: `us` for microseconds);
    /// "-" when there is none.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds >= 0, seconds < 1e15 else { return "-" }
        let micros = seconds * 1e6
        if micros.rounded() < 1000 { return "\(Int(micros.rounded()))us" }
        if short(micros / 1000).rounded < 1000 { return short(micros / 1000).text + "ms" }
        return short(seconds).text + "s"
    }

    /// Time since the start: `45s`, `12m05s`, `3h07m`, `2d04h`.
    static func uptime(nanos: UInt64) -> String {
        let s = nanos / 1_000_000_000
        func two(_ n: UInt64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        switch s {
        case ..<60: return "\(s)s"
        case ..<3600: return "\(s / 60)m\(two(s % 60))s"
        case ..<86_400: return "\(s / 3600)h\(two(s % 3600 / 60))m"
        default: return "\(s / 86_400)d\(two(s % 86_400 / 3600))h"
        }
    }

    /// One decimal place: `143.2`; "-" when not a number from 0 to 10^15.
    static func oneDecimal(_ x: Double) -> String {
        guard x >= 0, x < 1e15 else { return "-" }
        let tenths = Int((x * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// `x` (non-negative) with one decimal below 99.95, none above, and what it rounds to.
    private static func short(_ x: Double) -> (text: String, rounded: Double) {
        if x < 99.95 {
            let tenths = Int((x * 10).rounded())
            return ("\(tenths / 10).\(tenths % 10)", Double(tenths) / 10)
        }
        return ("\(Int(x.rounded()))", x.rounded())
    }
}
