import Config
@testable import ControlCore
import Messages
import TestSupport

/// What the simulated sink receives: the input lines of the records covered, and which of them
/// were rejected.
struct Out: BatchOutput, Equatable {
    var lines: [UInt64]
    var rejectedLines: [UInt64] = []
    /// The model versions the piece's frame named (nil: made by the supervisor).
    var model: ModelSlots?
    var shadowFigures: ShadowStats?
    var modelSlots: ModelSlots? { model }
    var shadow: ShadowStats? { shadowFigures }
    var records: Int { lines.count }
    var rejected: Int { rejectedLines.count }
    /// One watched field of three slots: each accepted line counts in slot line % 3.
    var driftCounts: [UInt64] {
        var c: [UInt64] = [0, 0, 0]
        for line in lines where !rejectedLines.contains(line) { c[Int(line % 3)] += 1 }
        return c
    }

    /// A drift watch over `driftCounts`, with windows of `window` records.
    static func driftWatch(window: Int) -> DriftWatch {
        var spec = DriftSpec(reference: "/ref.json")
        spec.window = window
        let field = DriftProfile.Field(bins: DriftPlan.Field(name: "f", kind: .categorical, values: ["a"]), type: .string, counts: [5, 3, 2])
        return DriftWatch(profile: DriftProfile(records: 10, fields: [field], predictions: []), spec: spec)
    }
}

typealias Core = ControlCore<Out>
typealias Ledger = BatchLedger<Out>


/// The supervisor's shell, simulated: it carries out the core's actions the way the real loop
/// does (spawning gives a pid at once; signals and shutdowns make processes exit when `reap` is
/// called; sends put pieces in flight; splits and poison records are answered), and records
/// everything the tests check. Nothing here decides: only the core does.
struct World {
    var core: Core
    var now: UInt64 = 1_000_000_000
    /// Live processes and what they run.
    var processes: [Int32: ReplicaID] = [:]
    /// Processes that will exit at the next `reap`, with how.
    var exiting: [Int32: Termination] = [:]
    /// Processes whose processing loop is stuck: they send no heartbeats.
    var silent: Set<Int32> = []
    /// Spawns that fail, transiently, before one succeeds.
    var failingSpawns = 0
    private var nextPid: Int32 = 100

    /// The input, one entry per record: its line; cut batches' records by sequence number.
    var batchLines: [UInt64: [UInt64]] = [:]
    var nextLine: UInt64 = 1
    /// Records (by line) that crash any replica of the stage that touches them.
    var poison: [UInt64: StageKind] = [:]

    /// Pieces sent to ingest and not yet at the sink.
    var inFlight: [(sequence: UInt64, unit: Int, model: ModelSlots)] = []
    /// The versions sent to the replicas (generations), and the batches a rollback restamped.
    var versionsSent: [UInt64] = []
    var retagged: [(sequences: [UInt64], model: ModelSlots)] = []
    /// Each shadowed piece delivered carries these figures.
    var shadowPerPiece: ShadowStats?
    /// Batches handed to the writer, in order, and how far it has written.
    var written: [(sequence: UInt64, pieces: [Out])] = []
    var writtenThrough: UInt64?
    /// The last membership each recipient received.
    var memberships: [Reconciler.Recipient: Reconciler.Members] = [:]
    var log: [String] = []
    /// The event log's lines, in order.
    var events: [RunEvent] = []
    var replies: [(client: Int, status: ExitCode, text: String)] = []
    var signals: [(pid: Int32, signal: Reconciler.Signal)] = []
    var readingStopped = false
    var dataPathEnded = false
    /// Set when an invariant broke, with the step.
    var violations: [String] = []

    init(stages: [StageKind: StageSpec] = [:], window: Int = 8, maxErrors: Int = -1, hangNanos: UInt64 = 5_000_000_000,
         drift: DriftWatch? = nil, versionCrashLimit: Int? = 3) {
        var specs: [StageKind: StageSpec] = [:]
        for stage in StageKind.allCases { specs[stage] = stages[stage] ?? StageSpec(replicas: 1, maxRestarts: 1000, restartWindowSeconds: 30) }
        var reconciler = Reconciler.Settings(stages: specs)
        reconciler.hangNanos = hangNanos
        var settings = Core.Settings(reconciler: reconciler, ledger: Ledger.Settings(window: window), maxErrors: maxErrors)
        settings.scaleTimeoutNanos = 60_000_000_000
        settings.drift = drift
        // Poison records crash replicas whatever the version: during a rollout they count against
        // the new version (which is then rolled back) before they can be isolated.
        settings.versionCrashLimit = versionCrashLimit
        core = Core(settings: settings)
    }

    // MARK: Driving

    /// Feeds `event` to the core and carries out what it returns (follow-up events included).
    @discardableResult
    mutating func send(_ event: Core.Event) -> [Core.Action] {
        var all: [Core.Action] = []
        var queue = [event]
        while !queue.isEmpty {
            let actions = core.handle(queue.removeFirst(), now: now)
            all += actions
            for action in actions { queue += perform(action) }
            check()
        }
        return all
    }

