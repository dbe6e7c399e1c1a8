import Config

/// The supervisor's decisions about processes, as a value: how many replicas each stage should
/// have, what each replica is doing, when a silent or slow one is killed, when a crashed one is
/// replaced, and who must hear about a change of membership.
///
/// It performs nothing. `handle` takes what happened (with the time, and the jitter the restart
/// delay should use) and returns what to do; the supervisor's loop does it (spawning, sending
/// on control connections, signalling) and reports the outcome as further events.
public struct Reconciler: Sendable {
    public struct Settings: Sendable {
        /// Each stage's replica count at start and its restart limit.
        public var stages: [StageKind: StageSpec]
        /// A ready replica silent this long is hung.
        public var hangNanos: UInt64 = 5_000_000_000
        /// A replica not ready this long after it was started is killed.
        public var startTimeoutNanos: UInt64 = 30_000_000_000
        /// A replica told to exit (the run ends, or it was scaled away while starting) and still
        /// running this long after is killed.
        public var stopTimeoutNanos: UInt64 = 10_000_000_000

        public init(stages: [StageKind: StageSpec]) { self.stages = stages }

        public func spec(_ stage: StageKind) -> StageSpec { stages[stage] ?? StageSpec() }
    }

    public enum State: String, Sendable {
        /// Spawned (or about to be); not yet listening.
        case starting
        /// Listening and in its stage's membership.
        case ready
        /// Out of the membership, finishing what it holds before it exits 0.
        case draining
        /// Told to exit now (end of run, scaled away while starting) or killed.
        case stopping
        /// Reaped.
        case dead
    }

    /// What the reconciler knows about one replica.
    public struct Replica: Sendable, Equatable {
        public let id: ReplicaID
        /// Nil until the spawn is confirmed.
        public internal(set) var pid: Int32?
        public internal(set) var state: State = .starting
        public let startedAt: UInt64
        public internal(set) var lastBeat: UInt64
        /// Its control connection said hello (it can be told things).
        public internal(set) var connected = false
        /// It reported ready at some point.
        public internal(set) var wasReady = false
        /// Killed for a silent processing loop: the batch it held may be at fault.
        public internal(set) var killedAsHung = false
        /// Killed because a receiver reported a frame from it that failed validation.
        public internal(set) var killedForInvalidFrame = false
        /// Killed for not becoming ready in time.
        public internal(set) var startFailed = false
        /// What it reported before failing, if it did.
        public internal(set) var failure: String?
        public internal(set) var diedAt: UInt64?
        /// Told to exit: killed if still alive at this time.
        public internal(set) var stopBy: UInt64?
        /// Building model versions it was sent and has not confirmed (its loop is busy with
        /// them, not hung): allowed to be quiet as long as a start takes.
        public internal(set) var loadingVersions = false

        /// Still counts toward the stage's replica count (not leaving).
        public var isActive: Bool { state == .starting || state == .ready }
        public var isAlive: Bool { state != .dead }
    }

    /// The current members of a stage, as told to whoever sends to it. `stage` nil is the sink,
    /// whose one member is the supervisor itself.
    public struct Members: Sendable, Equatable {
        public var generation: UInt64
        public var stage: StageKind?
        public var replicas: [ReplicaID]
    }

    /// Who receives a membership: the source (it sends to ingest) or a replica.
    public enum Recipient: Sendable, Hashable {
        case source
        case replica(ReplicaID)
    }

    public enum Signal: Sendable, Equatable {
        /// SIGTERM: exit now (a replica that has no control connection yet).
        case terminate
        /// SIGKILL.
        case kill
    }

    public enum Event: Sendable, Equatable {
        /// Time passed: deadlines, counts.
        case tick
        /// The replica asked for by `.spawn` is running as `pid`.
        case spawned(ReplicaID, pid: Int32)
        /// `.spawn` failed; `transient` (EAGAIN, ENOMEM…) is retried after a backoff.
        case spawnFailed(ReplicaID, message: String, transient: Bool, jitter: Double)
        /// Process `pid` (as the kernel tells it) opened a control connection saying it is `claimed`.
        case connected(pid: Int32, claimed: ReplicaID)
        /// The control connection of process `pid` closed.
        case disconnected(pid: Int32)
        case ready(pid: Int32)
        case heartbeat(pid: Int32)
        /// The replica reported why it is failing.
        case failureReported(pid: Int32, message: String)
        /// Process `pid` was reaped; `work`: what its state page says it was processing; `jitter`
        /// (0...1, the caller's random source) spreads the restart delay if it comes to that.
        case exited(pid: Int32, Termination, work: ReplicaWork?, jitter: Double)
        /// A crash the caller has weighed: `counts` false when it is a record's fault (being
        /// isolated), not the stage's.
        case crashCounted(ReplicaID, counts: Bool, jitter: Double)
        /// A receiver reported that a frame from process `pid` failed validation.
        case invalidFrame(fromPid: Int32, receiver: String)
        case scale(StageKind, Int)
        /// The run ends: every replica is told to exit.
        case stop
        /// The run ends now: every replica is killed.
        case force
    }

