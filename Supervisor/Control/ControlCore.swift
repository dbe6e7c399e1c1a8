import Config
import Messages

/// Every decision of `pipeline up`, as a value: the `Reconciler` (processes) and the
/// `BatchLedger` (batches) joined, plus what belongs to the run as a whole — when it ends and
/// with which exit code, `pipeline scale` requests waiting for their counts, interrupts, output
/// that can no longer be written, and the rejected-records limit.
///
/// `handle` is the one entry point: an event and the time in, actions out. It makes no system
/// call and reads no clock or random source (restart jitter comes with the events that need
/// it), so any sequence of events can be replayed in a test in microseconds.
public struct ControlCore<Output: BatchOutput>: Sendable {
    public struct Settings: Sendable {
        public var reconciler: Reconciler.Settings
        public var ledger: BatchLedger<Output>.Settings
        /// More rejected records than this stops the run (exit 5); -1: never.
        public var maxErrors: Int = -1
        /// A `pipeline scale` not done within this is answered with an error.
        public var scaleTimeoutNanos: UInt64 = 60_000_000_000
        /// A run that read records and rejected every one of them fails (exit 11) instead of
        /// ending well (`max_errors` not set in the config).
        public var failWhenEverythingRejected = false
        /// The config's `[input] format`, for that message.
        public var inputFormat = InputFormat.jsonl
        /// The drift watch (`[drift]`), nil when off.
        public var drift: DriftWatch?
        /// The model version the run starts with (slot 0).
        public var initialVersion = Rollout.Version(slot: 0, id: "")
        /// Crashes on a new version's batches past which it is rolled back; nil: the crashing
        /// stage's `restart.max` (within its `within_s`, as the restart limit counts).
        public var versionCrashLimit: Int?
        /// How long after its switch a new version is watched for crashes
        /// (`PIPELINE_ROLLOUT_WATCH_SECONDS`, default 600).
        public var watchNanos: UInt64 = 600_000_000_000

        public init(reconciler: Reconciler.Settings, ledger: BatchLedger<Output>.Settings, maxErrors: Int = -1) {
            self.reconciler = reconciler
            self.ledger = ledger
            self.maxErrors = maxErrors
        }
    }

    /// A stream the sink writes to.
    public enum Stream: Sendable, Equatable {
        case stdout
        /// Where rejected records go: stderr, or the `--errors` file (its name).
        case errors(String)
        /// The event log (its file).
        case events(String)
    }

    /// A stage and the replica count asked for it.
    public typealias Target = ScaleTarget

    public enum Event: Sendable {
        /// Time passed: deadlines, counts, re-sends.
        case tick
        /// What happened to a replica (see `Reconciler.Event`; `.tick`, `.crashCounted`,
        /// `.scale`, `.stop` and `.force` are the core's own to send: a precondition says so).
        case replica(Reconciler.Event)
        /// What happened to a batch (see `BatchLedger.Event`; `.tick`, `.replay` and `.crashed`
        /// are the core's own to send: a precondition says so).
        case batch(BatchLedger<Output>.Event)
        /// A link to ingest closed without its replica dying: what it held is sent again.
        case linkLost
        /// `pipeline scale` from client `client`.
        case scale(client: Int, [Target])
        /// The autoscaler's changes (`Autoscaler.decide`), carried out as a `pipeline scale` is.
        case autoscale([Autoscaler.Change])
        /// `pipeline down`: finish what was read, then stop.
        case down
        /// SIGINT, SIGTERM or SIGHUP: the first finishes what was read, the second kills.
        case interrupt
        /// Writing `stream` failed: `closed` when its reader went away (EPIPE).
        case outputFailed(Stream, closed: Bool, message: String)
        /// The run cannot go on (reading stdin failed, an internal error).
        case fail(ExitCode, String)
        /// `pipeline rollout` from client `client`.
        case rollout(client: Int, RolloutCommand)
        /// The replica running as `pid` holds the versions of `generation`, except `failures`.
        case versionsAck(pid: Int32, generation: UInt64, failures: [VersionsAck.Failure])
    }

