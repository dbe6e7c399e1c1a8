import Config
import Testing
@testable import ControlCore

/// The supervisor's process decisions, driven through the core alone: the scenarios the
/// end-to-end tests cover with real processes, in microseconds each.
@Suite struct ReplicaScenarioTests {
    /// A world whose stages are started and ready.
    func running(_ stages: [StageKind: StageSpec] = [:], window: Int = 8) -> World {
        var w = World(stages: stages, window: window)
        w.tick()
        w.startAll()
        return w
    }

    @Test func startingMakesOneReplicaPerStageAndTellsEveryoneTheirDownstream() {
        var w = World()
        let spawned = w.send(.tick).compactMap { if case .spawn(let id) = $0 { id } else { nil } }
        #expect(spawned == StageKind.allCases.map { ReplicaID($0, 1) })
        w.startAll()
        #expect(w.memberships[.source]?.replicas == [ReplicaID(.ingest, 1)])
        #expect(w.memberships[.replica(ReplicaID(.ingest, 1))]?.replicas == [ReplicaID(.featurize, 1)])
        #expect(w.memberships[.replica(ReplicaID(.infer, 1))]?.replicas == [ReplicaID(.aggregate, 1)])
        #expect(w.memberships[.replica(ReplicaID(.aggregate, 1))]?.stage == nil, "aggregate sends to the sink")
        #expect(w.violations.isEmpty, "\(w.violations)")
    }

    @Test func aKillDuringDrainResendsWhatItHeldWithoutARestart() {
        var w = running()
        w.send(.scale(client: 1, [.init(.infer, 2)]))
        w.startAll()
        #expect(w.replies.map(\.text) == ["scaled infer: 1 → 2"])
        w.cut(3)
        w.send(.batch(.sendable(4)))
        #expect(w.inFlight.count == 1)
        w.send(.scale(client: 2, [.init(.infer, 1)]))
        let leaving = ReplicaID(.infer, 2)
        #expect(w.core.reconciler.replica(leaving)?.state == .draining, "the newest replica leaves")
        #expect(w.events.contains(.replicaDraining(leaving, pid: w.pid(leaving))), "the event log says which one")
        #expect(w.memberships[.replica(ReplicaID(.featurize, 1))]?.replicas == [ReplicaID(.infer, 1)], "upstream stops sending to it")
        // It is killed from outside before it finishes: the piece it may have held is lost.
        w.inFlight.removeAll()
        w.die(w.pid(leaving)!, .signaled(9, selfInflicted: false, name: "Killed"))
        #expect(w.log.last?.contains("while draining; re-sending the batches in flight") == true)
        w.tick()
        #expect(!w.core.reconciler.replicas.contains { $0.id.index == 3 }, "nothing to restart: it was leaving")
        w.send(.batch(.sendable(4)))
        #expect(w.inFlight.count == 1, "the batch is sent again")
        w.deliver(0)
        #expect(w.writtenLines == w.batchLines[0])
        #expect(w.replies.last?.text == "scaled infer: 2 → 1")
        #expect(w.violations.isEmpty, "\(w.violations)")
    }

    @Test func scalingUpAndDownWhileReplicasStart() {
        var w = running()
        w.send(.scale(client: 1, [.init(.infer, 3)]))
        let two = ReplicaID(.infer, 2), three = ReplicaID(.infer, 3)
        #expect(w.core.reconciler.replica(two)?.state == .starting && w.core.reconciler.replica(three)?.state == .starting)
        // infer.2 has connected (it can be told to exit); infer.3 has not (it gets SIGTERM).
        w.send(.replica(.connected(pid: w.pid(two)!, claimed: two)))
        let actions = w.send(.scale(client: 2, [.init(.infer, 1)]))
        #expect(actions.contains { if case .shutdown(two) = $0 { true } else { false } })
        #expect(actions.contains { if case .signal(w.pid(three)!, .terminate) = $0 { true } else { false } })
        w.reap()
        w.tick()
        #expect(w.core.reconciler.replicas(of: .infer).filter(\.isAlive).map(\.id) == [ReplicaID(.infer, 1)])
        #expect(!w.log.contains { $0.contains("restarting") || $0.contains("failed") }, "\(w.log)")
        #expect(w.core.exitCode == .ok && !w.core.stopping)
        #expect(w.replies.map(\.text) == ["scaled infer: 1 → 3; then a later request changed it: infer is at 1", "scaled infer: 3 → 1"])
        // Up again while one of the new replicas is still starting: counts only what is active.
        w.send(.scale(client: 3, [.init(.infer, 2)]))
        w.send(.scale(client: 4, [.init(.infer, 3)]))
        #expect(w.core.reconciler.replicas(of: .infer).filter(\.isActive).count == 3)
        w.startAll()
        #expect(w.memberships[.replica(ReplicaID(.featurize, 1))]?.replicas.count == 3)
        #expect(w.violations.isEmpty, "\(w.violations)")
    }

