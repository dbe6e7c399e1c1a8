import Config
import Messages
import Testing
@testable import ControlCore

/// Model rollouts through the core alone: the switch waits for every replica, happens between
/// two batch numbers, canaries by batch number, shadows count once per committed batch, and a
/// version that crashes or cannot load is rolled back with its batches scored again.
@Suite struct RolloutTests {
    func running(_ stages: [StageKind: StageSpec] = [:], window: Int = 8) -> World {
        var w = World(stages: stages, window: window, versionCrashLimit: nil)
        w.tick()
        w.startAll()
        return w
    }

    /// Every versioned replica confirms the live set.
    func ackAll(_ w: inout World, failing slot: UInt16? = nil, only: StageKind? = nil) {
        for stage in [StageKind.featurize, .infer, .aggregate] {
            for pid in w.ready(stage) {
                let failures = slot != nil && (only == nil || only == stage) ? [VersionsAck.Failure(slot: slot!, message: "no such file")] : []
                w.send(.versionsAck(pid: pid, generation: w.core.rollout.generation, failures: failures))
            }
        }
    }

    static let b = Rollout.Version(slot: 1, id: "b")

    @Test func theCanaryShareIsExactOverAnyRunOfBatches() {
        for bp in [1, 100, 1000, 1250, 3333, 5000, 9900] {
            for start in [UInt64(0), 7, 123_456] {
                let n = 1000
                let count = (0..<UInt64(n)).filter { Rollout.inCanary(start + $0, basisPoints: bp) }.count
                let expected = Double(n) * Double(bp) / 10_000
                #expect(abs(Double(count) - expected) <= 1, "\(bp) bp from \(start): \(count) of \(n)")
            }
        }
        #expect(!(0..<1000).contains { Rollout.inCanary($0, basisPoints: 0) })
        #expect((0..<1000).allSatisfy { Rollout.inCanary($0, basisPoints: 10_000) })
    }

    @Test func aCutoverWaitsForEveryReplicaThenSwitchesBetweenTwoBatches() {
        var w = running([.infer: StageSpec(replicas: 2)])
        w.cut(3)
        w.send(.rollout(client: 1, .begin(Self.b, .cutover)))
        #expect(w.versionsSent == [2])
        #expect(w.replies.isEmpty, "no answer before the replicas hold it")
        w.cut(2)
        #expect(w.core.ledger.batch(1)?.model == ModelSlots(primary: 0), "batches cut while loading keep the live version")
        // All but one replica confirm: still waiting.
        let last = w.ready(.aggregate)[0]
        for stage in [StageKind.featurize, .infer] { for pid in w.ready(stage) { w.send(.versionsAck(pid: pid, generation: 2, failures: [])) } }
        #expect(w.replies.isEmpty)
        w.send(.versionsAck(pid: last, generation: 2, failures: []))
        #expect(w.replies.count == 1 && w.replies[0].status == .ok)
        // Lines 1–3 and 5–6 were cut (line 4 is blank): the switch is at line 7.
        #expect(w.replies[0].text.contains("from input line 7 on is scored by b"), "\(w.replies[0].text)")
        w.cut(2)
        #expect(w.core.ledger.batch(2)?.model == ModelSlots(primary: 1))
        #expect(w.core.rollout.primary == Self.b && w.core.rollout.previous?.id == "")
        #expect(w.events.contains { if case .rollout(let s) = $0 { s.step == "switched" && s.line == 7 } else { false } })
        // Committed records count for the version that scored them.
        w.send(.batch(.sendable(8)))
        while !w.inFlight.isEmpty { w.deliver(0) }
        #expect(w.core.rollout.recordsByVersion == ["": 5, "b": 2])
        #expect(w.violations.isEmpty, "\(w.violations)")
    }

    @Test func aReplicaThatCannotLoadTheVersionRefusesTheRolloutAndNothingSwitches() {
        var w = running()
        w.send(.rollout(client: 1, .begin(Self.b, .canary(basisPoints: 5000))))
        ackAll(&w, failing: 1, only: .infer)
        #expect(w.replies.count == 1 && w.replies[0].status == .stageFailed)
        #expect(w.replies[0].text.contains("rollout refused") && w.replies[0].text.contains("no such file"), "\(w.replies[0].text)")
        #expect(w.core.rollout.phase == .steady && w.core.rollout.primary.slot == 0 && w.core.rollout.live.map(\.slot) == [0])
        for _ in 0..<4 { w.cut(1) }
        #expect((0..<4).allSatisfy { w.core.ledger.batch($0)?.model == ModelSlots(primary: 0) })
    }