    public enum Action: Sendable {
        // Processes.
        case spawn(ReplicaID)
        case signal(pid: Int32, Reconciler.Signal)
        case configure(ReplicaID)
        case shutdown(ReplicaID)
        case drain(ReplicaID)
        case membership(Reconciler.Members, to: Reconciler.Recipient)
        case refuse(pid: Int32, reason: String)
        // Batches.
        case send(UInt64, unit: Int, replay: Bool)
        case split(UInt64)
        case poison(UInt64, part: Int?, line: UInt64, byteOffset: UInt64, crashes: Int, stage: StageKind, termination: Termination)
        case write(UInt64, [Output], lines: ClosedRange<UInt64>)
        // The run.
        /// Stop reading stdin; cut what was read, then report `.inputEnded`.
        case stopReading
        /// The run is ending: the source's links to ingest close once flushed, and the sink
        /// expects its upstream to go away.
        case endDataPath
        /// Answer client `client`; `withStatus`: append the `ps` table to the text.
        case reply(client: Int, status: ExitCode, text: String, withStatus: Bool)
        /// `logOf`: append the last lines of that replica's log.
        case log(LogLevel, String, logOf: ReplicaID? = nil)
        /// A line for the event log.
        case event(RunEvent)
        // Model versions.
        /// Send the live versions (`rollout.live`, generation `generation`) to every configured
        /// featurize, infer and aggregate replica.
        case versions(generation: UInt64)
        /// Restamp the kept frames of these batches with `ModelSlots` (a rollback).
        case retag([UInt64], ModelSlots)
    }

    private struct ScaleWait: Sendable {
        var client: Int
        var targets: [Target]
        var deadline: UInt64
        var summary: String
    }

    public let settings: Settings
    public private(set) var reconciler: Reconciler
    public internal(set) var ledger: BatchLedger<Output>
    public private(set) var exitCode = ExitCode.ok
    /// The end was decided: replicas are told to exit; nothing more is read or started.
    public private(set) var stopping = false
    /// A second interrupt: everything was killed; queued output is not waited for.
    public private(set) var forced = false
    /// Reading stdin was stopped before its end (`down`, an interrupt, an error).
    public private(set) var readingStopped = false
    /// The sink's streams that failed, with the error, in the order they failed.
    public private(set) var failedStreams: [(stream: Stream, message: String)] = []
    private var interrupts = 0
    private var waits: [ScaleWait] = []
    /// The drift watch, fed with every committed batch in order.
    public internal(set) var drift: DriftWatch?
    /// The model versions and the rollout between them.
    public internal(set) var rollout: Rollout

    public init(settings: Settings) {
        self.settings = settings
        reconciler = Reconciler(settings: settings.reconciler)
        ledger = BatchLedger(settings: settings.ledger)
        drift = settings.drift
        rollout = Rollout(initial: settings.initialVersion)
    }

    /// True once every replica has exited after the end was decided: the loop can return.
    public var isDone: Bool { stopping && reconciler.allDead }

    /// The earliest time `.tick` has work to do for a deadline.
    public var nextDeadline: UInt64? { reconciler.nextDeadline }

    /// A replica's loop answered (not a heartbeat, but as good as one).
    mutating func signOfLife(pid: Int32, now: UInt64) {
        _ = reconciler.handle(.heartbeat(pid: pid), now: now)
    }

    // MARK: The one entry point

