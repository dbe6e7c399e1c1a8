import Config
import Glibc
import Messages

/// The drift watch's decisions, as a value: committed batches go in, in input order, with the
/// slot counts their stages made (`DriftPlan`); whole windows come out, each field compared with
/// the reference profile. Only committed batches are counted, once each, in order, so the windows
/// and their figures are the same whatever the replica counts, replays or crashes.
///
/// A window is `window` input records: the source never cuts a batch across a multiple of it
/// (`InputSplitter.boundaryRecords`), so a window is whole batches, the same records whatever
/// linger, the replica counts or replays did. Only accepted records are counted in it (rejected
/// ones have no values). The last window closes at the end of the run. A window holding fewer
/// than half `window` accepted records (the run's last, or one whose records were mostly
/// rejected) is reported as partial and raises no level: its figures are mostly noise (see
/// `expectedPSI`), and a window of no accepted record has none.
public struct DriftWatch: Sendable {
    public enum Statistic: String, Sendable { case psi, js }
    public enum Level: String, Sendable, Comparable {
        case ok, warn, alert
        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
        var rank: Int { self == .ok ? 0 : self == .warn ? 1 : 2 }
    }

    public struct Result: Sendable, Equatable {
        /// The input field's name, or `prediction.label` / `prediction.score`.
        public var field: String
        public var statistic: Statistic
        public var value: Double
        public var level: Level
    }

    public struct Window: Sendable, Equatable {
        /// 1-based.
        public var index: Int
        public var firstLine: UInt64
        public var lastLine: UInt64
        /// Accepted records counted.
        public var records: UInt64
        /// Input records it spans, rejected ones included (`window`, but for the last).
        public var inputRecords: UInt64
        /// Fewer than half `window` accepted records: levels stay `ok`.
        public var partial: Bool
        public var results: [Result]

        /// The results at `warn` or above.
        public var drifted: [Result] { results.filter { $0.level > .ok } }
    }

    /// Share floor for PSI: every share below 0.01% counts as 0.01%, on either side (the usual
    /// convention; Evidently's `psi` replaces only empty shares, see tools/drift_evidently.py).
    public static let psiFloor = 0.0001
    /// Windows kept for `pipeline drift`.
    public static let keptWindows = 32

    public let profile: DriftProfile
    public let spec: DriftSpec
    private let layout: [(field: DriftPlan.Field, name: String, offset: Int, reference: [UInt64])]
    private let slotCount: Int

    // The open window.
    private var counts: [UInt64]
    /// Accepted records in the open window.
    public private(set) var records: UInt64 = 0
    /// Input records in the open window, and in every window before it.
    private var inputRecords: UInt64 = 0
    private var inputBefore: UInt64 = 0
    private var firstLine: UInt64?
    private var lastLine: UInt64 = 0

    /// The last windows, oldest first.
    public private(set) var windows: [Window] = []
    /// Windows closed so far.
    public private(set) var closed = 0
    /// The highest level each field reached over the run, and in which window first.
    public private(set) var worst: [String: (level: Level, value: Double, window: Int)] = [:]
    /// Committed rows whose batch carried no counts of the plan's shape (none, unless a replica
    /// runs without the plan): they are in no window.
    public private(set) var uncounted: UInt64 = 0

    public init(profile: DriftProfile, spec: DriftSpec) {
        self.profile = profile
        self.spec = spec
        var layout: [(DriftPlan.Field, String, Int, [UInt64])] = []
        var offset = 0
        for f in profile.fields {
            layout.append((f.bins, f.bins.name, offset, f.counts))
            offset += f.bins.slotCount
        }
        for f in profile.predictions {
            layout.append((f.bins, "prediction." + f.bins.name, offset, f.counts))
            offset += f.bins.slotCount
        }
        self.layout = layout
        slotCount = offset
        counts = Array(repeating: 0, count: offset)
    }

    /// The field names, in order (inputs, then predictions).
    public var fieldNames: [String] { layout.map(\.name) }

    /// Counts one committed batch of `records` input records, `rows` of them accepted; returns
    /// the window it closes, if any.
    public mutating func add(firstLine: UInt64, lastLine: UInt64, records input: Int, rows: Int, counts batch: [UInt64]) -> Window? {
        guard input > 0 else { return nil }
        if self.firstLine == nil { self.firstLine = firstLine }
        self.lastLine = lastLine
        inputRecords += UInt64(input)
        if rows > 0 {
            if batch.count == slotCount {
                counts.withUnsafeMutableBufferPointer { mine in
                    batch.withUnsafeBufferPointer { theirs in
                        for i in theirs.indices { mine[i] &+= theirs[i] }
                    }
                }
                records += UInt64(rows)
            } else {
                uncounted += UInt64(rows)
            }
        }
        // At a multiple of `window` input records (batches stop there).
        return inputBefore + inputRecords >= UInt64(closed + 1) * UInt64(spec.window) ? close() : nil
    }