    public enum Action: Sendable, Equatable {
        /// Start a process for this replica; report `.spawned` or `.spawnFailed`.
        case spawn(ReplicaID)
        case signal(pid: Int32, Signal)
        /// Answer its control hello with its configuration.
        case configure(ReplicaID)
        /// Tell it (control connection) to exit now.
        case shutdown(ReplicaID)
        /// Tell it to finish what it holds and exit.
        case drain(ReplicaID)
        case membership(Members, to: Recipient)
        /// Close a control connection that no replica of ours can own.
        case refuse(pid: Int32, reason: String)
        /// The replica failed to start in a way restarting will not fix (it exited with an error
        /// before becoming ready): the run fails.
        case startFailed(ReplicaID, Termination, message: String?)
        /// It exited while draining, not cleanly: what it held must be sent again; no restart.
        case lostWhileDraining(ReplicaID, pid: Int32, Termination)
        /// It crashed, while processing `work`. `blameable`: the death may be the batch's fault
        /// (a crash of its own, or a hang the reconciler ended). Answer with `.crashCounted`
        /// (passing `jitter` on).
        case crashed(ReplicaID, pid: Int32, Termination, work: ReplicaWork?, blameable: Bool, jitter: Double)
        /// After `.crashCounted`: a replacement comes after the backoff, at `notBefore`.
        case restartScheduled(ReplicaID, notBefore: UInt64)
        /// After `.crashCounted`: more crashes than `restart.max` within its window.
        case restartLimitExceeded(ReplicaID)
        /// The run fails for a reason of the environment (a replica could not be spawned).
        case cannotStart(ReplicaID, message: String)
        case log(LogLevel, String)
        /// A line for the event log.
        case event(RunEvent)
    }

    public let settings: Settings
    public internal(set) var desired: [StageKind: Int] = [:]
    /// Every replica of the run that is alive (or died since the last tick), in start order.
    public internal(set) var replicas: [Replica] = []
    public internal(set) var restarts: [StageKind: RestartHistory] = [:]
    /// Replacements started for crashed replicas since the run began, per stage.
    public internal(set) var restartsTotal: [StageKind: Int] = [:]
    public internal(set) var generation: UInt64 = 0
    /// The run is ending: nothing is started or restarted; every replica has been told to exit.
    public internal(set) var stopping = false
    var nextIndex: [StageKind: Int] = [:]
    /// Each stage's members as last announced: a member that dies is announced gone.
    var announced: [StageKind: [ReplicaID]] = [:]

    public init(settings: Settings) {
        self.settings = settings
        for stage in StageKind.allCases {
            desired[stage] = settings.spec(stage).replicas
            nextIndex[stage] = 1
            restarts[stage] = RestartHistory()
        }
    }

    // MARK: Queries

    public func replicas(of stage: StageKind) -> [Replica] { replicas.filter { $0.id.stage == stage } }

    public func replica(_ id: ReplicaID) -> Replica? { replicas.first { $0.id == id } }

    /// The live replica running as `pid`.
    public func replica(pid: Int32) -> Replica? { replicas.first { $0.pid == pid && $0.isAlive } }

    /// True when every replica has been reaped.
    public var allDead: Bool {
        for r in replicas where r.state != .dead { return false }
        return true
    }

    /// True when `stage` has exactly its desired count of ready replicas and none in transition.
    public func isSettled(_ stage: StageKind) -> Bool {
        var ready = 0
        for r in replicas where r.id.stage == stage {
            switch r.state {
            case .ready: ready += 1
            case .starting, .draining, .stopping: return false
            case .dead: break
            }
        }
        return ready == desired[stage]
    }

    /// The members of `stage` (nil: the sink) as they would be announced now.
    public func members(of stage: StageKind?) -> Members {
        Members(generation: generation, stage: stage,
                replicas: stage.map { replicas(of: $0).filter { $0.state == .ready }.map(\.id) } ?? [])
    }