    public mutating func handle(_ event: Event, now: UInt64) -> [Action] {
        var out: [Action] = []
        switch event {
        case .tick:
            // Replicas build a version they are sent in their loop, quiet meanwhile: those that have
            // not confirmed the last set with a new version are building (also after an abort).
            let building = rollout.buildGeneration
            reconciler.markLoadingVersions { building > 0 && Self.versionedStages.contains($0.stage) && !rollout.holds($0, generation: building) }
            process(reconciler.handle(.tick, now: now), now: now, into: &out)
            // An idle stream commits nothing: versions whose batches are all written retire here too.
            if !stopping { retireVersions(nextCommit: ledger.nextCommit, into: &out) }
            if !stopping { batches(ledger.handle(.tick, now: now), now: now, into: &out) }
            if !stopping { checkLoad(now: now, into: &out) }
            if !stopping, let v = rollout.endWatch(now: now) {
                out.append(.log(.info, "rollout: version \(v.id) has run \(seconds(settings.watchNanos)) without crashing past the limit: no longer watched"))
                out.append(.event(.rollout(RolloutStep(step: "watch_ended", version: v.id))))
            }
        case .replica(let event):
            switch event {
            case .tick, .crashCounted, .scale, .stop, .force:
                preconditionFailure("\(event) is the core's own to send: use .tick, .scale, .down, .interrupt")
            default:
                process(reconciler.handle(event, now: now), now: now, into: &out)
            }
        case .batch(let event):
            switch event {
            case .tick, .replay, .crashed:
                preconditionFailure("\(event) is the core's own to send: use .tick, .linkLost, .replica(.exited)")
            case .sendable where stopping:
                break  // while stopping, nothing more is sent
            default:
                batches(ledger.handle(event, now: now), now: now, into: &out)
            }
        case .linkLost:
            if !stopping { batches(ledger.handle(.replay, now: now), now: now, into: &out) }
        case .scale(let client, let targets): scale(client: client, targets, now: now, into: &out)
        case .autoscale(let changes):
            guard !stopping else { break }
            for c in changes {
                out.append(.event(.autoscaled(c.stage, from: c.from, to: c.to, reason: c.reason)))
                out.append(.log(.info, "autoscale: \(c.stage.rawValue) \(c.from) → \(c.to): \(c.reason)"))
                process(reconciler.handle(.scale(c.stage, c.to), now: now), now: now, into: &out)
            }
        case .down:
            if !stopping && !readingStopped {
                out.append(.event(.downRequested))
                out.append(.log(.info, "`pipeline down`: finishing the batches already read, then stopping"))
                stopReading(into: &out)
            }
        case .interrupt:
            interrupt(now: now, into: &out)
        case .outputFailed(let stream, let closed, let message):
            outputFailed(stream, closed: closed, message: message, now: now, into: &out)
        case .fail(let code, let message):
            fail(code, message, now: now, into: &out)
        case .rollout(let client, let command):
            rollout(client: client, command, now: now, into: &out)
        case .versionsAck(let pid, let generation, let failures):
            if !stopping { versionsAcked(pid: pid, generation: generation, failures: failures, now: now, into: &out) }
        }
        if !stopping && ledger.isFinished {
            if settings.failWhenEverythingRejected && ledger.recordsRead > 0 && ledger.rejectedCommitted >= ledger.recordsRead {
                let n = ledger.recordsRead
                fail(.inputMismatch, "every record read (\(n)) was rejected: does the input match the config's format "
                     + "(\(settings.inputFormat.rawValue)) and schema? See the rejected records. Set input.max_errors to let such a run succeed",
                     now: now, into: &out)
            } else {
                stop(.ok, reason: "every batch read is written", now: now, into: &out)
            }
        }
        answerScales(now: now, into: &out)
        return out
    }

    // MARK: Routing