    /// A replica builds the versions it is sent in its own loop: quiet meanwhile (a vocabulary of
    /// millions of terms takes seconds), it is not taken for hung until a start would have
    /// timed out; once it has confirmed them, the usual heartbeat limit holds again.
    @Test func aReplicaBuildingAVersionIsNotTakenForHung() {
        var w = running()
        w.send(.rollout(client: 1, .begin(Self.b, .cutover)))
        let building = w.ready(.infer)[0]
        w.silent.insert(building)
        for stage in [StageKind.featurize, .aggregate] {
            for pid in w.ready(stage) { w.send(.versionsAck(pid: pid, generation: w.core.rollout.generation, failures: [])) }
        }
        w.tick(6_000_000_000)
        #expect(w.signals.isEmpty, "building, not hung: \(w.log)")
        w.tick(20_000_000_000)
        #expect(w.signals.isEmpty)
        w.tick(4_100_000_000)
        #expect(w.signals.map(\.signal) == [.kill] && w.signals.first?.pid == building)
        #expect(w.log.contains { $0.hasSuffix("sent no heartbeat for 30.1 s while loading model versions: killing it") }, "\(w.log)")
        // Its confirmation is a sign of life: quiet 20 s while building, then 4 s more, is fine.
        var c = running()
        c.send(.rollout(client: 1, .begin(Self.b, .cutover)))
        let slow = c.ready(.infer)[0]
        c.silent.insert(slow)
        c.tick(20_000_000_000)
        ackAll(&c)
        c.tick(4_000_000_000)
        #expect(c.signals.isEmpty, "\(c.log)")
        // Aborted while it builds: it is still building the dropped version, and still allowed to.
        var d = running()
        d.send(.rollout(client: 1, .begin(Self.b, .cutover)))
        let busy = d.ready(.infer)[0]
        d.silent.insert(busy)
        d.tick(2_000_000_000)
        d.send(.rollout(client: 2, .abort))
        d.tick(8_000_000_000)
        #expect(d.signals.isEmpty, "\(d.log)")
        d.send(.versionsAck(pid: busy, generation: d.core.rollout.generation, failures: []))
        d.tick(5_100_000_000)
        #expect(d.signals.map(\.signal) == [.kill] && d.signals.first?.pid == busy, "done building: the usual limit")
        // Confirmed versions: 5 s of silence is a hang again.
        var v = running()
        v.send(.rollout(client: 1, .begin(Self.b, .cutover)))
        ackAll(&v)
        let quiet = v.ready(.infer)[0]
        v.silent.insert(quiet)
        v.tick(5_100_000_000)
        #expect(v.signals.map(\.signal) == [.kill] && v.signals.first?.pid == quiet)
    }

    @Test func aLoadThatNeverCompletesIsRefusedAtTheDeadline() {
        var w = running()
        w.send(.rollout(client: 1, .begin(Self.b, .cutover)))
        w.tick(59_000_000_000)
        #expect(w.replies.isEmpty)
        w.tick(2_000_000_000)
        #expect(w.replies.count == 1 && w.replies[0].status == .stageFailed && w.replies[0].text.contains("within 60"), "\(w.replies)")
        #expect(w.core.rollout.phase == .steady)
    }

    @Test func onlyOneRolloutAtATimeAndPromoteOrAbortNeedOne() {
        var w = running()
        w.send(.rollout(client: 1, .promote))
        w.send(.rollout(client: 2, .abort))
        #expect(w.replies.map(\.status) == [.usage, .usage])
        w.send(.rollout(client: 3, .begin(Self.b, .shadow)))
        ackAll(&w)
        w.send(.rollout(client: 4, .begin(Rollout.Version(slot: 2, id: "c"), .cutover)))
        #expect(w.replies.last?.status == .usage && w.replies.last?.text.contains("already in progress") == true)
    }

