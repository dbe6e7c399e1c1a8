import Config
import Messages

/// A decision of the control core, or something it acted on, as a line of the event log
/// (`--events FILE`, and `pipeline logs events`): what happened to which replica, batch or
/// request, and how the run ends. The shell adds the time and writes it as JSON.
public enum RunEvent: Sendable, Equatable {
    /// Why the core killed a replica.
    public enum KillReason: String, Sendable {
        case hung = "no_heartbeat"
        case startTimeout = "not_ready_in_time"
        case stopTimeout = "did_not_stop"
        case invalidFrame = "invalid_frame"
    }

    case replicaStarted(ReplicaID, pid: Int32)
    case replicaReady(ReplicaID, pid: Int32)
    /// `expected`: it was told to exit (scaled away, drained, the run ending) and did.
    case replicaExited(ReplicaID, pid: Int32, Termination, expected: Bool)
    case replicaKilled(ReplicaID, pid: Int32, reason: KillReason)
    /// Scaled away: taken out of its stage's membership, it finishes what it holds and exits.
    case replicaDraining(ReplicaID, pid: Int32?)
    /// Told to exit now (the run ends, or it was scaled away while it started).
    case replicaStopping(ReplicaID, pid: Int32?)
    /// Its process could not be started; `retrying` when it will be tried again.
    case spawnFailed(ReplicaID, message: String, retrying: Bool)
    /// A crashed replica is replaced after `afterNanos`.
    case restartScheduled(ReplicaID, afterNanos: UInt64)
    case scaleRequested(client: Int, [ScaleTarget])
    case scaleAnswered(client: Int, status: ExitCode, text: String)
    /// The autoscaler changed a stage's count, for `reason` (the numbers that caused it).
    case autoscaled(StageKind, from: Int, to: Int, reason: String)
    /// `pipeline scale STAGE=0`: the stage has no replica on purpose; batches wait before it.
    case stagePaused(StageKind)
    /// A paused stage was given replicas again.
    case stageResumed(StageKind, replicas: Int)
    /// A batch that crashed replicas again is re-sent one record at a time.
    case batchIsolated(firstLine: UInt64, lastLine: UInt64, records: Int, stage: StageKind)
    /// A record that crashed replicas again became a REPLICA_CRASH error entry.
    case recordRejected(line: UInt64, stage: StageKind, crashes: Int)
    case downRequested
    case interrupted(forced: Bool)
    case outputFailed(stream: String, message: String)
    /// The end of the run was decided: `code` is the exit code it will have (so far).
    case runStopping(code: ExitCode, reason: String)
    /// A drift window closed: every watched field's figure.
    case driftWindow(DriftWatch.Window)
    /// A field of a closed window at `warn` or `alert`.
    case drift(window: Int, firstLine: UInt64, lastLine: UInt64, DriftWatch.Result)
    /// A step of a model rollout.
    case rollout(RolloutStep)
    /// A shadow version's figures against the primary's, over its committed batches so far
    /// (`final`: the shadow ended).
    case shadow(version: String, against: String, ShadowStats, final: Bool)
}

/// A stage and the replica count asked for it (`pipeline scale infer=4`).
public struct ScaleTarget: Sendable, Equatable {
    public var stage: StageKind
    public var replicas: Int

    public init(_ stage: StageKind, _ replicas: Int) {
        self.stage = stage
        self.replicas = replicas
    }
}
