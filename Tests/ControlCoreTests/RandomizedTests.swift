import Config
import Messages
import Testing
@testable import ControlCore

/// Thousands of random event sequences, each seeded and reproducible: batches cut, sent, lost,
/// duplicated and delivered out of order; replicas killed from outside, crashing on their own,
/// hanging, failing to spawn; scale requests at any moment; records that crash every replica of
/// a stage. After every event the world checks the invariants (window, commit order, batch
/// contents, memberships, counts); at the end of each sequence a calm phase must bring the run to
/// its end with every record read written exactly once, in order, and only poison records rejected
/// — or, for the sequences given tight restart or rejected-record limits (about one in eight
/// fails), to a failure those limits explain, having written a prefix of the input in order.
/// Every scale request is answered exactly once.
@Suite struct RandomizedTests {
    static let seedsPerCase = 250
    static let cases = 8

    @Test(arguments: 0..<cases)
    func randomEventSequencesKeepTheInvariants(chunk: Int) {
        for n in 0..<Self.seedsPerCase {
            let seed = UInt64(chunk * Self.seedsPerCase + n)
            if let failure = Self.run(seed: seed) {
                Issue.record("seed \(seed): \(failure)")
                return
            }
        }
    }

    /// One sequence; returns what went wrong, or nil.
    static func run(seed: UInt64) -> String? {
        var rng = SeededRandom(seed: seed)
        let window = Int.random(in: 1...6, using: &rng)
        // One sequence in four may fail: few restarts allowed, or few rejected records.
        let mayFail = Int.random(in: 0..<4, using: &rng) == 0
        var stages: [StageKind: StageSpec] = [:]
        if mayFail && Bool.random(using: &rng) {
            for stage in StageKind.allCases { stages[stage] = StageSpec(replicas: 1, maxRestarts: Int.random(in: 1...4, using: &rng), restartWindowSeconds: 30) }
        }
        let maxErrors = mayFail && Bool.random(using: &rng) ? Int.random(in: 0...2, using: &rng) : -1
        let driftWindow = Int.random(in: 1...12, using: &rng)
        var world = World(stages: stages, window: window, maxErrors: maxErrors, drift: Out.driftWatch(window: driftWindow))
        let totalRecords = Int.random(in: 0...60, using: &rng)
        // About one record in twelve crashes the replicas of some stage.
        var cutRecords = 0
        var inputEnded = false
        var client = 0
        var stoppedEarly = false
        func pick<T>(_ xs: [T]) -> T? { xs.isEmpty ? nil : xs[Int.random(in: 0..<xs.count, using: &rng)] }
        func livePids() -> [Int32] { world.processes.keys.filter { world.exiting[$0] == nil }.sorted() }

        func cutSome() {
            guard world.core.ledger.hasRoom, !world.readingStopped, cutRecords < totalRecords else { return }
            let n = min(Int.random(in: 1...5, using: &rng), totalRecords - cutRecords)
            let sequence = world.cut(n)
            for line in world.batchLines[sequence]! where Int.random(in: 0..<12, using: &rng) == 0 {
                world.poison[line] = StageKind.allCases.randomElement(using: &rng)!
            }
            cutRecords += n
        }
        func endInputIfDone() {
            guard !inputEnded, cutRecords == totalRecords || world.readingStopped else { return }
            inputEnded = true
            world.send(.batch(.inputEnded))
        }
        /// Delivers in-flight piece `i`, or, when it holds a poison record, crashes a ready
        /// replica of that stage on it (the piece is lost with it).
        func deliverOrCrash(_ i: Int) {
            let (sequence, unit, _) = world.inFlight[i]
            guard let stage = world.poisonStage(sequence, unit: unit) else {
                world.deliver(i)
                return
            }
            guard let pid = pick(world.ready(stage)), let b = world.core.ledger.batch(sequence) else { return }
            world.inFlight.remove(at: i)
            let u = b.units[unit]
            world.die(pid, .signaled(11, selfInflicted: true, name: "Segmentation fault"),
                      work: ReplicaWork(sequence: sequence, part: u.isPart ? u.offset : nil), jitter: Double.random(in: 0...1, using: &rng))
        }
        func loseSome() {
            world.inFlight.removeAll { _ in Bool.random(using: &rng) }
        }
        // Model rollouts at any moment: begun, confirmed (or refused) by replicas, promoted,
        // aborted, and crashes on the new version's batches that roll it back.
        var rolloutClients = 0
        func ack(_ pid: Int32, fail: Bool) {
            let r = world.core.rollout
            let failures = fail ? [r.candidate ?? r.watched].compactMap { $0 }.map { VersionsAck.Failure(slot: $0.slot, message: "cannot load") } : []
            world.send(.versionsAck(pid: pid, generation: r.generation, failures: failures))
        }
        func rolloutStep() {
            switch Int.random(in: 0..<7, using: &rng) {
            case 0:
                rolloutClients += 1
                let slot = world.core.rollout.nextSlot
                let mode: Rollout.Mode = [.cutover, .canary(basisPoints: Int.random(in: 1...9999, using: &rng)), .shadow].randomElement(using: &rng)!
                world.send(.rollout(client: 10_000 + rolloutClients, .begin(Rollout.Version(slot: slot, id: "v\(slot)"), mode)))
            case 1:
                rolloutClients += 1
                world.send(.rollout(client: 10_000 + rolloutClients, Bool.random(using: &rng) ? .promote : .abort))
            case 2, 3, 4:
                if let pid = pick(livePids()) { ack(pid, fail: Int.random(in: 0..<10, using: &rng) == 0) }
            default:
                // A crash of the new version's own, on one of its batches.
                guard let w = world.core.rollout.watched,
                      let piece = pick(world.inFlight.filter { $0.model.includes(w.slot) }),
                      let stage = [StageKind.featurize, .infer, .aggregate].randomElement(using: &rng),
                      let pid = pick(world.ready(stage)), let b = world.core.ledger.batch(piece.sequence) else { return }
                let u = b.units[piece.unit]
                world.inFlight.removeAll { $0.sequence == piece.sequence && $0.unit == piece.unit }
                world.die(pid, .signaled(6, selfInflicted: true, name: "Aborted"),
                          work: ReplicaWork(sequence: piece.sequence, part: u.isPart ? u.offset : nil, model: piece.model),
                          jitter: Double.random(in: 0...1, using: &rng))
            }
        }

        // The chaotic phase.
        let steps = Int.random(in: 50...300, using: &rng)
        for _ in 0..<steps {
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<14:
                let big = Int.random(in: 0..<30, using: &rng) == 0
                world.tick(big ? UInt64.random(in: 1_000_000_000...6_000_000_000, using: &rng) : UInt64.random(in: 1_000_000...300_000_000, using: &rng))
            case 14..<26:
                cutSome()
                endInputIfDone()
            case 26..<38:
                world.send(.batch(.sendable(Int.random(in: 0...4, using: &rng))))
            case 38..<56:
                if !world.inFlight.isEmpty { deliverOrCrash(Int.random(in: 0..<world.inFlight.count, using: &rng)) }
            case 56..<59:
                if !world.inFlight.isEmpty { world.inFlight.remove(at: Int.random(in: 0..<world.inFlight.count, using: &rng)) }
            case 59..<62:
                // A copy arrives (the original stays in flight): a replay's duplicate.
                if let (sequence, unit, model) = pick(world.inFlight), world.poisonStage(sequence, unit: unit) == nil {
                    world.inFlight.append((sequence, unit, model))
                    world.deliver(world.inFlight.count - 1)
                }
            case 62..<66:
                // kill -9 from outside, whatever it was doing: never the batch's fault.
                if let pid = pick(livePids()) {
                    let work = pick(world.inFlight).map { ReplicaWork(sequence: $0.sequence, part: nil) }
                    loseSome()
                    world.die(pid, .signaled(9, selfInflicted: false, name: "Killed"), work: work, jitter: Double.random(in: 0...1, using: &rng))
                }
            case 66..<68:
                // A crash of its own on an innocent whole batch (a flaky replica).
                if let pid = pick(livePids().filter { world.core.reconciler.replica(pid: $0)?.state == .ready }) {
                    // (A batch of one record crashed twice is rightly rejected: spare those.)
                    let work = pick(world.inFlight.filter { world.core.ledger.batch($0.sequence).map { $0.units.count == 1 && $0.records > 1 } ?? false })
                        .map { ReplicaWork(sequence: $0.sequence, part: nil) }
                    loseSome()
                    world.die(pid, .exited(1), work: work, jitter: Double.random(in: 0...1, using: &rng))
                }
            case 68..<70:
                loseSome()
                world.send(.linkLost)
            case 70..<73:
                client += 1
                let stage = StageKind.allCases.randomElement(using: &rng)!
                world.send(.scale(client: client, [.init(stage, Int.random(in: 1...3, using: &rng))]))
            case 73..<83:
                // One replica takes its next step of starting up.
                if let pid = pick(livePids()), let r = world.core.reconciler.replica(pid: pid) {
                    if !r.connected { world.send(.replica(.connected(pid: pid, claimed: r.id))) } else if r.state == .starting { world.send(.replica(.ready(pid: pid))) }
                }
            case 83..<89:
                world.reap(jitter: Double.random(in: 0...1, using: &rng))
            case 89..<94:
                world.flushWriter()
            case 94..<96:
                if let pid = pick(livePids()) { world.silent.insert(pid) }
            case 96:
                world.send(.replica(.invalidFrame(fromPid: pick(livePids() + [31_337]) ?? 1, receiver: "test")))
            case 97:
                world.failingSpawns += 1
            case 98:
                if let pid = pick(livePids()) { world.send(.replica(.failureReported(pid: pid, message: "lost a peer"))) }
            default:
                if Int.random(in: 0..<4, using: &rng) == 0 {
                    stoppedEarly = true
                    world.send(.down)
                }
            }
            if Int.random(in: 0..<6, using: &rng) == 0 { rolloutStep() }
            if !world.violations.isEmpty { return "step \(steps): \(world.violations.joined(separator: "; "))" }
        }