    /// Passes the reconciler's actions on, acting on the decisions that involve the batches
    /// or the run.
    private mutating func process(_ actions: [Reconciler.Action], now: UInt64, into out: inout [Action]) {
        for action in actions {
            switch action {
            case .spawn(let id): out.append(.spawn(id))
            case .signal(let pid, let signal): out.append(.signal(pid: pid, signal))
            case .configure(let id):
                rollout.configured(id)
                out.append(.configure(id))
            case .shutdown(let id): out.append(.shutdown(id))
            case .drain(let id): out.append(.drain(id))
            case .membership(let m, let recipient): out.append(.membership(m, to: recipient))
            case .refuse(let pid, let reason): out.append(.refuse(pid: pid, reason: reason))
            case .log(let level, let message): out.append(.log(level, message))
            case .event(let e):
                out.append(.event(e))
                if case .replicaExited(let id, _, _, _) = e {
                    rollout.forget(id)
                    if !stopping { checkLoad(now: now, into: &out) }
                }
            case .startFailed(let id, let termination, let message):
                // A model version just rolled in may be what keeps it from starting: back to the one before.
                if !stopping && versionStartFailure(id, message: "\(termination): \(message ?? "no message")", into: &out) { break }
                // It could not start (bad model, bad config): restarting will not help.
                fail(.stageFailed, "\(id) failed to start (\(termination)): \(message ?? "no message")", logOf: id, now: now, into: &out)
            case .lostWhileDraining(let id, let pid, let termination):
                // It was leaving anyway: nothing to restart, but what it held must be sent again.
                out.append(.log(.info, "\(id) (pid \(pid)) \(termination) while draining; re-sending the batches in flight"))
                batches(ledger.handle(.replay, now: now), now: now, into: &out)
            case .crashed(let id, let pid, let termination, let work, let blameable, let jitter):
                var counts = true
                // Only a death the replica brought on itself (a crash, an abort, a hang we ended)
                // can be the batch's fault; a kill from outside (kill -9, the OOM killer) never is.
                if blameable, let work, !stopping, versionCrash(id, work: work, termination: termination, now: now, into: &out) {
                    // The version's fault, not the batch's: it is counted against the version (and
                    // rolls it back past the limit), not against the stage's restart limit.
                    counts = false
                } else if blameable, let work {
                    let verdict = ledger.handle(.crashed(work, stage: id.stage, termination: termination), now: now)
                    counts = !verdict.contains { if case .isolating = $0 { true } else if case .poison = $0 { true } else { false } }
                    batches(verdict, now: now, into: &out)
                }
                for decision in reconciler.handle(.crashCounted(id, counts: counts, jitter: jitter), now: now) {
                    switch decision {
                    case .restartScheduled:
                        out.append(.log(.info, "\(id) (pid \(pid)) \(termination); restarting it and re-sending the batches in flight"))
                        batches(ledger.handle(.replay, now: now), now: now, into: &out)
                    case .restartLimitExceeded:
                        let spec = settings.reconciler.spec(id.stage)
                        fail(.stageFailed, "stage \(id.stage.rawValue) failed: \(id) (pid \(pid)) \(termination), more than \(counted(spec.maxRestarts, "restart")) within \(spec.restartWindowSeconds) s (restart.max); last committed input line \(ledger.lastCommittedLine)",
                             logOf: id, now: now, into: &out)
                    default:
                        process([decision], now: now, into: &out)
                    }
                }
            case .cannotStart(let id, let message):
                fail(.environment, "cannot start \(id): \(message)", now: now, into: &out)
            case .restartScheduled, .restartLimitExceeded:
                break  // only answers to .crashCounted, handled above
            }
        }
    }

