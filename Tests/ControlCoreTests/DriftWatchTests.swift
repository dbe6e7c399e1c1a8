import Config
@testable import ControlCore
import Glibc
import Messages
import Testing

/// The drift watch as pure code: its statistics, its windows, its levels.
@Suite struct DriftWatchTests {
    static func profile() -> DriftProfile {
        DriftProfile(records: 1000, fields: [
            DriftProfile.Field(bins: DriftPlan.Field(name: "amount", kind: .numeric, edges: [10, 20]), type: .float, counts: [250, 500, 250, 0]),
            DriftProfile.Field(bins: DriftPlan.Field(name: "country", kind: .categorical, values: ["US", "DE"]), type: .string, counts: [500, 300, 200, 0]),
        ], predictions: [
            DriftProfile.Field(bins: DriftPlan.Field(name: "score", kind: .numeric, edges: [0.5]), type: nil, counts: [400, 600, 0]),
        ])
    }

    static func watch(window: Int = 100) -> DriftWatch {
        var spec = DriftSpec(reference: "/ref.json")
        spec.window = window
        return DriftWatch(profile: profile(), spec: spec)
    }

    /// PSI by its definition, each share floored at 0.0001 (a slot empty on both sides adds 0).
    @Test func psiIsTheFlooredSum() {
        let reference: [UInt64] = [250, 500, 250, 0], window: [UInt64] = [10, 60, 30, 0]
        let r = [0.25, 0.5, 0.25, 0.0001], a = [0.1, 0.6, 0.3, 0.0001]
        let expected = zip(a, r).reduce(0.0) { $0 + ($1.0 - $1.1) * log($1.0 / $1.1) }
        #expect(abs(DriftWatch.psi(reference: reference, window: window) - expected) < 1e-15)
        #expect(DriftWatch.psi(reference: reference, window: [25, 50, 25, 0]) == 0)
        // An empty window bin where the reference has records: floored, finite.
        #expect(DriftWatch.psi(reference: reference, window: [0, 100, 0, 0]).isFinite)
    }

    /// Jensen–Shannon distance, base 2: 0 for equal shares, 1 for disjoint ones, symmetric.
    @Test func jsDistanceBounds() {
        #expect(DriftWatch.jsDistance(reference: [5, 3, 2], window: [50, 30, 20]) < 1e-8)
        #expect(abs(DriftWatch.jsDistance(reference: [1, 0], window: [0, 1]) - 1) < 1e-12)
        let a = DriftWatch.jsDistance(reference: [5, 3, 2], window: [4, 4, 2]), b = DriftWatch.jsDistance(reference: [4, 4, 2], window: [5, 3, 2])
        #expect(abs(a - b) < 1e-15)
        // scipy.spatial.distance.jensenshannon([.5, .3, .2], [.4, .4, .2], base=2)
        #expect(abs(a - 0.09584323377689244) < 1e-12)
        // The smallest distance a move of 10 points between two categories makes (0.55/0.45 → 0.45/0.55):
        // above the default alert threshold 0.08.
        #expect(DriftWatch.jsDistance(reference: [55, 45], window: [45, 55]) > 0.08)
    }

    /// Windows are whole batches closing at each multiple of `window` input records; rejected
    /// records take input room but no counts.
    @Test func windowsCloseAtMultiplesOfTheInputRecords() {
        var w = Self.watch(window: 100)
        let counts: [UInt64] = [10, 20, 10, 0,  20, 12, 8, 0,  16, 24, 0]  // 40 accepted rows
        #expect(w.add(firstLine: 1, lastLine: 60, records: 60, rows: 40, counts: counts) == nil)
        let closed = w.add(firstLine: 61, lastLine: 100, records: 40, rows: 40, counts: counts)
        #expect(closed?.index == 1 && closed?.firstLine == 1 && closed?.lastLine == 100)
        #expect(closed?.records == 80 && closed?.inputRecords == 100 && closed?.partial == false)
        #expect(closed?.results.map(\.field) == ["amount", "country", "prediction.score"])
        #expect(closed?.results.map(\.statistic) == [.psi, .js, .psi])
        #expect(w.records == 0)
        // The last window: 30 of 100 input records is under half: partial, no levels.
        _ = w.add(firstLine: 101, lastLine: 130, records: 30, rows: 30, counts: [30, 0, 0, 0,  0, 0, 30, 0,  30, 0, 0])
        let last = w.finish()
        #expect(last?.partial == true && last?.drifted.isEmpty == true && last?.results[0].value ?? 0 > 1)
        #expect(w.finish() == nil && w.closed == 2)
    }

