import Config
import Messages
import Testing
@testable import ControlCore

/// The data path's decisions, through the core alone: the window, replays and deadlines,
/// blame and poison isolation, commit order, and how a run ends.
@Suite struct BatchScenarioTests {
    func running(_ stages: [StageKind: StageSpec] = [:], window: Int = 8, maxErrors: Int = -1) -> World {
        var w = World(stages: stages, window: window, maxErrors: maxErrors)
        w.tick()
        w.startAll()
        return w
    }

    @Test func theWindowBoundsWhatIsReadUntilItIsWritten() {
        var w = running(window: 2)
        w.cut(1)
        w.cut(1)
        #expect(!w.core.ledger.hasRoom)
        w.send(.batch(.sendable(8)))
        w.deliver(1)
        w.deliver(0)
        #expect(w.written.map(\.sequence) == [0, 1], "committed in order whatever the arrival order")
        #expect(!w.core.ledger.hasRoom, "committed is not written: a slow stdout holds the window")
        w.flushWriter()
        #expect(w.core.ledger.hasRoom && w.core.ledger.batches.isEmpty)
    }

    @Test func repliesAndDeadlinesSendAgainOnlyWhatTheSinkLacks() {
        var w = running()
        for _ in 0..<3 { w.cut(2) }
        w.send(.batch(.sendable(8)))
        #expect(w.inFlight.count == 3)
        w.deliver(0)
        // A link to ingest closes: the two pieces the sink lacks are queued again.
        w.send(.linkLost)
        let again = w.send(.batch(.sendable(8))).compactMap { if case .send(let s, _, let replay) = $0 { (s, replay) } else { nil } }
        #expect(again.map(\.0) == [1, 2] && again.allSatisfy(\.1), "marked as replays")
        // The originals arrive after all: duplicates are dropped.
        w.deliver(0)
        w.deliver(0)
        w.deliver(0)
        w.deliver(0)
        #expect(w.core.ledger.duplicates == 2)
        #expect(w.writtenLines == [1, 2, 3, 5, 6, 8])
        // A piece that never arrives is sent again once the deadline passes.
        w.cut(1)
        w.send(.batch(.sendable(8)))
        w.inFlight.removeAll()
        w.tick(9_000_000_000)
        #expect(w.send(.batch(.sendable(8))).isEmpty)
        w.tick(1_100_000_000)
        #expect(w.send(.batch(.sendable(8))).count == 1 && w.core.ledger.resent == 3)
        #expect(w.violations.isEmpty, "\(w.violations)")
    }

    /// A batch that keeps crashing featurize is split; one of its records is the cause. Outside
    /// kills meanwhile are not blamed on it, and the isolation's crashes do not use up the
    /// stage's restarts.
    @Test func aKillWithASplitBatchInFlightThenThePoisonRecordIsRejected() {
        var w = running([.featurize: StageSpec(replicas: 1, maxRestarts: 3, restartWindowSeconds: 30)])
        let sequence = w.cut(4)
        w.poison[w.batchLines[sequence]![1]] = .featurize
        w.send(.batch(.sendable(8)))
        func crash(_ work: ReplicaWork) {
            w.inFlight.removeAll()
            w.die(w.ready(.featurize)[0], .signaled(11, selfInflicted: true, name: "Segmentation fault"), work: work)
            w.tick(1_000_000_000)
            w.startAll()
            w.send(.batch(.sendable(8)))
        }
        crash(ReplicaWork(sequence: sequence, part: nil))
        #expect(w.core.ledger.batch(sequence)?.units.count == 1, "a first crash is retried")
        crash(ReplicaWork(sequence: sequence, part: nil))
        #expect(w.core.ledger.batch(sequence)?.units.map(\.offset) == [0, 1, 2, 3], "split into its records")
        #expect(w.log.contains("lines 1–5 crashed featurize replicas again: re-sending its 4 records one by one to find the one at fault"))
        #expect(w.inFlight.count == 4)
        // kill -9 from outside, while parts are in flight: not the record's fault.
        w.inFlight.removeAll { $0.unit == 0 }
        w.die(w.ready(.featurize)[0], .signaled(9, selfInflicted: false, name: "Killed"), work: ReplicaWork(sequence: sequence, part: 1))
        #expect(w.core.ledger.batch(sequence)?.units[1].crashes == 0)
        w.tick(1_000_000_000)
        w.startAll()
        w.send(.batch(.sendable(8)))
        // Every part but the poison one goes through; the poison one crashes twice.
        while let i = w.inFlight.firstIndex(where: { w.poisonStage($0.sequence, unit: $0.unit) == nil }) { w.deliver(i) }
        crash(ReplicaWork(sequence: sequence, part: 1))
        crash(ReplicaWork(sequence: sequence, part: 1))
        #expect(w.log.contains("line 2 crashed featurize replicas 2 times: reported as REPLICA_CRASH and skipped"))
        #expect(w.events.contains(.batchIsolated(firstLine: 1, lastLine: 5, records: 4, stage: .featurize)))
        #expect(w.events.contains(.recordRejected(line: 2, stage: .featurize, crashes: 2)))
        #expect(w.writtenLines == [1, 2, 3, 5] && w.rejectedLines == [2])
        #expect(!w.core.stopping, "crashes blamed on a record being isolated do not count toward restart.max")
        #expect(w.violations.isEmpty, "\(w.violations)")
    }