    @Test func aNewRolloutEndsTheWatchOfTheLastOneAndTheWatchEndsInTime() {
        var w = running([.infer: StageSpec(replicas: 1, maxRestarts: 1, restartWindowSeconds: 30)])
        w.send(.rollout(client: 1, .begin(Self.b, .cutover)))
        ackAll(&w)
        #expect(w.core.rollout.watched == Self.b)
        // A rollout of c begins: b is accepted, and a crash on b's batch while c loads is the batch's.
        w.send(.rollout(client: 2, .begin(Rollout.Version(slot: 2, id: "c"), .cutover)))
        #expect(w.core.rollout.watched == nil)
        w.cut(2)
        w.send(.batch(.sendable(8)))
        let pid = w.ready(.infer)[0]
        w.die(pid, .signaled(6, selfInflicted: true, name: "Aborted"), work: ReplicaWork(sequence: 0, part: nil, model: ModelSlots(primary: 1)))
        #expect(w.core.ledger.batch(0)?.units[0].crashes == 1, "blamed on the batch")
        #expect(w.replies.count == 1, "c's client is not answered by b's crash")
        w.tick(2_000_000_000)
        w.startAll()
        ackAll(&w)
        #expect(w.core.rollout.primary.id == "c" && w.core.rollout.watched?.id == "c")
        // Past the watch (600 s), c's crashes are ordinary crashes again.
        w.tick(601_000_000_000)
        #expect(w.core.rollout.watched == nil)
        #expect(w.events.contains { if case .rollout(let s) = $0 { s.step == "watch_ended" && s.version == "c" } else { false } })
    }

    @Test func anAbortedCanaryLeavesNothingForItsVersion() {
        var w = running()
        w.send(.rollout(client: 1, .begin(Self.b, .canary(basisPoints: 5000))))
        ackAll(&w)
        for _ in 0..<4 { w.cut(1) }
        #expect([1, 3].allSatisfy { w.core.ledger.batch(UInt64($0))?.model.primary == 1 })
        w.send(.batch(.sendable(8)))
        w.deliver(0)
        w.send(.rollout(client: 2, .abort))
        // Batches 1–3 are not written yet: all the live version's now, b's copies in flight stale.
        #expect(w.retagged.last?.sequences == [1, 3] && w.retagged.last?.model == ModelSlots(primary: 0))
        #expect(w.replies.last?.text == "aborted b: every record from input line 2 on is scored by ", "\(w.replies.last?.text ?? "")")
        #expect(w.core.rollout.failedSlots.contains(1), "a crash on one of b's frames still in flight is b's")
        #expect(w.core.rollout.live.map(\.slot) == [0], "b is dropped from the replicas at once")
        w.send(.batch(.sendable(8)))
        while !w.inFlight.isEmpty { w.deliver(0) }
        #expect(w.written.allSatisfy { $0.pieces.allSatisfy { $0.model == nil || $0.model == ModelSlots(primary: 0) || $0.model == ModelSlots(primary: 1) } })
        #expect(w.written.map(\.sequence) == [0, 1, 2, 3] && w.written.dropFirst().allSatisfy { $0.pieces.allSatisfy { $0.model == ModelSlots(primary: 0) } })
        #expect(w.violations.isEmpty, "\(w.violations)")
    }

    @Test func aCanaryThenPromoteThenTheOldVersionRetiresOnceItsBatchesAreIn() {
        var w = running()
        w.send(.rollout(client: 1, .begin(Self.b, .canary(basisPoints: 2500))))
        ackAll(&w)
        for _ in 0..<8 { w.cut(1) }
        let canary = (0..<8).filter { w.core.ledger.batch(UInt64($0))?.model.primary == 1 }
        #expect(canary == [3, 7], "every fourth batch, by number")
        w.send(.rollout(client: 2, .promote))
        #expect(w.replies.last?.text.contains("promoted b") == true)
        w.send(.batch(.sendable(8)))
        while !w.inFlight.isEmpty { w.deliver(0) }
        w.flushWriter()
        w.cut(1)
        #expect(w.core.ledger.batch(8)?.model == ModelSlots(primary: 1))
        #expect(w.core.rollout.live.map(\.slot) == [1, 0], "the old version stays loaded for a rollback")
        // A second rollout replaces the kept one; it retires once its batches are committed.
        w.send(.rollout(client: 3, .begin(Rollout.Version(slot: 2, id: "c"), .cutover)))
        ackAll(&w)
        #expect(w.core.rollout.live.map(\.slot) == [2, 1, 0])
        w.cut(1)
        w.send(.batch(.sendable(8)))
        while !w.inFlight.isEmpty { w.deliver(0) }
        #expect(w.core.rollout.live.map(\.slot) == [2, 1], "version 0's last batch (7) is committed: retired")
        #expect(w.events.contains { if case .rollout(let s) = $0 { s.step == "retired" && s.version == "" && s.other == "c" } else { false } })
        #expect(w.violations.isEmpty, "\(w.violations)")
    }