    /// A full window whose records were mostly rejected raises no level: too few values to judge.
    @Test func aMostlyRejectedWindowIsPartial() {
        var w = Self.watch(window: 100)
        let closed = w.add(firstLine: 1, lastLine: 100, records: 100, rows: 40, counts: [40, 0, 0, 0,  40, 0, 0, 0,  40, 0, 0])!
        #expect(closed.partial && closed.records == 40 && closed.inputRecords == 100)
        #expect(closed.results[0].value > 0.2 && closed.drifted.isEmpty)
        let none = w.add(firstLine: 101, lastLine: 200, records: 100, rows: 0, counts: [])!
        #expect(none.partial && none.records == 0 && none.results.allSatisfy { $0.value == 0 && $0.level == .ok })
    }

    @Test func levelsFollowTheThresholds() {
        var w = Self.watch(window: 10)
        // amount all in the first bin (PSI ≫ 0.2); country as the reference; score shifted a little.
        let closed = w.add(firstLine: 1, lastLine: 10, records: 10, rows: 10, counts: [10, 0, 0, 0,  5, 3, 2, 0,  5, 5, 0])!
        #expect(closed.results[0].level == .alert && closed.results[1].level == .ok)
        let psiScore = DriftWatch.psi(reference: [400, 600, 0], window: [5, 5, 0])
        #expect(abs(closed.results[2].value - psiScore) < 1e-15 && closed.results[2].level == (psiScore >= 0.1 ? .warn : .ok))
        #expect(w.worst["amount"]?.level == .alert && w.worst["amount"]?.window == 1 && w.worst["country"] == nil)
    }

    /// A batch whose counts do not have the plan's shape is in its window's input but not in
    /// its counts, and says so.
    @Test func countsOfAnotherShapeAreUncounted() {
        var w = Self.watch(window: 10)
        _ = w.add(firstLine: 1, lastLine: 5, records: 5, rows: 5, counts: [1, 2])
        #expect(w.uncounted == 5 && w.records == 0)
    }

    /// On same-distribution windows n·PSI tends to χ² with slots − 1 degrees of freedom:
    /// checked by simulation against `expectedPSI` (within 15%).
    @Test func expectedPSIOnUndriftedWindows() {
        let shares = [0.1, 0.2, 0.3, 0.25, 0.15]
        let reference = shares.map { UInt64($0 * 1_000_000) }
        var state: UInt64 = 42
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        var sum = 0.0
        let trials = 400, n = 2000
        for _ in 0..<trials {
            var counts = [UInt64](repeating: 0, count: shares.count)
            for _ in 0..<n {
                var u = uniform(), i = 0
                while i < shares.count - 1 && u >= shares[i] { u -= shares[i]; i += 1 }
                counts[i] += 1
            }
            sum += DriftWatch.psi(reference: reference, window: counts)
        }
        let expected = DriftWatch.expectedPSI(slots: shares.count, records: Double(n), referenceRecords: 1_000_000)
        #expect(abs(sum / Double(trials) / expected - 1) < 0.15, "mean \(sum / Double(trials)), expected \(expected)")
    }

    @Test func formatting() {
        #expect(DriftWatch.format(0) == "0")
        #expect(DriftWatch.format(0.31) == "0.3100")
        #expect(DriftWatch.format(0.00012) == "1.20e-4")
        // A model's NaN or a huge score difference is printed, not a crash of the supervisor.
        #expect(DriftWatch.format(.nan) == "nan" && DriftWatch.format(.infinity) == "inf" && DriftWatch.format(-.infinity) == "-inf")
        #expect(DriftWatch.format(1e20) == "1e+20" && DriftWatch.format(-3e15) == "\(-3e15)")
        #expect(DriftWatch.format(123_456.78912) == "123456.7891")
        #expect(DriftWatch.format(1.23456) == "1.2346")
    }
}
