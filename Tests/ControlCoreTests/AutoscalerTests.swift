import Config
import Testing
@testable import ControlCore

/// The autoscaling policy on simulated load: a pipeline whose stages cost so many seconds of
/// compute per record, fed at a rate that changes over time, on a machine of so many cores.
/// Each simulated second the policy sees what the stages did and its changes take effect one
/// second later (a replica starts, then is ready). As in the real pipeline, where credits move
/// a backlog upstream, the batches that wait for the bottleneck wait in front of ingest.
@Suite struct AutoscalerTests {
    struct Simulation {
        /// Compute seconds per record, per stage.
        var cost: [StageKind: Double]
        var cores = 2.0
        var scaler: Autoscaler
        var desired: [StageKind: Int] = Dictionary(uniqueKeysWithValues: StageKind.allCases.map { ($0, 1) })
        var ready: [StageKind: Int] = Dictionary(uniqueKeysWithValues: StageKind.allCases.map { ($0, 1) })
        var changes: [(second: Int, change: Autoscaler.Change)] = []
        var throughput: [Double] = []

        init(cost: [StageKind: Double], cores: Double = 2, configure: (inout Autoscaler.Settings) -> Void = { _ in }) {
            self.cost = cost
            self.cores = cores
            var settings = Autoscaler.Settings(cores: cores)
            configure(&settings)
            scaler = Autoscaler(settings: settings)
        }

        /// Records per second the pipeline passes at input rate `rate`: the input, the slowest
        /// stage, or the cores, whichever is smallest.
        func passed(_ rate: Double) -> Double {
            let perStage = StageKind.allCases.map { Double(ready[$0]!) / cost[$0]! }.min()!
            let cpu = cores / StageKind.allCases.reduce(0) { $0 + cost[$1]! }
            return min(rate, perStage, cpu)
        }

        /// One second at input rate `rate`.
        mutating func step(_ second: Int, rate: Double) {
            ready = desired  // what was decided a second ago is ready now
            let x = passed(rate)
            throughput.append(x)
            var loads: [StageKind: Autoscaler.StageLoad] = [:]
            let bottleneck = x < rate * 0.999 ? StageKind.allCases.min { Double(ready[$0]!) / cost[$0]! < Double(ready[$1]!) / cost[$1]! } : nil
            for stage in StageKind.allCases {
                // As credits make it: when a stage holds the stream back, the batches waiting for
                // it pile up in front of ingest (the first stage), not in front of it; elsewhere
                // they pass.
                let wait = bottleneck != nil && stage == .ingest ? 0.02 : 0.0001
                loads[stage] = .init(ready: ready[stage]!, demand: x * cost[stage]!, queueWait: wait)
            }
            for change in scaler.decide(loads, desired: desired, now: UInt64(second) * 1_000_000_000) {
                changes.append((second, change))
                desired[change.stage] = change.to
            }
        }

        mutating func run(_ seconds: Range<Int>, rate: (Int) -> Double) {
            for s in seconds { step(s, rate: rate(s)) }
        }
    }

    /// The tabular MLP's shape: infer costs most.
    static let mlp: [StageKind: Double] = [.ingest: 0.5e-6, .featurize: 0.25e-6, .infer: 4e-6, .aggregate: 0.5e-6]