    mutating func advance(_ nanos: UInt64) { now += nanos }

    /// Lets time pass with every live, unstuck, connected replica beating, then ticks.
    mutating func tick(_ nanos: UInt64 = 20_000_000) {
        advance(nanos)
        for pid in processes.keys.sorted() where !silent.contains(pid) && core.reconciler.replica(pid: pid)?.connected == true {
            send(.replica(.heartbeat(pid: pid)))
        }
        send(.tick)
    }

    /// Every starting replica connects and reports ready.
    mutating func startAll() {
        for pid in processes.keys.sorted() {
            guard let r = core.reconciler.replica(pid: pid), exiting[pid] == nil else { continue }
            if !r.connected && r.state == .starting { send(.replica(.connected(pid: pid, claimed: r.id))) }
            if core.reconciler.replica(pid: pid)?.state == .starting && core.reconciler.replica(pid: pid)?.connected == true {
                send(.replica(.ready(pid: pid)))
            }
        }
    }

    /// Reaps every process that was told to exit or killed.
    mutating func reap(work: ((Int32) -> ReplicaWork?)? = nil, jitter: Double = 0.5) {
        for (pid, termination) in exiting.sorted(by: { $0.key < $1.key }) {
            exiting[pid] = nil
            processes[pid] = nil
            silent.remove(pid)
            send(.replica(.exited(pid: pid, termination, work: work?(pid), jitter: jitter)))
        }
    }

    /// Makes a live process die now of `termination` while processing `work`.
    mutating func die(_ pid: Int32, _ termination: Termination, work: ReplicaWork? = nil, jitter: Double = 0.5) {
        processes[pid] = nil
        exiting[pid] = nil
        silent.remove(pid)
        send(.replica(.exited(pid: pid, termination, work: work, jitter: jitter)))
    }

    /// Cuts a batch of `records` records (one line each, and a blank line after every third).
    @discardableResult
    mutating func cut(_ records: Int) -> UInt64 {
        let sequence = core.ledger.nextSequence
        var lines: [UInt64] = []
        for _ in 0..<records {
            lines.append(nextLine)
            nextLine += nextLine % 3 == 0 ? 2 : 1
        }
        batchLines[sequence] = lines
        send(.batch(.cut(BatchCut(firstLine: lines[0], lastLine: lines.last!, records: records, byteOffset: lines[0] * 10,
                                  model: core.rollout.slots(for: sequence)))))
        return sequence
    }

    /// The lines of unit `unit` of batch `sequence`.
    func lines(_ sequence: UInt64, unit: Int) -> [UInt64]? {
        guard let b = core.ledger.batch(sequence), unit < b.units.count, let all = batchLines[sequence] else { return nil }
        let u = b.units[unit]
        return Array(all[u.offset..<(u.offset + u.count)])
    }

    /// The stage whose replicas a piece crashes, if it holds a poison record.
    func poisonStage(_ sequence: UInt64, unit: Int) -> StageKind? {
        lines(sequence, unit: unit)?.lazy.compactMap { poison[$0] }.first
    }

    /// Delivers in-flight piece `i` to the sink, as the last stage's output.
    mutating func deliver(_ i: Int) {
        let (sequence, unit, model) = inFlight.remove(at: i)
        guard let b = core.ledger.batch(sequence), let lines = lines(sequence, unit: unit) else { return }
        let u = b.units[unit]
        send(.batch(.received(sequence, part: u.isPart ? u.offset : nil,
                              Out(lines: lines, model: model, shadowFigures: model.shadow == nil ? nil : shadowPerPiece))))
    }

    /// The writer finishes everything handed to it.
    mutating func flushWriter() {
        guard let last = written.last?.sequence, last != writtenThrough else { return }
        writtenThrough = last
        send(.batch(.written(through: last)))
    }

    /// Ready replicas of `stage`, by pid.
    func ready(_ stage: StageKind) -> [Int32] {
        core.reconciler.replicas(of: stage).filter { $0.state == .ready }.compactMap(\.pid).filter { processes[$0] != nil }.sorted()
    }

    func pid(_ id: ReplicaID) -> Int32? { core.reconciler.replica(id)?.pid }

    /// Every input line written, in order, once, and the lines rejected.
    var writtenLines: [UInt64] { written.flatMap { $0.pieces.flatMap(\.lines) } }
    var rejectedLines: [UInt64] { written.flatMap { $0.pieces.flatMap(\.rejectedLines) } }

    // MARK: Carrying out actions