    @Test func recordsTheSourceRefusedAreDeliveredWhenTheBatchIsSplit() {
        var w = running()
        w.cut(3)
        let refused = Out(lines: [9], rejectedLines: [9])
        var ledger = w.core.ledger
        _ = ledger.handle(.crashed(.init(sequence: 0, part: nil), stage: .ingest, termination: .exited(1)), now: 0)
        let actions = ledger.handle(.crashed(.init(sequence: 0, part: nil), stage: .ingest, termination: .exited(1)), now: 0)
        #expect(actions.contains { if case .split(0) = $0 { true } else { false } })
        // Two records reached ingest; the third was refused by the source (too long).
        let after = ledger.handle(.split(0, records: [.init(firstLine: 1, byteOffset: 0), .init(firstLine: 2, byteOffset: 9)], refused: refused), now: 0)
        #expect(after.isEmpty && ledger.batch(0)?.units.map(\.settled) == [false, false, true])
        #expect(ledger.covers(0, offset: 2, count: 1))
        _ = ledger.handle(.received(0, part: 0, Out(lines: [1])), now: 0)
        let written = ledger.handle(.received(0, part: 1, Out(lines: [2])), now: 0)
        guard case .write(0, let pieces, _)? = written.first else {
            Issue.record("the batch is complete: \(written)")
            return
        }
        #expect(pieces.flatMap(\.lines) == [1, 2, 9])
        // A batch whose records cannot be re-read is sent again whole.
        var other = w.core.ledger
        _ = other.handle(.split(0, records: nil, refused: nil), now: 0)
        #expect(other.batch(0)?.units.count == 1)
    }

    @Test func outputForNoBatchInFlightIsDropped() {
        var w = running()
        w.cut(2)
        w.send(.batch(.received(5, part: nil, Out(lines: [1, 2]))))
        w.send(.batch(.received(0, part: nil, Out(lines: [1]))))
        w.send(.batch(.received(0, part: 1, Out(lines: [2]))))
        #expect(w.written.isEmpty)
        #expect(w.log.filter { $0.hasPrefix("dropped an output") }.count == 3)
    }

    @Test func moreRejectsThanMaxErrorsStopTheRun() {
        var w = running(maxErrors: 1)
        w.cut(2)
        w.cut(2)
        w.send(.batch(.received(0, part: nil, Out(lines: [1, 2], rejectedLines: [1]))))
        #expect(!w.core.stopping)
        w.send(.batch(.received(1, part: nil, Out(lines: [3, 5], rejectedLines: [3]))))
        #expect(w.core.stopping && w.core.exitCode == .inputErrors)
        #expect(w.log.last == "stopped: 2 records rejected, more than input.max_errors = 1; last committed input line 5")
    }

    /// One record over a limit of none: the message counts it in the singular.
    @Test func oneRejectOverMaxErrorsZeroIsOneRecord() {
        var w = running(maxErrors: 0)
        w.cut(2)
        w.send(.batch(.received(0, part: nil, Out(lines: [1, 2], rejectedLines: [1]))))
        #expect(w.core.stopping && w.core.exitCode == .inputErrors)
        #expect(w.log.last == "stopped: 1 record rejected, more than input.max_errors = 0; last committed input line 2")
    }

    @Test func aClosedStdoutEndsTheRunQuietlyAFullOneWithExitTen() {
        var closed = running()
        closed.send(.outputFailed(.stdout, closed: true, message: "Broken pipe"))
        #expect(closed.core.stopping && closed.core.exitCode == .ok && closed.readingStopped)
        #expect(!closed.log.contains { $0.contains("Broken pipe") })

        var full = running()
        full.send(.outputFailed(.stdout, closed: false, message: "No space left on device after 3 records (input lines 1–3)"))
        #expect(full.core.stopping && full.core.exitCode == .io)
        #expect(full.log.last == "writing stdout: No space left on device after 3 records (input lines 1–3)")

        // The end was decided (empty input), then the last bytes fail: still not a success.
        var late = running()
        late.send(.batch(.inputEnded))
        #expect(late.core.stopping && late.core.exitCode == .ok)
        late.send(.outputFailed(.stdout, closed: false, message: "No space left on device; nothing was written"))
        #expect(late.core.exitCode == .io && late.log.last == "writing stdout: No space left on device; nothing was written")
    }

    @Test func aFailedErrorsStreamLetsTheOutputFinishThenExitsTen() {
        var w = running()
        w.cut(2)
        w.send(.outputFailed(.errors("stderr"), closed: true, message: "Broken pipe"))
        #expect(!w.core.stopping, "stdout is still written")
        #expect(w.log.last == "writing rejected records to stderr failed (Broken pipe): the output goes on, but the run will exit 10")
        w.send(.outputFailed(.errors("stderr"), closed: true, message: "Broken pipe"))
        #expect(w.log.filter { $0.hasPrefix("writing rejected") }.count == 1, "said once")
        w.send(.batch(.sendable(1)))
        w.deliver(0)
        w.flushWriter()
        w.send(.batch(.inputEnded))
        #expect(w.core.stopping && w.core.exitCode == .io && w.writtenLines == [1, 2])
    }

