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
struct RestartHistory {
    var times: [UInt64] = []
    /// Earliest time the next replacement may start.
    var notBefore: UInt64 = 0

    /// Records a crash at `now`; returns false when the stage is over its limit.
    mutating func crashed(now: UInt64, spec: StageSpec, jitter: Double) -> Bool {
        let window = UInt64(spec.restartWindowSeconds * 1e9)
        times.removeAll { now - $0 > window }
        times.append(now)
        guard times.count <= spec.maxRestarts else { return false }
        // Exponential backoff: 50 ms, 100 ms, 200 ms ... capped at 5 s, ±20% jitter.
        let base = min(50_000_000.0 * pow(2, Double(times.count - 1)), 5e9)
        notBefore = now + UInt64(base * (0.8 + 0.4 * jitter))
        return true
    }
}
