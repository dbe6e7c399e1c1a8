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
    /// Killed because a receiver reported a frame from it that failed validation.
    var killedForInvalidFrame = false
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
/// The delay before a replacement starts is 25 ms and doubles with each crash, in a row, of a
/// replica that died quickly (before becoming ready, or within `quickNanos` of its start): a
/// crash loop backs off exponentially, to at most 5 s. A crash after a longer life resets it,
/// as Docker's restart policy does after a container has run a while: a stage whose replicas
/// fail now and then (or are killed from outside) gets them back at once instead of waiting out
/// ever longer delays; `restart.max` bounds how often that may happen.
struct RestartHistory {
    /// A replica that dies sooner than this after starting is part of a crash loop.
    static let quickNanos: UInt64 = 1_000_000_000
    var times: [UInt64] = []
    /// Replicas of the stage that died quickly, one after the other.
    var quickDeaths = 0
    /// Earliest time the next replacement may start.
    var notBefore: UInt64 = 0

    /// Records a crash at `now`; returns false when the stage is over its limit.
    /// - Parameters:
    ///   - counts: false for a crash blamed on a record being isolated (data, not the stage).
    ///   - quick: the replica died before becoming ready or within `quickNanos` of its start.
    mutating func crashed(now: UInt64, spec: StageSpec, jitter: Double, counts: Bool = true, quick: Bool = false) -> Bool {
        let window = UInt64(spec.restartWindowSeconds * 1e9)
        times.removeAll { now - $0 > window }
        if counts { times.append(now) }
        guard times.count <= spec.maxRestarts else { return false }
        if counts { quickDeaths = quick ? quickDeaths + 1 : 0 }
        // 25 ms, doubling with each quick death in a row, capped at 5 s; ±20% jitter.
        let base = min(25_000_000.0 * pow(2, Double(min(quickDeaths, 30))), 5e9)
        notBefore = now + UInt64(base * (0.8 + 0.4 * jitter))
        return true
    }
}