    /// Passes the ledger's actions on; checks the rejected-records limit after commits.
    private mutating func batches(_ actions: [BatchLedger<Output>.Action], now: UInt64, into out: inout [Action]) {
        var committed = false
        for action in actions {
            switch action {
            case .send(let sequence, let unit, let replay): out.append(.send(sequence, unit: unit, replay: replay))
            case .split(let sequence): out.append(.split(sequence))
            case .poison(let sequence, let part, let line, let byteOffset, let crashes, let stage, let termination):
                out.append(.poison(sequence, part: part, line: line, byteOffset: byteOffset, crashes: crashes, stage: stage, termination: termination))
            case .isolating: break
            case .write(let sequence, let pieces, let lines):
                out.append(.write(sequence, pieces, lines: lines))
                committed = true
                versionCommitted(sequence, pieces, into: &out)
                watchDrift(pieces, lines: lines, into: &out)
            case .log(let level, let message): out.append(.log(level, message))
            case .event(let e): out.append(.event(e))
            }
        }
        let limit = settings.maxErrors
        if committed && limit >= 0 && ledger.rejectedCommitted > limit {
            fail(.inputErrors, "stopped: \(counted(ledger.rejectedCommitted, "record")) rejected, more than input.max_errors = \(limit); last committed input line \(ledger.lastCommittedLine)",
                 now: now, into: &out)
        }
    }

    // MARK: The run

    private mutating func stopReading(into out: inout [Action]) {
        guard !readingStopped else { return }
        readingStopped = true
        out.append(.stopReading)
    }

    /// Ends the run: every replica is told to exit; `isDone` once all have.
    private mutating func stop(_ code: ExitCode, reason: String, now: UInt64, into out: inout [Action]) {
        guard !stopping else { return }
        if exitCode == .ok { exitCode = code }
        finishDrift(into: &out)
        endShadowReport(into: &out)
        if case .loading(let v, _, let client, _, _) = rollout.phase {
            out.append(.reply(client: client, status: .notRunning, text: "the pipeline stopped before version \(v.id) was rolled out", withStatus: false))
        }
        out.append(.event(.runStopping(code: exitCode, reason: reason)))
        stopReading(into: &out)
        stopping = true
        out.append(.endDataPath)
        process(reconciler.handle(.stop, now: now), now: now, into: &out)
    }

    /// Ends the run with an error message.
    private mutating func fail(_ code: ExitCode, _ message: String, logOf: ReplicaID? = nil, now: UInt64, into out: inout [Action]) {
        guard !stopping else { return }
        out.append(.log(.error, message, logOf: logOf))
        exitCode = code
        stop(code, reason: message, now: now, into: &out)
    }

    /// The first interrupt finishes what was read (exit 130, unless the run already has a
    /// reason to fail, or had already finished); the second kills everything at once.
    private mutating func interrupt(now: UInt64, into out: inout [Action]) {
        interrupts += 1
        out.append(.event(.interrupted(forced: interrupts > 1)))
        if interrupts == 1 {
            if stopping {
                out.append(.log(.info, "interrupted while stopping: finishing the replicas' exit and the output (again to force)"))
                return
            }
            if exitCode == .ok { exitCode = .interrupted }
            out.append(.log(.info, "interrupted: finishing the batches already read (again to force)"))
            stopReading(into: &out)
        } else if !forced {
            out.append(.log(.info, "forced stop"))
            if exitCode == .ok { exitCode = .interrupted }
            forced = true
            stopReading(into: &out)
            if !stopping {
                stopping = true
                out.append(.endDataPath)
            }
            process(reconciler.handle(.force, now: now), now: now, into: &out)
        }
    }

    private mutating func outputFailed(_ stream: Stream, closed: Bool, message: String, now: UInt64, into out: inout [Action]) {
        guard !failedStreams.contains(where: { $0.stream == stream }) else { return }
        failedStreams.append((stream, message))
        let name: String
        switch stream {
        case .stdout: name = "stdout"
        case .errors(let n), .events(let n): name = n
        }
        out.append(.event(.outputFailed(stream: name, message: message)))
        switch stream {
        case .stdout where closed:
            // `| head` closed our stdout: stop quietly.
            stop(.ok, reason: "stdout was closed by its reader", now: now, into: &out)
        case .stdout where stopping:
            // What is written after the end was decided (the CSV header of an empty input)
            // can fail too: never an exit 0.
            out.append(.log(.error, "writing stdout: \(message)"))
            if exitCode == .ok { exitCode = .io }
        case .stdout:
            fail(.io, "writing stdout: \(message)", now: now, into: &out)
        case .errors(let name):
            // The records themselves still reach stdout; only their error entries are lost. The
            // run goes on and ends with exit code 10 (`exitCode`, unless something worse).
            out.append(.log(.error, "writing rejected records to \(name) failed (\(message)): the output goes on, but the run will exit 10"))
            if exitCode == .ok { exitCode = .io }
        case .events(let name):
            out.append(.log(.error, "writing the event log to \(name) failed (\(message)): the output goes on, but the run will exit 10"))
            if exitCode == .ok { exitCode = .io }
        }
    }