    /// The earliest time a deadline of the reconciler falls due: a replacement's backoff ending
    /// (for a stage short of replicas), a start deadline, a stop deadline. (Heartbeats are
    /// checked on the caller's regular ticks.)
    public var nextDeadline: UInt64? {
        var earliest: UInt64?
        func consider(_ t: UInt64) { earliest = min(earliest ?? t, t) }
        for r in replicas {
            if r.state == .stopping, let by = r.stopBy { consider(by) }
            if r.state == .starting && !stopping { consider(r.startedAt + settings.startTimeoutNanos) }
        }
        if !stopping {
            for stage in StageKind.allCases where replicas(of: stage).filter(\.isActive).count < (desired[stage] ?? 0) {
                consider(restarts[stage]!.notBefore)
            }
        }
        return earliest
    }

    // MARK: The one entry point

    public mutating func handle(_ event: Event, now: UInt64) -> [Action] {
        var out: [Action] = []
        switch event {
        case .tick:
            checkDeadlines(now: now, into: &out)
            reconcile(now: now, into: &out)
        case .spawned(let id, let pid):
            update(id) { $0.pid = pid }
            out.append(.event(.replicaStarted(id, pid: pid)))
            // Told to exit before its pid was known (scaled away, or the run ended, meanwhile).
            if replica(id)?.state == .stopping { out.append(.signal(pid: pid, .terminate)) }
        case .spawnFailed(let id, let message, let transient, let jitter):
            replicas.removeAll { $0.id == id }
            if transient, restarts[id.stage]!.crashed(now: now, spec: settings.spec(id.stage), jitter: jitter, quick: true) {
                out.append(.event(.spawnFailed(id, message: message, retrying: true)))
                out.append(.log(.error, "cannot start \(id) now: \(message); retrying"))
            } else {
                out.append(.event(.spawnFailed(id, message: message, retrying: false)))
                out.append(.cannotStart(id, message: message))
            }
        case .connected(let pid, let claimed):
            connected(pid: pid, claimed: claimed, into: &out)
        case .disconnected(let pid):
            if let i = index(pid: pid) { replicas[i].connected = false }
        case .ready(let pid):
            becameReady(pid: pid, into: &out)
        case .heartbeat(let pid):
            if let i = index(pid: pid) { replicas[i].lastBeat = now }
        case .failureReported(let pid, let message):
            guard let i = index(pid: pid) else { break }
            replicas[i].failure = message
            // While the run stops, a replica losing a peer that has already gone is expected.
            if !stopping { out.append(.log(.error, "\(replicas[i].id) failed: \(message)")) }
        case .exited(let pid, let termination, let work, let jitter):
            exited(pid: pid, termination, work: work, jitter: jitter, now: now, into: &out)
        case .crashCounted(let id, let counts, let jitter):
            guard let r = replica(id), !stopping else { break }
            let quick = !r.wasReady || (r.diedAt ?? now) - r.startedAt < RestartHistory.quickNanos
            if restarts[id.stage]!.crashed(now: now, spec: settings.spec(id.stage), jitter: jitter, counts: counts, quick: quick) {
                restartsTotal[id.stage, default: 0] += 1
                let notBefore = restarts[id.stage]!.notBefore
                out.append(.event(.restartScheduled(id, afterNanos: notBefore - min(notBefore, now))))
                out.append(.restartScheduled(id, notBefore: notBefore))
            } else {
                out.append(.restartLimitExceeded(id))
            }
        case .invalidFrame(let pid, let receiver):
            // Only a live replica of ours, not already being stopped or killed for this.
            guard !stopping, let i = index(pid: pid), replicas[i].state != .stopping, !replicas[i].killedForInvalidFrame else { break }
            replicas[i].killedForInvalidFrame = true
            out.append(.log(.error, "\(replicas[i].id) (pid \(pid)) sent \(receiver) a frame that failed validation: killing it"))
            out.append(.event(.replicaKilled(replicas[i].id, pid: pid, reason: .invalidFrame)))
            out.append(.signal(pid: pid, .kill))
        case .scale(let stage, let count):
            desired[stage] = count
            reconcile(now: now, into: &out)
        case .stop:
            stop(now: now, into: &out)
        case .force:
            stopping = true
            for i in replicas.indices where replicas[i].isAlive {
                replicas[i].state = .stopping
                if let pid = replicas[i].pid { out.append(.signal(pid: pid, .kill)) }
            }
        }
        return out
    }
}

public enum LogLevel: Sendable, Equatable {
    case info, error
}