    private mutating func perform(_ action: Core.Action) -> [Core.Event] {
        switch action {
        case .spawn(let id):
            if failingSpawns > 0 {
                failingSpawns -= 1
                return [.replica(.spawnFailed(id, message: "Resource temporarily unavailable", transient: true, jitter: 0.5))]
            }
            nextPid += 1
            processes[nextPid] = id
            return [.replica(.spawned(id, pid: nextPid))]
        case .signal(let pid, let signal):
            signals.append((pid, signal))
            if processes[pid] != nil {
                exiting[pid] = signal == .kill ? .signaled(9, selfInflicted: false, name: "Killed")
                                               : .signaled(15, selfInflicted: false, name: "Terminated")
            }
        case .shutdown(let id), .drain(let id):
            if let pid = pid(id), processes[pid] != nil, exiting[pid] == nil { exiting[pid] = .exited(0) }
        case .configure:
            break
        case .membership(let m, let recipient):
            if let previous = memberships[recipient], previous.generation >= m.generation || previous.stage != m.stage {
                violations.append("\(recipient) got generation \(m.generation) of \(m.stage?.rawValue ?? "sink") after \(previous.generation) of \(previous.stage?.rawValue ?? "sink")")
            }
            memberships[recipient] = m
        case .refuse(let pid, let reason):
            log.append("refused \(pid): \(reason)")
        case .send(let sequence, let unit, _):
            inFlight.append((sequence, unit, core.ledger.batch(sequence)?.model ?? ModelSlots()))
        case .versions(let generation):
            versionsSent.append(generation)
        case .retag(let sequences, let model):
            retagged.append((sequences, model))
        case .split(let sequence):
            guard let lines = batchLines[sequence] else { return [] }
            return [.batch(.split(sequence, records: lines.map { SplitRecord(firstLine: $0, byteOffset: $0 * 10) }, refused: nil))]
        case .poison(let sequence, let part, let line, _, _, _, _):
            return [.batch(.received(sequence, part: part, Out(lines: [line], rejectedLines: [line])))]
        case .write(let sequence, let pieces, _):
            if let last = written.last?.sequence, sequence != last + 1 {
                violations.append("batch \(sequence) written after \(last)")
            } else if written.isEmpty && sequence != 0 {
                violations.append("the first batch written is \(sequence)")
            }
            let lines = pieces.flatMap(\.lines)
            if let model = core.ledger.batch(sequence)?.model, let stale = pieces.first(where: { $0.model != nil && $0.model != model }) {
                violations.append("batch \(sequence) written with output of versions \(stale.model!), its versions are \(model)")
            }
            if lines != batchLines[sequence] {
                violations.append("batch \(sequence) written with lines \(lines), cut with \(batchLines[sequence] ?? [])")
            }
            written.append((sequence, pieces))
        case .stopReading:
            readingStopped = true
        case .endDataPath:
            dataPathEnded = true
        case .reply(let client, let status, let text, _):
            replies.append((client, status, text))
        case .log(_, let message, _):
            log.append(message)
        case .event(let event):
            events.append(event)
        }
        return []
    }

    // MARK: Invariants, after every event

    private mutating func check() {
        let ledger = core.ledger
        // (The ledger also refuses, by precondition, a cut into a full window.)
        if ledger.batches.count > ledger.settings.window {
            violations.append("window exceeded: \(ledger.batches.count) > \(ledger.settings.window)")
        }
        if ledger.recordsCommitted > ledger.recordsRead || ledger.rejectedCommitted > ledger.recordsCommitted
            || ledger.nextCommit > ledger.nextSequence || ledger.recordsCommitted != writtenLines.count {
            violations.append("ledger counts out of range: read \(ledger.recordsRead), committed \(ledger.recordsCommitted) (\(writtenLines.count) handed to the writer), rejected \(ledger.rejectedCommitted)")
        }
        let pids = core.reconciler.replicas.filter(\.isAlive).compactMap(\.pid)
        if Set(pids).count != pids.count { violations.append("two live replicas share a pid: \(pids)") }
        for r in core.reconciler.replicas where r.isAlive {
            if let pid = r.pid, processes[pid] == nil && exiting[pid] == nil {
                violations.append("\(r.id) (pid \(pid)) is \(r.state) in the core but its process is gone")
            }
        }
        // No replica is both a member and dead: every sender that acts on a membership (the
        // source, ready and draining replicas) knows only live replicas downstream, and while
        // the run goes on, only ready ones.
        for (recipient, m) in memberships {
            if case .replica(let id) = recipient, ![.ready, .draining].contains(core.reconciler.replica(id)?.state) {
                if core.reconciler.replica(id) == nil { memberships[recipient] = nil }
                continue
            }
            for id in m.replicas where core.reconciler.replica(id)?.state != .ready
                && (!core.stopping || core.reconciler.replica(id)?.isAlive != true) {
                violations.append("\(id) is a member of \(m.stage?.rawValue ?? "sink") for \(recipient) but \(core.reconciler.replica(id)?.state.rawValue ?? "gone")")
            }
        }
        for stage in StageKind.allCases where (core.reconciler.desired[stage] ?? 0) < 0 {
            violations.append("negative desired count for \(stage)")
        }
    }
}

/// The shared generator, under this target's name for it.
typealias SeededRandom = SplitMix64