    private mutating func scale(client: Int, _ targets: [Target], now: UInt64, into out: inout [Action]) {
        guard !stopping else {
            out.append(.event(.scaleRequested(client: client, targets)))
            out.append(.event(.scaleAnswered(client: client, status: .notRunning, text: "the pipeline is stopping")))
            out.append(.reply(client: client, status: .notRunning, text: "the pipeline is stopping", withStatus: false))
            return
        }
        out.append(.event(.scaleRequested(client: client, targets)))
        var parts: [String] = []
        for target in targets {
            let stage = target.stage.rawValue
            let before = reconciler.desired[target.stage] ?? 0
            var part = "\(stage): \(reconciler.replicas(of: target.stage).filter(\.isActive).count) → \(target.replicas)"
            // Zero is a deliberate pause: said where the user looks (stderr, the reply, ps, events).
            if target.replicas == 0 && before > 0 {
                part += " (paused: batches wait before \(stage) until `pipeline scale \(stage)=N`)"
                out.append(.log(.info, "\(stage) paused by `pipeline scale \(stage)=0`: batches wait before it until `pipeline scale \(stage)=N`"))
                out.append(.event(.stagePaused(target.stage)))
            } else if target.replicas > 0 && before == 0 {
                out.append(.log(.info, "\(stage) resumed with \(target.replicas) replica\(target.replicas == 1 ? "" : "s")"))
                out.append(.event(.stageResumed(target.stage, replicas: target.replicas)))
            }
            parts.append(part)
            process(reconciler.handle(.scale(target.stage, target.replicas), now: now), now: now, into: &out)
        }
        waits.append(ScaleWait(client: client, targets: targets, deadline: now + settings.scaleTimeoutNanos,
                               summary: parts.joined(separator: ", ")))
    }

    /// Answers the `scale` requests whose stages have reached their counts (the requested
    /// ones, or those of a later request that changed them meanwhile).
    private mutating func answerScales(now: UInt64, into out: inout [Action]) {
        guard !waits.isEmpty else { return }
        waits.removeAll { wait in
            let reply: Action
            if stopping {
                reply = .reply(client: wait.client, status: .notRunning, text: "the pipeline stopped before scaling \(wait.summary) completed", withStatus: false)
            } else if wait.targets.allSatisfy({ reconciler.isSettled($0.stage) }) {
                let changed = wait.targets.filter { reconciler.desired[$0.stage] != $0.replicas }
                    .map { "\($0.stage.rawValue) is at \(reconciler.desired[$0.stage] ?? 0)" }
                reply = .reply(client: wait.client, status: .ok, text: "scaled \(wait.summary)"
                               + (changed.isEmpty ? "" : "; then a later request changed it: " + changed.joined(separator: ", ")),
                               withStatus: false)
            } else if now > wait.deadline {
                reply = .reply(client: wait.client, status: .stageFailed, text: "scaling \(wait.summary) did not complete:", withStatus: true)
            } else {
                return false
            }
            if case .reply(let client, let status, let text, _) = reply {
                out.append(.event(.scaleAnswered(client: client, status: status, text: text)))
            }
            out.append(reply)
            return true
        }
    }
}