    @Test func aFirstInterruptFinishesWhatWasReadASecondKills() {
        var w = running()
        w.cut(2)
        w.send(.interrupt)
        #expect(w.readingStopped && !w.core.stopping)
        w.send(.batch(.inputEnded))
        #expect(!w.core.stopping, "the batch already read is finished first")
        w.send(.batch(.sendable(1)))
        w.deliver(0)
        w.flushWriter()
        #expect(w.core.stopping && w.core.exitCode == .interrupted)

        var forced = running()
        forced.cut(2)
        forced.send(.interrupt)
        forced.send(.interrupt)
        #expect(forced.core.forced && forced.core.stopping && forced.signals.count == 4 && forced.signals.allSatisfy { $0.signal == .kill })
        forced.reap()
        #expect(forced.core.isDone && forced.core.exitCode == .interrupted)
    }

    @Test func downFinishesWhatWasReadAndAScaleDuringTheStopIsRefused() {
        var w = running()
        w.cut(1)
        w.send(.down)
        #expect(w.readingStopped && w.log.last == "`pipeline down`: finishing the batches already read, then stopping")
        w.send(.scale(client: 3, [.init(.infer, 2)]))
        w.send(.batch(.inputEnded))
        w.send(.batch(.sendable(1)))
        w.deliver(0)
        w.flushWriter()
        #expect(w.core.stopping && w.core.exitCode == .ok)
        #expect(w.replies.map(\.text) == ["the pipeline stopped before scaling infer: 1 → 2 completed"])
        #expect(w.events.contains(.downRequested))
        #expect(w.events.contains(.scaleRequested(client: 3, [.init(.infer, 2)])))
        #expect(w.events.contains(.scaleAnswered(client: 3, status: .notRunning, text: "the pipeline stopped before scaling infer: 1 → 2 completed")))
        #expect(w.events.contains(.runStopping(code: .ok, reason: "every batch read is written")))
        w.send(.scale(client: 4, [.init(.infer, 3)]))
        #expect(w.replies.last?.text == "the pipeline is stopping" && w.replies.last?.status == .notRunning)
    }

    /// A rollback gives a batch other versions: the stages' outputs of it are forgotten, but the
    /// records the supervisor settled itself (a poison record) stay, or the batch could never be
    /// complete again — here a split batch complete at the sink, held behind an earlier one.
    @Test func aRetagKeepsWhatTheSupervisorSettled() {
        var w = running()
        w.cut(1)                 // batch 0: line 1, held back below
        w.poison[3] = .ingest
        w.cut(3)                 // batch 1: lines 2, 3 (poison), 5
        w.send(.batch(.sendable(8)))
        w.inFlight.removeAll { $0.sequence == 0 }
        func crashOn(_ sequence: UInt64, part: Int?) {
            guard let pid = w.ready(.ingest).first else { Issue.record("no ingest replica"); return }
            w.die(pid, .signaled(11, selfInflicted: true, name: "Segmentation fault"), work: ReplicaWork(sequence: sequence, part: part))
            w.tick(2_000_000_000)
            w.startAll()
            w.send(.batch(.sendable(8)))
        }
        // Batch 1 crashes ingest twice (split), then its poison record twice (settled).
        for _ in 0..<2 {
            w.inFlight.removeAll { $0.sequence == 1 }
            crashOn(1, part: nil)
        }
        for _ in 0..<2 {
            let world = w
            w.inFlight.removeAll { $0.sequence == 1 && world.poisonStage(1, unit: $0.unit) != nil }
            crashOn(1, part: 1)
        }
        while let i = w.inFlight.firstIndex(where: { $0.sequence == 1 }) { w.deliver(i) }
        w.inFlight.removeAll { $0.sequence == 0 }
        #expect(w.core.ledger.batch(1)?.units.count == 3 && w.core.ledger.batch(1)?.units[1].settled == true)
        #expect(w.written.isEmpty, "batch 1 is complete but waits for batch 0")
        // A rollback retags both.
        var core = w.core
        #expect(core.ledger.retag(where: { _ in true }, to: ModelSlots(primary: 7)) == [0, 1])
        w.core = core
        w.tick(11_000_000_000)   // past the re-send deadline: the units sent are queued again
        w.send(.batch(.sendable(8)))
        while !w.inFlight.isEmpty {
            let (sequence, unit, _) = w.inFlight.removeFirst()
            guard let b = w.core.ledger.batch(sequence), let lines = w.lines(sequence, unit: unit) else { continue }
            let u = b.units[unit]
            w.send(.batch(.received(sequence, part: u.isPart ? u.offset : nil, Out(lines: lines, model: ModelSlots(primary: 7)))))
        }
        #expect(w.writtenLines == [1, 2, 3, 5], "\(w.writtenLines)")
        #expect(w.rejectedLines == [3])
        #expect(w.violations.isEmpty, "\(w.violations)")
    }
}