    @Test func tooManyCrashesFailTheRunNamingTheStageAndTheLastCommittedLine() {
        var w = running([.infer: StageSpec(replicas: 1, maxRestarts: 2, restartWindowSeconds: 30)])
        w.cut(2)
        w.send(.batch(.sendable(1)))
        w.deliver(0)
        w.flushWriter()
        for crash in 1...3 {
            let pid = w.ready(.infer)[0]
            w.die(pid, .signaled(11, selfInflicted: true, name: "Segmentation fault"))
            if crash < 3 {
                #expect(!w.core.stopping)
                w.tick(6_000_000_000)
                w.startAll()
            }
        }
        #expect(w.core.stopping && w.core.exitCode == .stageFailed)
        // The event log tells the story: three crashes, two restarts, the end.
        let exits = w.events.compactMap { if case .replicaExited(let id, _, let t, let expected) = $0, id.stage == .infer { (t, expected) } else { nil } }
        #expect(exits.count == 3 && exits.allSatisfy { !$0.1 && $0.0 == .signaled(11, selfInflicted: true, name: "Segmentation fault") })
        #expect(w.events.filter { if case .restartScheduled(let id, _) = $0 { id.stage == .infer } else { false } }.count == 2)
        #expect(w.events.contains { if case .runStopping(.stageFailed, let reason) = $0 { reason.hasPrefix("stage infer failed") } else { false } })
        let failure = w.log.first { $0.hasPrefix("stage infer failed") }
        #expect(failure?.contains("infer.3 (pid ") == true)
        #expect(failure?.hasSuffix("was killed by signal 11 (Segmentation fault), more than 2 restarts within 30.0 s (restart.max); last committed input line 2") == true, "\(failure ?? "")")
        w.reap()
        #expect(w.core.isDone, "every other replica was told to exit")
    }