    /// Two cutovers before any batch is cut: the first version scored nothing, and retires at
    /// the next tick.
    @Test func aVersionReplacedBeforeAnyBatchRetires() {
        var w = running()
        w.send(.rollout(client: 1, .begin(Self.b, .cutover)))
        ackAll(&w)
        w.send(.rollout(client: 2, .begin(Rollout.Version(slot: 2, id: "c"), .cutover)))
        ackAll(&w)
        w.tick()
        #expect(w.core.rollout.live.map(\.slot) == [2, 1], "\(w.core.rollout.live)")
        #expect(w.events.contains { if case .rollout(let s) = $0 { s.step == "retired" && s.version == "" } else { false } })
    }

    @Test func aShadowCountsItsFiguresOncePerCommittedBatch() {
        var w = running()
        var figures = ShadowStats()
        figures.rows = 2
        figures.labelDisagreements = 1
        figures.maxDifference = 0.25
        figures.sumOfRowMaxima = 0.3
        w.shadowPerPiece = figures
        w.cut(2)
        w.send(.rollout(client: 1, .begin(Self.b, .shadow)))
        ackAll(&w)
        for _ in 0..<3 { w.cut(2) }
        #expect(w.core.ledger.batch(1)?.model == ModelSlots(primary: 0, shadow: 1))
        w.send(.batch(.sendable(8)))
        // Duplicates (replays) arrive too: counted once.
        let copies = w.inFlight
        w.inFlight += copies
        while !w.inFlight.isEmpty { w.deliver(0) }
        #expect(w.core.ledger.duplicates == 4)
        #expect(w.core.rollout.shadowStats?.rows == 6 && w.core.rollout.shadowStats?.labelDisagreements == 3)
        #expect(w.core.rollout.recordsByVersion == ["": 8], "the shadow's results are not written")
        w.send(.rollout(client: 2, .abort))
        #expect(w.events.contains { if case .shadow(let v, _, let s, let final) = $0 { v == "b" && s.rows == 6 && final } else { false } })
        w.cut(2)
        #expect(w.core.ledger.batch(4)?.model == ModelSlots(primary: 0))
    }

    /// Every 100,000 compared rows a shadow reports its figures; a second shadow after the
    /// first counts from zero, not from where the first one stopped.
    @Test func aSecondShadowReportsItsFiguresFromItsOwnStart() {
        var w = running()
        var figures = ShadowStats()
        figures.rows = 60_000
        w.shadowPerPiece = figures
        func periodic(_ id: String) -> [UInt64] {
            w.events.compactMap { if case .shadow(let v, _, let s, let final) = $0, v == id, !final { s.rows } else { nil } }
        }
        for (client, id) in [(1, "b"), (3, "c")] {
            let version = Rollout.Version(slot: w.core.rollout.nextSlot, id: id)
            w.send(.rollout(client: client, .begin(version, .shadow)))
            ackAll(&w)
            for _ in 0..<2 { w.cut(1) }
            w.send(.batch(.sendable(8)))
            while !w.inFlight.isEmpty { w.deliver(0) }
            #expect(w.core.rollout.shadowStats?.rows == 120_000, "\(id): \(String(describing: w.core.rollout.shadowStats))")
            #expect(periodic(id) == [120_000], "\(id): \(periodic(id))")
            w.send(.rollout(client: client + 1, .abort))
        }
    }