    @Test func aStepOfLoadGrowsTheBottleneckWithinTheBudget() {
        var sim = Simulation(cost: Self.mlp)
        sim.run(0..<5) { _ in 1000 }
        #expect(sim.changes.isEmpty, "a trickle needs nothing")
        sim.run(5..<30) { _ in 1_000_000 }
        #expect(sim.desired == [.ingest: 1, .featurize: 1, .infer: 2, .aggregate: 1], "\(sim.changes)")
        #expect(sim.changes.count == 1 && sim.changes[0].change.stage == .infer && sim.changes[0].second <= 8,
                "within the 2 s up window: \(sim.changes)")
        #expect(sim.changes[0].change.reason.hasSuffix("batches wait 20.0 ms (at ingest)"), "\(sim.changes[0].change.reason)")
        // It is worth it: the cores, not infer, bound the stream now.
        #expect(sim.throughput.last! > sim.throughput[6] * 1.4)
    }

    @Test func anIdlePhaseGivesTheCoresBackAfterTheDownWindowOnly() {
        var sim = Simulation(cost: Self.mlp)
        sim.run(0..<20) { _ in 1_000_000 }
        #expect(sim.desired[.infer] == 2)
        sim.run(20..<45) { _ in 100 }
        #expect(sim.desired[.infer] == 2, "25 s of quiet is within the 30 s down window")
        sim.run(45..<60) { _ in 100 }
        #expect(sim.desired[.infer] == 1, "\(sim.changes)")
        let down = sim.changes.last!
        #expect(down.change.from == 2 && down.change.to == 1 && down.second >= 50 && down.change.reason.contains("below the 60% target"))
    }

    @Test func aRampGrowsStepByStepAsTheLoadNeedsIt() {
        // A big machine and a heavy infer stage: the input rate climbs for two minutes.
        let heavy: [StageKind: Double] = [.ingest: 0.5e-6, .featurize: 0.25e-6, .infer: 20e-6, .aggregate: 0.5e-6]
        var sim = Simulation(cost: heavy, cores: 16)
        sim.run(0..<120) { s in Double(s) * 2_000 }
        let infer = sim.changes.filter { $0.change.stage == .infer }
        #expect(infer.count >= 2 && infer.allSatisfy { $0.change.to > $0.change.from }, "only up, in steps: \(sim.changes)")
        #expect(sim.desired[.infer]! >= 5, "240k records/s × 20 µs needs 4.8 replicas busy: \(sim.desired)")
        #expect(sim.throughput.last! >= 0.99 * 238_000, "it keeps up with the ramp: \(sim.throughput.last!)")
        #expect(sim.scaler.grown[.infer] == infer.count && sim.scaler.shrunk.isEmpty)
    }

    /// The bench's phased stream: a fast phase bound by featurize (long texts), a quiet minute,
    /// a fast phase bound by ingest: each phase gets its replica, the quiet gives them back.
    @Test func phasesWithDifferentBottlenecksAreFollowedAndTheQuietGivesCoresBack() {
        let longTexts: [StageKind: Double] = [.ingest: 1e-6, .featurize: 8e-6, .infer: 1e-6, .aggregate: 0.5e-6]
        let wideRecords: [StageKind: Double] = [.ingest: 8e-6, .featurize: 0.5e-6, .infer: 1e-6, .aggregate: 0.5e-6]
        var sim = Simulation(cost: longTexts)
        sim.run(0..<20) { _ in 1_000_000 }
        #expect(sim.desired == [.ingest: 1, .featurize: 2, .infer: 1, .aggregate: 1], "\(sim.changes)")
        sim.run(20..<80) { _ in 50 }
        #expect(sim.desired.values.allSatisfy { $0 == 1 }, "back to the minimum: \(sim.changes)")
        #expect(sim.scaler.lastChange?.change.to == 1 && sim.scaler.lastChange!.at <= 60_000_000_000)
        sim.cost = wideRecords
        sim.run(80..<100) { _ in 1_000_000 }
        #expect(sim.desired == [.ingest: 2, .featurize: 1, .infer: 1, .aggregate: 1], "\(sim.changes)")
        #expect(sim.changes.count == 3 && sim.scaler.grown == [.featurize: 1, .ingest: 1] && sim.scaler.shrunk == [.featurize: 1])
        #expect(sim.changes.filter { $0.second >= 80 }.allSatisfy { $0.second <= 83 }, "within the 1 s up window and a look: \(sim.changes)")
    }

    /// Real looks are never exactly an interval apart (the poll loop wakes a little late): the
    /// windows still hold, up and down, after their length and a look or two.
    @Test func windowsHoldWhateverTheLooksTiming() {
        var settings = Autoscaler.Settings(cores: 2)
        settings.intervalNanos = 250_000_000
        settings.scaleUpAfterNanos = 500_000_000
        settings.scaleDownAfterNanos = 2_000_000_000
        var scaler = Autoscaler(settings: settings)
        let busy: [StageKind: Autoscaler.StageLoad] = [.infer: .init(ready: 1, demand: 1.0, queueWait: 0.05)]
        let idle: [StageKind: Autoscaler.StageLoad] = [.infer: .init(ready: 2, demand: 0, queueWait: 0)]
        var desired: [StageKind: Int] = [.ingest: 1, .featurize: 1, .infer: 1, .aggregate: 1]
        var now: UInt64 = 0, changedAt: [UInt64] = []
        // Each look 250 ms plus 1 to 9 ms late.
        for look in 0..<40 {
            now += 250_000_000 + UInt64(1 + look * 7 % 9) * 1_000_000
            for c in scaler.decide(desired[.infer] == 1 && changedAt.isEmpty ? busy : idle, desired: desired, now: now) {
                desired[c.stage] = c.to
                changedAt.append(now)
            }
        }
        #expect(changedAt.count == 2, "up once, then down once: \(changedAt)")
        guard changedAt.count == 2 else { return }
        #expect(changedAt[0] <= 3 * 260_000_000, "up after 0.5 s and a look: \(changedAt[0])")
        #expect(changedAt[1] - changedAt[0] >= 2_000_000_000 && changedAt[1] - changedAt[0] <= 2_600_000_000, "down after 2 s: \(changedAt)")
    }

    /// The up window counts from the first look that asked for more, however the looks fall.
    @Test func growthWaitsTheWholeUpWindowAfterTheFirstLookThatAskedForIt() {
        var settings = Autoscaler.Settings(cores: 2)
        settings.scaleUpAfterNanos = 1_000_000_000
        var scaler = Autoscaler(settings: settings)
        let quiet: [StageKind: Autoscaler.StageLoad] = [.infer: .init(ready: 1, demand: 0.2, queueWait: 0)]
        let busy: [StageKind: Autoscaler.StageLoad] = [.infer: .init(ready: 1, demand: 1.0, queueWait: 0.05)]
        let desired: [StageKind: Int] = [.ingest: 1, .featurize: 1, .infer: 1, .aggregate: 1]
        var now: UInt64 = 0
        for _ in 0..<6 {  // looks 0.5 s apart and a little late, nothing to do
            now += 503_000_000
            #expect(scaler.decide(quiet, desired: desired, now: now).isEmpty)
        }
        let firstBusy = now + 503_000_000
        var grewAt: UInt64?
        for _ in 0..<6 where grewAt == nil {
            now += 503_000_000
            if !scaler.decide(busy, desired: desired, now: now).isEmpty { grewAt = now }
        }
        let at = try! #require(grewAt)
        #expect(at - firstBusy >= 1_000_000_000 && at - firstBusy < 1_600_000_000, "grew \(at - firstBusy) ns after the first busy look")
    }

    /// A donor gives a replica only if it stays well below the target without it: else it would
    /// become the bottleneck and take the replica back, over and over.
    @Test func aDonorThatWouldBecomeTheBottleneckKeepsItsReplica() {
        // infer holds two replicas at 38% (0.77 busy); featurize, at 85% of one, needs more; the
        // cores are all taken. With one replica infer would be at 77%: the bottleneck again.
        let cost: [StageKind: Double] = [.ingest: 0.5e-6, .featurize: 2.2e-6, .infer: 2e-6, .aggregate: 0.5e-6]
        var sim = Simulation(cost: cost, cores: 2)
        sim.desired[.infer] = 2
        sim.run(0..<120) { _ in 1_000_000 }
        let moves = sim.changes.filter { $0.change.stage == .infer }
        #expect(moves.count <= 1, "no ping-pong of infer's replica: \(sim.changes.map { "\($0.second): \($0.change.stage) \($0.change.from)→\($0.change.to)" })")
    }

    /// Of several stages busy above the target whose batches wait, the busiest grows.
    @Test func ofSeveralBusyWaitingStagesTheBusiestGrows() {
        var scaler = Autoscaler(settings: { var s = Autoscaler.Settings(cores: 8); s.scaleUpAfterNanos = 0; return s }())
        let loads: [StageKind: Autoscaler.StageLoad] = [
            .ingest: .init(ready: 1, demand: 0.8, queueWait: 0.040), .featurize: .init(ready: 1, demand: 0.95, queueWait: 0.002),
            .infer: .init(ready: 1, demand: 0.3, queueWait: 0.05), .aggregate: .init(ready: 1, demand: 0.1, queueWait: 0)]
        let changes = scaler.decide(loads, desired: [.ingest: 1, .featurize: 1, .infer: 1, .aggregate: 1], now: 1)
        #expect(changes.map(\.stage) == [.featurize], "\(changes)")
        #expect(scaler.lastReason[.infer] == "busy 30% of 1, batches wait 50.0 ms: no change", "\(scaler.lastReason)")
        #expect(scaler.lastReason[.aggregate] == "busy 10% of 1, batches wait 0.0 ms: no change", "at its minimum: nothing to give back")
    }

    /// Credits move a backlog upstream: featurize, busy all the time, grants ingest a few frames,
    /// so the batches that wait for featurize wait at ingest (measured on the text workload:
    /// featurize 99% busy, 0.4 ms; ingest 8% busy, 46 ms). Featurize is the bottleneck.
    @Test func aBacklogInFrontOfAnEarlierStageCountsForTheBusyStageAfterIt() {
        var settings = Autoscaler.Settings(cores: 2)
        settings.scaleUpAfterNanos = 0
        var scaler = Autoscaler(settings: settings)
        let loads: [StageKind: Autoscaler.StageLoad] = [
            .ingest: .init(ready: 1, demand: 0.08, queueWait: 0.046), .featurize: .init(ready: 1, demand: 0.99, queueWait: 0.0004),
            .infer: .init(ready: 1, demand: 0.2, queueWait: 0), .aggregate: .init(ready: 1, demand: 0.05, queueWait: 0)]
        let changes = scaler.decide(loads, desired: [.ingest: 1, .featurize: 1, .infer: 1, .aggregate: 1], now: 1)
        #expect(changes.map(\.stage) == [.featurize] && changes.first?.to == 2, "\(changes)")
        #expect(changes.first?.reason == "busy 99% of 1, batches wait 46.0 ms (at ingest)", "\(changes)")
        // Nothing waits anywhere (the input is slower than the pipeline): a busy stage stays.
        var quiet = loads
        quiet[.ingest]!.queueWait = 0.0002
        quiet[.featurize]!.queueWait = 0.0003
        var other = Autoscaler(settings: settings)
        #expect(other.decide(quiet, desired: [.ingest: 1, .featurize: 1, .infer: 1, .aggregate: 1], now: 1).isEmpty)
        // A wait after the busy stage is not its backlog.
        var after = quiet
        after[.aggregate]!.queueWait = 0.05
        #expect(other.decide(after, desired: [.ingest: 1, .featurize: 1, .infer: 1, .aggregate: 1], now: 2).isEmpty)
    }

    @Test func oscillatingLoadDoesNotFlap() {
        var sim = Simulation(cost: Self.mlp)
        // 5 s fast, 5 s trickle, for five minutes.
        sim.run(0..<300) { s in s % 10 < 5 ? 1_000_000 : 100 }
        #expect(sim.changes.count <= 1, "one scale-up at most, never a scale-down: \(sim.changes.map { "\($0.second): \($0.change.stage) \($0.change.from)→\($0.change.to)" })")
    }

    @Test func aStageAtItsMaximumStaysAndSaysSo() {
        var sim = Simulation(cost: Self.mlp) { $0.maxReplicas[.infer] = 1 }
        sim.run(0..<20) { _ in 1_000_000 }
        #expect(sim.changes.isEmpty)
        #expect(sim.scaler.lastReason[.infer]?.contains("at its maximum 1") == true, "\(sim.scaler.lastReason)")
    }

    @Test func withNoCoreToSpareAReplicaMovesFromTheStageWithTheMostSpareCapacity() {
        // Featurize became the bottleneck (long texts) while infer holds two replicas.
        let text: [StageKind: Double] = [.ingest: 3e-6, .featurize: 8e-6, .infer: 3e-6, .aggregate: 1e-6]
        var sim = Simulation(cost: text)
        sim.desired[.infer] = 2
        sim.run(0..<10) { _ in 1_000_000 }
        #expect(sim.desired[.featurize] == 2 && sim.desired[.infer] == 1, "\(sim.changes)")
        let moves = sim.changes.filter { $0.change.stage == .featurize || $0.change.stage == .infer }
        #expect(moves.count == 2 && moves[0].second == moves[1].second, "one move, both sides at once: \(sim.changes)")
        #expect(moves.contains { $0.change.reason.contains("one replica moves from infer") })
    }

    @Test func startsPerMinuteAreCapped() {
        // Everything is slow and the machine is big: the bottleneck wants many replicas at once.
        let slow: [StageKind: Double] = [.ingest: 1e-6, .featurize: 1e-6, .infer: 40e-6, .aggregate: 1e-6]
        var sim = Simulation(cost: slow, cores: 64) { $0.maxStartsPerMinute = 4 }
        sim.run(0..<50) { _ in 1_000_000 }
        let started = sim.changes.filter { $0.change.to > $0.change.from }.reduce(0) { $0 + $1.change.to - $1.change.from }
        #expect(started <= 4, "\(sim.changes)")
        sim.run(50..<200) { _ in 1_000_000 }
        #expect(sim.desired[.infer]! > 5, "it goes on growing, a minute at a time: \(sim.desired)")
    }

    @Test func aBusyStageBehindABusierOneAtItsMaximumDoesNotGrow() {
        // Infer is busy, but ingest, before it, is busier and at its maximum: the stream is
        // ingest's, and more infer replicas would not help.
        var sim = Simulation(cost: [.ingest: 5e-6, .featurize: 0.5e-6, .infer: 4.5e-6, .aggregate: 0.5e-6]) { $0.maxReplicas[.ingest] = 1 }
        sim.run(0..<20) { _ in 1_000_000 }
        #expect(sim.desired[.infer] == 1, "not infer's bottleneck: \(sim.changes)")
    }
}