    @Test func crashLoopsBackOffExponentiallyAndALongLifeResetsTheBackoff() {
        var w = running()
        var delays: [UInt64] = []
        for _ in 0..<4 {
            let pid = w.ready(.infer)[0]
            let at = w.now
            let actions = w.send(.replica(.exited(pid: pid, .exited(1), work: nil, jitter: 0.5)))
            w.processes[pid] = nil
            for case .log(_, let message, _) in actions { #expect(message.contains("restarting it")) }
            delays.append(w.core.reconciler.restarts[.infer]!.notBefore - at)
            w.tick(delays.last!)
            w.startAll()
        }
        #expect(delays == [50_000_000, 100_000_000, 200_000_000, 400_000_000], "doubles with each quick death in a row")
        w.tick(2_000_000_000)
        let pid = w.ready(.infer)[0]
        let at = w.now
        w.die(pid, .exited(1))
        #expect(w.core.reconciler.restarts[.infer]!.notBefore - at == 25_000_000, "a crash after a long life starts over")
    }

    @Test func aHungReplicaIsKilledAndItsBatchBlamed() {
        var w = running()
        w.cut(4)
        w.send(.batch(.sendable(1)))
        let hung = w.ready(.infer)[0]
        w.silent.insert(hung)
        w.tick(3_000_000_000)
        #expect(w.signals.isEmpty)
        #expect(!w.send(.tick).contains { if case .signal = $0 { true } else { false } })
        w.tick(2_100_000_000)
        #expect(w.signals.map(\.signal) == [.kill] && w.signals[0].pid == hung)
        #expect(w.events.contains(.replicaKilled(ReplicaID(.infer, 1), pid: hung, reason: .hung)))
        #expect(w.log.contains { $0.hasSuffix("sent no heartbeat for 5.1 s: killing it") }, "one decimal: \(w.log)")
        // A hang the supervisor ended may be the batch's fault: it counts toward isolation.
        w.reap { _ in ReplicaWork(sequence: 0, part: nil) }
        #expect(w.core.ledger.batch(0)?.units[0].crashes == 1)
        w.tick(100_000_000)
        #expect(w.core.reconciler.replicas(of: .infer).last?.state == .starting, "replaced")
    }

    @Test func aReplicaThatFailsToStartFailsTheRunWithItsMessage() {
        var w = World()
        w.tick()
        let pid = w.pid(ReplicaID(.infer, 1))!
        w.send(.replica(.connected(pid: pid, claimed: ReplicaID(.infer, 1))))
        w.send(.replica(.failureReported(pid: pid, message: "model demo.onnx: no such file")))
        let actions = w.send(.replica(.exited(pid: pid, .exited(4), work: nil, jitter: 0.5)))
        w.processes[pid] = nil
        #expect(w.core.exitCode == .stageFailed && w.core.stopping)
        let logged = actions.compactMap { if case .log(.error, let m, let of) = $0 { (m, of) } else { nil } }
        #expect(logged.contains { $0.0 == "infer.1 failed to start (exited with status 4): model demo.onnx: no such file" && $0.1 == ReplicaID(.infer, 1) })
    }

    @Test func aReplicaTooSlowToStartIsKilledAndReplaced() {
        var w = World()
        w.tick()
        for stage in [StageKind.ingest, .featurize, .aggregate] {
            let pid = w.pid(ReplicaID(stage, 1))!
            w.send(.replica(.connected(pid: pid, claimed: ReplicaID(stage, 1))))
            w.send(.replica(.ready(pid: pid)))
        }
        w.tick(31_000_000_000)
        #expect(w.log.contains { $0.hasSuffix("did not become ready within 30.0 s: killing it") })
        w.reap()
        w.tick(100_000_000)
        #expect(w.core.reconciler.replica(ReplicaID(.infer, 2))?.state == .starting)
        #expect(!w.core.stopping)
    }

    @Test func transientSpawnFailuresAreRetriedOthersFailTheRun() {
        var w = World()
        w.failingSpawns = 1
        w.tick()
        #expect(w.log.contains { $0.hasPrefix("cannot start ingest.1 now: Resource temporarily unavailable; retrying") })
        w.tick(100_000_000)
        #expect(w.core.reconciler.replicas(of: .ingest).count == 1)
        var core = Core(settings: w.core.settings)
        let actions = core.handle(.replica(.spawnFailed(ReplicaID(.infer, 1), message: "No such file or directory", transient: false, jitter: 0)), now: 0)
        #expect(core.exitCode == .environment)
        #expect(actions.contains { if case .log(.error, "cannot start infer.1: No such file or directory", _) = $0 { true } else { false } })
    }

    @Test func aHelloIsMatchedByTheKernelsPidNotByWhatItClaims() {
        var w = World()
        w.tick()
        let infer = ReplicaID(.infer, 1), featurize = ReplicaID(.featurize, 1)
        let impostor = w.send(.replica(.connected(pid: 4242, claimed: infer)))
        #expect(impostor.contains { if case .refuse(4242, _) = $0 { true } else { false } })
        let wrongName = w.send(.replica(.connected(pid: w.pid(featurize)!, claimed: infer)))
        #expect(wrongName.contains { if case .refuse(_, let reason) = $0 { reason.contains("is featurize.1, not infer.1") } else { false } })
        let real = w.send(.replica(.connected(pid: w.pid(infer)!, claimed: infer)))
        #expect(real.contains { if case .configure(infer) = $0 { true } else { false } })
        let twice = w.send(.replica(.connected(pid: w.pid(infer)!, claimed: infer)))
        #expect(twice.contains { if case .refuse = $0 { true } else { false } }, "one control connection per replica")
    }

    @Test func aReplicaSendingAnInvalidFrameIsKilledOnceAndStrangersAreLeftAlone() {
        var w = running()
        let pid = w.ready(.featurize)[0]
        #expect(w.send(.replica(.invalidFrame(fromPid: 4242, receiver: "infer.1"))).isEmpty)
        let first = w.send(.replica(.invalidFrame(fromPid: pid, receiver: "infer.1")))
        #expect(first.contains { if case .signal(pid, .kill) = $0 { true } else { false } })
        #expect(w.log.last == "featurize.1 (pid \(pid)) sent infer.1 a frame that failed validation: killing it")
        #expect(w.send(.replica(.invalidFrame(fromPid: pid, receiver: "infer.2"))).isEmpty, "reported by a second receiver")
    }

    @Test func replicasThatOutstayTheStopAreKilled() {
        var w = running()
        let stuck = w.ready(.infer)[0]
        w.send(.batch(.inputEnded))
        #expect(w.core.stopping && w.dataPathEnded)
        // The infer replica ignores its shutdown.
        w.exiting[stuck] = nil
        w.reap()
        #expect(!w.core.isDone)
        w.tick(9_000_000_000)
        #expect(w.signals.isEmpty)
        w.tick(1_100_000_000)
        #expect(w.signals.map(\.pid) == [stuck])
        #expect(w.log.contains { $0.hasSuffix("did not stop within 10.0 s: killed") })
        w.reap()
        #expect(w.core.isDone && w.core.exitCode == .ok)
    }
    /// Zero replicas is a pause: announced, batches wait before the stage, and resuming writes
    /// them all, with the scale requests answered ok.
    @Test func scalingAStageToZeroPausesItAndScalingUpResumes() {
        var w = running()
        w.send(.scale(client: 1, [.init(.infer, 0)]))
        w.tick()
        w.reap()
        w.tick()
        #expect(w.replies.last?.text == "scaled infer: 1 → 0 (paused: batches wait before infer until `pipeline scale infer=N`)")
        #expect(w.replies.last?.status == .ok)
        #expect(w.events.contains(.stagePaused(.infer)))
        #expect(w.log.contains { $0.contains("infer paused by `pipeline scale infer=0`") }, "\(w.log)")
        w.cut(3)
        w.cut(2)
        w.send(.batch(.sendable(4)))
        #expect(w.inFlight.count == 2)
        // Held before infer (this world does not deliver them) for a while: nobody is blamed.
        for _ in 0..<100 { w.tick() }
        #expect(w.core.reconciler.replicas.filter(\.isAlive).count == 3 && !w.core.stopping, "\(w.core.reconciler.replicas)")
        w.send(.scale(client: 2, [.init(.infer, 1)]))
        w.startAll()
        #expect(w.events.contains(.stageResumed(.infer, replicas: 1)))
        while !w.inFlight.isEmpty { w.deliver(0) }
        w.tick()
        w.flushWriter()
        #expect(w.writtenLines == (w.batchLines[0]! + w.batchLines[1]!))
        #expect(w.replies.last?.text == "scaled infer: 0 → 1" && w.replies.last?.status == .ok)
        #expect(w.violations.isEmpty, "\(w.violations)")
    }
}

/// Edges of the replica lifecycle the scenarios above do not reach: deadlines that must fall
/// due once and only while they matter, and replicas told to exit at awkward moments.
@Suite struct ReplicaEdgeTests {
    func signals(_ actions: [Core.Action]) -> [(Int32, Reconciler.Signal)] {
        actions.compactMap { if case .signal(let pid, let s) = $0 { (pid, s) } else { nil } }
    }