        // The calm phase: no more faults; everything that can move, moves.
        for _ in 0..<1_000 where !world.core.isDone {
            cutSome()
            endInputIfDone()
            world.startAll()
            world.reap(jitter: 0.5)
            for pid in livePids() { ack(pid, fail: false) }
            world.send(.batch(.sendable(8)))
            while !world.inFlight.isEmpty {
                let before = world.inFlight.count
                deliverOrCrash(0)
                if world.inFlight.count == before { world.inFlight.append(world.inFlight.removeFirst()); break }
            }
            world.flushWriter()
            // Long enough for backoffs and deadlines to pass in a few rounds, short enough for
            // heartbeats to keep every replica that is not stuck alive.
            world.tick(1_000_000_000)
            if !world.violations.isEmpty { return "calm phase: \(world.violations.joined(separator: "; "))" }
        }
        guard world.core.isDone else {
            return "the run did not end: \(world.core.ledger.batches.count) batches held, \(world.core.ledger.queued) queued, \(world.inFlight.count) in flight, replicas \(world.core.reconciler.replicas.filter(\.isAlive).map { "\($0.id):\($0.state)" }), stopping \(world.core.stopping), rollout \(world.core.rollout.phase), batches \(world.core.ledger.batches.map { "\($0.sequence):\($0.model):\($0.units.map { "\($0.sends)/\($0.settled)" })" }), next commit \(world.core.ledger.nextCommit); log \(world.log.suffix(4)); rollout events \(world.events.filter { if case .rollout = $0 { true } else { false } })"
        }
        // Every `pipeline scale` got exactly one answer.
        let answered = world.replies.map(\.client).filter { $0 < 10_000 }.sorted()
        guard answered == Array(0..<client).map({ $0 + 1 }) else { return "scale replies to clients \(answered), \(client) asked" }
        // Every `pipeline rollout` got exactly one answer too.
        let rolloutAnswers = world.replies.map(\.client).filter { $0 >= 10_000 }.sorted()
        guard rolloutAnswers == Array(0..<rolloutClients).map({ 10_001 + $0 }) else {
            return "rollout replies to clients \(rolloutAnswers), \(rolloutClients) asked"
        }
        let cut = world.batchLines.keys.sorted().flatMap { world.batchLines[$0]! }
        guard world.core.exitCode == .ok else {
            // A failed run: only the limits it was given may fail it (.environment: spawns failing
            // for want of resources, over the restart limit), and what it wrote is a prefix of
            // what it read, in order (each batch whole: checked as it was written).
            guard mayFail, [.stageFailed, .inputErrors, .environment].contains(world.core.exitCode) else {
                return "exit code \(world.core.exitCode): \(world.log.suffix(3))"
            }
            guard Array(cut.prefix(world.writtenLines.count)) == world.writtenLines else { return "written \(world.writtenLines), read \(cut)" }
            if world.core.exitCode == .inputErrors && world.core.ledger.rejectedCommitted <= maxErrors {
                return "stopped for rejects with \(world.core.ledger.rejectedCommitted) of \(maxErrors) allowed"
            }
            return nil
        }
        guard world.writtenLines == cut else { return "written \(world.writtenLines), read \(cut)" }
        // Each record written counts once, for the version that scored it.
        let scored = world.core.rollout.recordsByVersion.values.reduce(0, +)
        guard scored == cut.count - world.rejectedLines.count else {
            return "records by version \(world.core.rollout.recordsByVersion), \(cut.count - world.rejectedLines.count) written"
        }
        guard stoppedEarly || cut.count == totalRecords else { return "read \(cut.count) of \(totalRecords) records" }
        let poisoned = cut.filter { world.poison[$0] != nil }
        guard world.rejectedLines == poisoned else { return "rejected \(world.rejectedLines), poison records \(poisoned)" }
        // The drift windows are those of the batches as cut, fed once each in order, whatever
        // was lost, replayed, duplicated or crashed on the way.
        var reference = Out.driftWatch(window: driftWindow)
        var expected: [DriftWatch.Window] = []
        for sequence in world.batchLines.keys.sorted() {
            let lines = world.batchLines[sequence]!
            let out = Out(lines: lines, rejectedLines: lines.filter { world.poison[$0] != nil })
            if let w = reference.add(firstLine: lines[0], lastLine: lines.last!, records: out.records, rows: out.records - out.rejected,
                                     counts: out.driftCounts) { expected.append(w) }
        }
        if let w = reference.finish() { expected.append(w) }
        let reported = world.events.compactMap { e -> DriftWatch.Window? in if case .driftWindow(let w) = e { w } else { nil } }
        guard reported == expected else { return "drift windows \(reported), expected \(expected)" }
        return nil
    }
}