    /// Closes the open window at the end of the run (nil when it is empty).
    public mutating func finish() -> Window? {
        guard inputRecords > 0 else { return nil }
        return close()
    }

    private mutating func close() -> Window {
        closed += 1
        let partial = records * 2 < UInt64(spec.window)
        var results: [Result] = []
        for entry in layout {
            let window = Array(counts[entry.offset..<(entry.offset + entry.field.slotCount)])
            let statistic: Statistic = entry.field.kind == .categorical ? .js : .psi
            let value = statistic == .psi ? Self.psi(reference: entry.reference, window: window)
                : Self.jsDistance(reference: entry.reference, window: window)
            let (warn, alert) = statistic == .psi ? (spec.psiWarn, spec.psiAlert) : (spec.jsWarn, spec.jsAlert)
            let level: Level = partial ? .ok : value >= alert ? .alert : value >= warn ? .warn : .ok
            results.append(Result(field: entry.name, statistic: statistic, value: value, level: level))
            if level > .ok, level > (worst[entry.name]?.level ?? .ok) { worst[entry.name] = (level, value, closed) }
        }
        let window = Window(index: closed, firstLine: firstLine ?? 0, lastLine: lastLine, records: records,
                            inputRecords: inputRecords, partial: partial, results: results)
        windows.append(window)
        if windows.count > Self.keptWindows { windows.removeFirst(windows.count - Self.keptWindows) }
        for i in counts.indices { counts[i] = 0 }
        records = 0
        inputBefore += inputRecords
        inputRecords = 0
        firstLine = nil
        return window
    }

    // MARK: Statistics

    /// Population stability index: Σ (a − e) · ln(a / e) over the slots, with a and e the
    /// window's and the reference's shares, each floored at `psiFloor`.
    public static func psi(reference: [UInt64], window: [UInt64]) -> Double {
        let r = Double(reference.reduce(0, +)), w = Double(window.reduce(0, +))
        guard r > 0, w > 0 else { return 0 }
        var sum = 0.0
        for (e, a) in zip(reference, window) {
            let ei = max(Double(e) / r, psiFloor), ai = max(Double(a) / w, psiFloor)
            sum += (ai - ei) * log(ai / ei)
        }
        return sum
    }

    /// Jensen–Shannon distance with base-2 logarithms (0…1): the square root of the mean of
    /// both sides' Kullback–Leibler divergence from their average, on the unsmoothed shares.
    public static func jsDistance(reference: [UInt64], window: [UInt64]) -> Double {
        let r = Double(reference.reduce(0, +)), w = Double(window.reduce(0, +))
        guard r > 0, w > 0 else { return 0 }
        var sum = 0.0
        for (e, a) in zip(reference, window) {
            let ei = Double(e) / r, ai = Double(a) / w, m = (ai + ei) / 2
            if ai > 0 { sum += ai * log2(ai / m) }
            if ei > 0 { sum += ei * log2(ei / m) }
        }
        return max(0, sum / 2).squareRoot()
    }

    /// The PSI a window of `records` drawn from the reference itself has on average, for a field
    /// of `slots` slots: n·PSI tends to a χ² with slots − 1 degrees of freedom, so
    /// E[PSI] ≈ (slots − 1)·(1/records + 1/reference records).
    public static func expectedPSI(slots: Int, records: Double, referenceRecords: Double) -> Double {
        Double(max(slots - 1, 0)) * (1 / records + 1 / referenceRecords)
    }
}

extension DriftWatch {
    /// A figure as the logs, `ps` and `pipeline drift` show it: 4 decimals (0.0012), or 3
    /// significant digits below 0.001; "nan", "inf", and Swift's own form from 10¹² on (a
    /// model's NaN must not stop the supervisor that prints it).
    public static func format(_ x: Double) -> String {
        if x == 0 { return "0" }
        guard x.isFinite else { return x.isNaN ? "nan" : x < 0 ? "-inf" : "inf" }
        if abs(x) >= 1e12 { return "\(x)" }
        if abs(x) >= 0.001 {
            let scaled = (x * 10_000).rounded()
            let whole = Int(scaled) / 10_000, frac = abs(Int(scaled) % 10_000)
            let f = String(frac)
            return (x < 0 && whole == 0 ? "-" : "") + "\(whole)." + String(repeating: "0", count: 4 - f.count) + f
        }
        var e = 0
        var m = abs(x)
        while m < 1 { m *= 10; e += 1 }
        let digits = Int((m * 100).rounded())
        return (x < 0 ? "-" : "") + "\(digits / 100).\(digits % 100 < 10 ? "0" : "")\(digits % 100)e-\(e)"
    }
}