    @Test func aRestartsBackoffIsNoDeadlineOnceTheReplacementRuns() {
        var w = World()
        w.tick()
        w.startAll()
        #expect(w.core.nextDeadline == nil, "all ready: nothing falls due")
        w.die(w.ready(.infer)[0], .exited(1))
        let due = w.core.nextDeadline
        #expect(due != nil && due! > w.now, "the replacement's backoff")
        w.tick(1_000_000_000)
        w.startAll()
        #expect(w.core.nextDeadline.map { $0 > w.now } ?? true, "a past backoff is no deadline: the shell would tick on every turn")
    }

    @Test func aReplicaScaledAwayBeforeItsPidIsKnownIsStoppedWhenItComes() {
        var core = Core(settings: World().core.settings)
        _ = core.handle(.tick, now: 0)
        for (i, stage) in StageKind.allCases.enumerated() { _ = core.handle(.replica(.spawned(ReplicaID(stage, 1), pid: Int32(100 + i))), now: 0) }
        let up = core.handle(.scale(client: 1, [.init(.infer, 2)]), now: 0)
        #expect(up.contains { if case .spawn(ReplicaID(.infer, 2)) = $0 { true } else { false } })
        // Scaled away again before the shell reported the spawn (a shell that defers it).
        #expect(signals(core.handle(.scale(client: 2, [.init(.infer, 1)]), now: 0)).isEmpty, "no pid to signal yet")
        #expect(signals(core.handle(.replica(.spawned(ReplicaID(.infer, 2), pid: 200)), now: 0)).map(\.1) == [.terminate])
        // It ignores SIGTERM: killed once the stop deadline passes, once.
        #expect(signals(core.handle(.tick, now: 9_000_000_000)).isEmpty)
        #expect(signals(core.handle(.tick, now: 10_000_000_000)).map(\.1) == [.kill])
        #expect(signals(core.handle(.tick, now: 11_000_000_000)).isEmpty)
        // And if it connects after all, it is told to exit, not configured.
        let late = core.handle(.replica(.connected(pid: 200, claimed: ReplicaID(.infer, 2))), now: 11_000_000_000)
        #expect(late.contains { if case .shutdown(ReplicaID(.infer, 2)) = $0 { true } else { false } })
        #expect(!late.contains { if case .configure = $0 { true } else { false } })
    }

