import Config
import Glibc
import Messages
import Runtime

/// What the supervisor knows about one replica process.
final class ReplicaRecord {
    enum State: String {
        /// Spawned; not yet listening.
        case starting
        /// Listening and in its stage's membership.
        case ready
        /// Out of the membership, finishing what it holds.
        case draining
        /// Told to exit now (end of run) or killed.
        case stopping
        /// Reaped.
        case exited
    }

    let stage: StageKind
    let index: Int
    let pid: pid_t
    let startedNanos: UInt64
    let socketPath: String
    let logPath: String
    var state: State = .starting
    /// It reported ready at some point.
    var wasReady = false
    /// The supervisor killed it for a silent processing loop (the batch it held may be at fault).
    var killedAsHung = false
    /// The supervisor killed it for not becoming ready in time.
    var startFailed = false
    var control: Connection?
    var heartbeat = Heartbeat()
    var lastBeatNanos: UInt64
    /// Busy share over the last two heartbeats, 0...1.
    var busy: Double = 0
    var termination: Spawn.Termination?
    /// What the replica reported before failing, if it did.
    var failure: String?

    init(stage: StageKind, index: Int, pid: pid_t, socketPath: String, logPath: String, now: UInt64) {
        self.stage = stage
        self.index = index
        self.pid = pid
        self.socketPath = socketPath
        self.logPath = logPath
        self.startedNanos = now
        self.lastBeatNanos = now
    }

    var name: String { "\(stage.rawValue).\(index)" }

    /// Its state page (which batch it is processing), next to its socket.
    var statePath: String { String(socketPath.dropLast(".sock".count)) + ".state" }

    var member: Membership.Member { .init(node: stage.node, replica: UInt32(index), path: socketPath) }

    /// Still counts toward the stage's replica count (not leaving).
    var isActive: Bool { state == .starting || state == .ready }

    var isAlive: Bool { state != .exited }

    func record(_ beat: Heartbeat, now: UInt64) {
        let elapsed = Double(now - lastBeatNanos)
        if elapsed > 0 && beat.busyNanos >= heartbeat.busyNanos {
            busy = min(1, Double(beat.busyNanos - heartbeat.busyNanos) / elapsed)
        }
        heartbeat = beat
        lastBeatNanos = now
    }
}

/// Restart history of one stage, for backoff and the restart limit.
///
/// Every crash counts toward `restart.max` (except those blamed on a record being isolated).
/// The backoff grows only with replicas that die before becoming ready (a crash loop at
/// start); a replica that was ready and then died is replaced at once, so a stage whose
/// replicas are killed often keeps working instead of waiting out ever longer delays.
struct RestartHistory {
    var times: [UInt64] = []
    /// Replicas of the stage that died, one after the other, before becoming ready.
    var earlyDeaths = 0
    /// Earliest time the next replacement may start.
    var notBefore: UInt64 = 0

    /// Records a crash at `now`; returns false when the stage is over its limit.
    /// - Parameters:
    ///   - counts: false for a crash blamed on a record being isolated (data, not the stage).
    ///   - early: the replica died before becoming ready.
    mutating func crashed(now: UInt64, spec: StageSpec, jitter: Double, counts: Bool = true, early: Bool = false) -> Bool {
        let window = UInt64(spec.restartWindowSeconds * 1e9)
        times.removeAll { now - $0 > window }
        if counts { times.append(now) }
        guard times.count <= spec.maxRestarts else { return false }
        if early { earlyDeaths += 1 }
        // 25 ms, then doubling with each early death, capped at 5 s; ±20% jitter.
        let base = min(25_000_000.0 * pow(2, Double(min(earlyDeaths, 30))), 5e9)
        notBefore = now + UInt64(base * (0.8 + 0.4 * jitter))
        return true
    }

    /// A replica of the stage became ready: the stage starts fine again.
    mutating func becameReady() { earlyDeaths = 0 }
}