    @Test func crashesOnTheNewVersionsBatchesRollItBackAndItsBatchesAreScoredAgain() {
        var w = running([.infer: StageSpec(replicas: 1, maxRestarts: 1, restartWindowSeconds: 30)])
        w.cut(2)
        w.send(.rollout(client: 1, .begin(Self.b, .cutover)))
        ackAll(&w)
        for _ in 0..<3 { w.cut(2) }
        w.send(.batch(.sendable(8)))
        // Batch 0 (version 0) is delivered; batch 2's output is at the sink, held behind batch 1.
        w.deliver(0)
        let atSink = w.inFlight.firstIndex { $0.sequence == 2 }!
        w.deliver(atSink)
        // Infer crashes on batch 1 (version b) twice: more than restart.max = 1.
        for round in 0..<2 {
            guard let pid = w.ready(.infer).first else { Issue.record("no infer replica in round \(round)"); return }
            w.die(pid, .signaled(6, selfInflicted: true, name: "Aborted"), work: ReplicaWork(sequence: 1, part: nil, model: ModelSlots(primary: 1)))
            #expect(w.core.ledger.batch(1)?.units[0].crashes == 0, "the version's crash, not the batch's")
            w.tick(2_000_000_000)
            w.startAll()
        }
        #expect(w.core.rollout.rollbacks == 1 && w.core.rollout.primary.slot == 0)
        #expect(w.retagged.count == 1 && w.retagged[0].sequences == [1, 2, 3] && w.retagged[0].model == ModelSlots(primary: 0))
        #expect(w.events.contains { if case .rollout(let s) = $0 { s.step == "rolled_back" && s.line == 3 } else { false } })
        #expect(w.core.exitCode == .ok && !w.core.stopping, "the run goes on; the crashes were the version's, not a stage failure")
        // The stale copies still in flight (version b) are dropped at the sink; the replays count.
        w.send(.batch(.sendable(8)))
        while !w.inFlight.isEmpty { w.deliver(0) }
        #expect(w.writtenLines == [1, 2, 3, 5, 6, 8, 9, 11])
        #expect(w.written.allSatisfy { $0.pieces.allSatisfy { $0.model == ModelSlots(primary: 0) } }, "no batch is written with b's output")
        #expect(w.core.ledger.rejectedCommitted == 0, "no record was blamed")
        // A late crash on a frame that still named b is b's, not its batch's.
        if let pid = w.ready(.infer).first {
            w.cut(1)
            w.die(pid, .signaled(6, selfInflicted: true, name: "Aborted"), work: ReplicaWork(sequence: 4, part: nil, model: ModelSlots(primary: 1)))
            #expect(w.core.ledger.batch(4)?.units[0].crashes == 0)
        }
        #expect(w.violations.isEmpty, "\(w.violations)")
    }

    @Test func aReplicaThatFailsToStartWhileAVersionIsWatchedRollsItBack() {
        var w = running()
        w.send(.rollout(client: 1, .begin(Self.b, .cutover)))
        ackAll(&w)
        #expect(w.core.rollout.primary == Self.b)
        // A featurize replica dies and its replacement fails to start (b is first in its config).
        let pid = w.ready(.featurize)[0]
        w.die(pid, .signaled(9, selfInflicted: false, name: "Killed"))
        w.tick(2_000_000_000)
        let replacement = w.processes.first { $0.value.stage == .featurize }!.key
        w.send(.replica(.connected(pid: replacement, claimed: w.processes[replacement]!)))
        w.send(.replica(.failureReported(pid: replacement, message: "model b: cannot map")))
        w.die(replacement, .exited(3))
        #expect(w.core.rollout.primary.slot == 0 && w.core.rollout.rollbacks == 1)
        #expect(!w.core.stopping, "rolled back instead of failing the run")
        // With b gone, another start failure fails the run as before.
        w.tick(2_000_000_000)
        let again = w.processes.first { $0.value.stage == .featurize }!.key
        w.send(.replica(.connected(pid: again, claimed: w.processes[again]!)))
        w.die(again, .exited(3))
        #expect(w.core.stopping && w.core.exitCode == .stageFailed)
    }

    @Test func aLoadingClientIsAnsweredWhenTheRunStops() {
        var w = running()
        w.send(.rollout(client: 1, .begin(Self.b, .cutover)))
        w.send(.down)
        w.send(.batch(.inputEnded))
        #expect(w.replies.count == 1 && w.replies[0].status == .notRunning, "\(w.replies)")
    }
}