    @Test func theEndOfTheRunStopsEveryReplicaWhateverItsState() {
        var w = World()
        w.tick()
        // featurize.1 has connected but is not ready; infer.1 has not connected at all.
        for stage in [StageKind.ingest, .aggregate] {
            let pid = w.pid(ReplicaID(stage, 1))!
            w.send(.replica(.connected(pid: pid, claimed: ReplicaID(stage, 1))))
            w.send(.replica(.ready(pid: pid)))
        }
        w.send(.replica(.connected(pid: w.pid(ReplicaID(.featurize, 1))!, claimed: ReplicaID(.featurize, 1))))
        let actions = w.send(.batch(.inputEnded))
        let shutdowns = actions.compactMap { if case .shutdown(let id) = $0 { id } else { nil } }
        #expect(Set(shutdowns) == [ReplicaID(.ingest, 1), ReplicaID(.featurize, 1), ReplicaID(.aggregate, 1)])
        #expect(signals(actions).map(\.0) == [w.pid(ReplicaID(.infer, 1))!] && signals(actions).map(\.1) == [.terminate])
        w.reap()
        #expect(w.core.isDone)
    }

    @Test func aDrainingReplicaThatHangsIsKilled() {
        var w = World()
        w.tick()
        w.startAll()
        w.send(.scale(client: 1, [.init(.infer, 2)]))
        w.startAll()
        w.exiting.removeAll()
        w.send(.scale(client: 2, [.init(.infer, 1)]))
        let leaving = w.pid(ReplicaID(.infer, 2))!
        w.exiting[leaving] = nil  // it does not finish
        w.silent.insert(leaving)
        #expect(w.core.reconciler.replica(pid: leaving)?.state == .draining)
        w.tick(5_100_000_000)
        #expect(w.signals.contains { $0.pid == leaving && $0.signal == .kill })
    }

    @Test func anInterruptDoesNotHideAFailure() {
        var w = World(stages: [.infer: StageSpec(replicas: 1, maxRestarts: 0, restartWindowSeconds: 30)])
        w.tick()
        w.startAll()
        w.die(w.ready(.infer)[0], .exited(1))
        #expect(w.core.exitCode == .stageFailed && w.core.stopping)
        w.send(.interrupt)
        #expect(w.core.exitCode == .stageFailed, "SIGTERM during a failing stop keeps exit 6")
        #expect(w.log.last == "interrupted while stopping: finishing the replicas' exit and the output (again to force)")
        w.send(.interrupt)
        #expect(w.core.forced && w.core.exitCode == .stageFailed)
    }

    @Test func aScaleThatCannotCompleteIsAnsweredAfterAMinute() {
        var w = World()
        w.tick()
        w.startAll()
        w.send(.scale(client: 4, [.init(.infer, 2)]))
        // infer.2 never becomes ready (killed at its start deadline and replaced, to no avail).
        w.tick(59_000_000_000)
        #expect(w.replies.isEmpty)
        w.tick(2_000_000_000)
        #expect(w.replies.count == 1 && w.replies[0].status == .stageFailed)
        #expect(w.replies[0].text == "scaling infer: 1 → 2 did not complete:")
    }

}
