import Config
import Messages

/// What `pipeline rollout` asks of the core.
public enum RolloutCommand: Sendable, Equatable {
    /// Roll `version` in (its slot is `Rollout.nextSlot`): the shell has checked it loads and fits.
    case begin(Rollout.Version, Rollout.Mode)
    /// The canary's or shadow's version takes every batch from the next one on.
    case promote
    /// The canary or shadow (or a load) ends; the primary keeps every batch.
    case abort
}

/// One step of a rollout, as the event log writes it.
public struct RolloutStep: Sendable, Equatable {
    /// loading, switched, promoted, aborted, load_failed, rolled_back, retired
    public var step: String
    public var version: String
    /// The version it replaces or returns to.
    public var other: String?
    public var mode: String?
    /// The first input line the step applies to.
    public var line: UInt64?
    /// The file `pipeline rollout` was given (a step before the version has an id).
    public var path: String?
    public var message: String?

    public init(step: String, version: String, other: String? = nil, mode: String? = nil, line: UInt64? = nil, path: String? = nil,
                message: String? = nil) {
        self.step = step
        self.version = version
        self.other = other
        self.mode = mode
        self.line = line
        self.path = path
        self.message = message
    }
}

/// Model rollouts: the core's side (see `Rollout`). The switch happens between two batch
/// sequence numbers, so every record before a line is scored by one version and every record
/// from it on by the other; replays keep their batch's version; a rollback re-scores the
/// uncommitted batches of the version that failed with the one it returns to.
extension ControlCore {
    /// The stages that hold model versions.
    static var versionedStages: [StageKind] { [.featurize, .infer, .aggregate] }

    /// The first input line of the next batch to be cut.
    var nextLine: UInt64 { ledger.lastCutLine + 1 }

    mutating func rollout(client: Int, _ command: RolloutCommand, now: UInt64, into out: inout [Action]) {
        func answer(_ status: ExitCode, _ text: String) {
            out.append(.reply(client: client, status: status, text: text, withStatus: false))
        }
        guard !stopping else { return answer(.notRunning, "the pipeline is stopping") }
        switch command {
        case .begin(let version, let mode):
            guard rollout.phase == .steady else {
                return answer(.usage, "a rollout is already in progress (\(describe(rollout.phase))): `pipeline rollout --promote` or `--abort` it first")
            }
            guard version.id != rollout.primary.id else { return answer(.usage, "version \(version.id) is already the live version") }
            guard version.slot == rollout.nextSlot else { preconditionFailure("a version's slot is Rollout.nextSlot") }
            let generation = rollout.load(version, mode: mode, client: client, deadline: now + settings.scaleTimeoutNanos)
            out.append(.versions(generation: generation))
            out.append(.event(.rollout(RolloutStep(step: "loading", version: version.id, other: rollout.primary.id, mode: mode.name))))
            out.append(.log(.info, "rollout: loading version \(version.id) (\(mode.name)) into the featurize, infer and aggregate replicas"))
            checkLoad(now: now, into: &out)
        case .promote:
            switch rollout.phase {
            case .canary(let v, _, _), .shadow(let v, _):
                let from = ledger.nextSequence, line = nextLine, old = rollout.primary
                endShadowReport(into: &out)
                rollout.makePrimary(v, lastOld: from &- 1)
                rollout.record("promoted \(v.id) from line \(line)")
                out.append(.versions(generation: rollout.generation))
                out.append(.event(.rollout(RolloutStep(step: "promoted", version: v.id, other: old.id, line: line))))
                out.append(.log(.info, "rollout: version \(v.id) promoted: it scores every record from input line \(line) on (\(old.id) before)"))
                answer(.ok, "promoted \(v.id): every record from input line \(line) on is scored by \(v.id); before it, \(old.id)")
            default:
                answer(.usage, "nothing to promote: no canary or shadow is running (\(describe(rollout.phase)))")
            }
        case .abort:
            switch rollout.phase {
            case .canary(let v, _, _), .shadow(let v, _), .loading(let v, _, _, _, _):
                if case .loading(_, _, let waiting, _, _) = rollout.phase {
                    out.append(.reply(client: waiting, status: .stageFailed, text: "rollout of \(v.id) aborted by `pipeline rollout --abort`", withStatus: false))
                }
                endShadowReport(into: &out)
                rollout.dropCandidate()
                // Its batches not yet written go to the live version too: nothing is left for it.
                let line = retag(away: v, into: &out)
                rollout.record("aborted \(v.id) from line \(line)")
                out.append(.versions(generation: rollout.generation))
                out.append(.event(.rollout(RolloutStep(step: "aborted", version: v.id, other: rollout.primary.id, line: line))))
                out.append(.log(.info, "rollout: version \(v.id) aborted: \(rollout.primary.id) scores every record from input line \(line) on"))
                answer(.ok, "aborted \(v.id): every record from input line \(line) on is scored by \(rollout.primary.id)")
            case .steady:
                answer(.usage, "nothing to abort: no rollout is in progress (live version \(rollout.primary.id))")
            }
        }
    }

    /// A replica confirmed generation `generation`, except for `failures`.
    mutating func versionsAcked(pid: Int32, generation: UInt64, failures: [VersionsAck.Failure], now: UInt64, into out: inout [Action]) {
        guard let id = reconciler.replica(pid: pid)?.id else { return }
        // Its loop is back from building: a sign of life, as a heartbeat is.
        signOfLife(pid: pid, now: now)
        rollout.acked(id, generation: generation)
        for f in failures {
            guard let v = rollout.version(slot: f.slot) else { continue }
            if v == rollout.candidate || v == rollout.watched {
                if case .loading(_, _, let client, _, _) = rollout.phase {
                    failLoad(v, client: client, message: "\(id) cannot load it: \(f.message)", into: &out)
                } else {
                    rollBack(v, reason: "\(id) cannot load it: \(f.message)", into: &out)
                }
            } else {
                out.append(.log(.error, "\(id) cannot load model version \(v.id): \(f.message)"))
            }
        }
        checkLoad(now: now, into: &out)
    }

    /// While loading: switches once every replica holds the new version; gives up at the deadline.
    mutating func checkLoad(now: UInt64, into out: inout [Action]) {
        guard case .loading(let v, let mode, let client, let generation, let deadline) = rollout.phase else { return }
        let waiting = Self.versionedStages.flatMap { reconciler.replicas(of: $0) }
            .filter { $0.isAlive && $0.state != .stopping && !rollout.holds($0.id, generation: generation) }
        if waiting.isEmpty {
            let from = ledger.nextSequence, line = nextLine, old = rollout.primary
            rollout.switchOver(from: from, watchUntil: now + settings.watchNanos)
            if case .cutover = mode { out.append(.versions(generation: rollout.generation)) }
            let text: String
            switch mode {
            case .cutover:
                text = "rolled out \(v.id): every record from input line \(line) on is scored by \(v.id); before it, \(old.id)"
            case .canary(let bp):
                text = "canary \(v.id) started at input line \(line): it scores \(Self.percent(bp)) % of the batches, \(old.id) the rest, until `pipeline rollout --promote` or `--abort`"
            case .shadow:
                text = "shadow \(v.id) started at input line \(line): it scores every batch too, its results are compared with \(old.id)'s and not written, until `pipeline rollout --promote` or `--abort`"
            }
            rollout.record("\(mode.name) \(v.id) from line \(line)")
            out.append(.event(.rollout(RolloutStep(step: "switched", version: v.id, other: old.id, mode: mode.name, line: line))))
            out.append(.log(.info, "rollout: " + text))
            out.append(.reply(client: client, status: .ok, text: text, withStatus: false))
        } else if now > deadline {
            failLoad(v, client: client, message: "not loaded by " + waiting.map { "\($0.id)" }.joined(separator: ", ")
                     + " within \(seconds(settings.scaleTimeoutNanos))", into: &out)
        }
    }

    /// Gives the uncommitted batches that `v` scores the primary's slot alone; they are sent
    /// again. Returns the first input line from which every record is the primary's.
    private mutating func retag(away v: Rollout.Version, into out: inout [Action]) -> UInt64 {
        let slots = ModelSlots(primary: rollout.primary.slot)
        let retagged = ledger.retag(where: { $0.includes(v.slot) }, to: slots)
        if !retagged.isEmpty { out.append(.retag(retagged, slots)) }
        return retagged.first.flatMap { ledger.batch($0)?.firstLine } ?? nextLine
    }

    /// The new version could not be loaded: nothing switched.
    private mutating func failLoad(_ v: Rollout.Version, client: Int, message: String, into out: inout [Action]) {
        rollout.dropCandidate()
        rollout.record("load of \(v.id) failed")
        out.append(.versions(generation: rollout.generation))
        out.append(.event(.rollout(RolloutStep(step: "load_failed", version: v.id, other: rollout.primary.id, message: message))))
        out.append(.log(.error, "rollout: version \(v.id) refused: \(message); \(rollout.primary.id) goes on untouched"))
        out.append(.reply(client: client, status: .stageFailed,
                          text: "rollout refused: version \(v.id): \(message); the stream goes on untouched with \(rollout.primary.id)", withStatus: false))
    }

    /// Returns to the version before `bad`: its uncommitted batches are scored again by it.
    mutating func rollBack(_ bad: Rollout.Version, reason: String, into out: inout [Action]) {
        if case .loading(let loading, _, let client, _, _) = rollout.phase, loading == bad {
            return failLoad(bad, client: client, message: reason, into: &out)
        }
        endShadowReport(into: &out)
        let target = rollout.rollBack(bad)
        let retagged = ledger.retag(where: { $0.includes(bad.slot) }, to: ModelSlots(primary: target.slot))
        let line = retagged.first.flatMap { ledger.batch($0)?.firstLine } ?? nextLine
        rollout.record("rolled back \(bad.id) → \(target.id) from line \(line)")
        if !retagged.isEmpty { out.append(.retag(retagged, ModelSlots(primary: target.slot))) }
        out.append(.versions(generation: rollout.generation))
        out.append(.event(.rollout(RolloutStep(step: "rolled_back", version: bad.id, other: target.id, line: line, message: reason))))
        out.append(.log(.error, "rollout: rolled back from \(bad.id) to \(target.id) (\(reason)): every record from input line \(line) on is scored by \(target.id)"
                        + (retagged.isEmpty ? "" : "; \(counted(retagged.count, "batch")) in flight re-scored")))
    }

    /// A replica crashed on a batch of the watched version: counted against it, not the batch.
    /// - Returns: true when the crash was the version's (the batch is not blamed).
    mutating func versionCrash(_ id: ReplicaID, work: ReplicaWork, termination: Termination, now: UInt64, into out: inout [Action]) -> Bool {
        // Ingest is the same for every version.
        guard Self.versionedStages.contains(id.stage) else { return false }
        // A frame still naming a version already rolled back (it was in flight): that version's doing.
        if let model = work.model, rollout.failedSlots.contains(model.primary) || model.shadow.map(rollout.failedSlots.contains) == true {
            out.append(.log(.info, "\(id) \(termination) on a batch of a model version already rolled back; the batch goes on with the version it has now"))
            return true
        }
        guard let w = rollout.watched, let batch = ledger.batch(work.sequence), (work.model ?? batch.model).includes(w.slot) else { return false }
        let spec = settings.reconciler.spec(id.stage)
        let n = rollout.countCrash(now: now, window: UInt64(spec.restartWindowSeconds * 1e9))
        let limit = settings.versionCrashLimit ?? spec.maxRestarts
        out.append(.log(.error, "\(id) \(termination) on a batch of model version \(w.id): crash \(n) of the version within \(spec.restartWindowSeconds) s (more than \(limit), restart.max, rolls it back)"))
        if n > limit {
            rollBack(w, reason: "\(id.stage.rawValue) replicas crashed \(counted(n, "time")) on its batches within \(spec.restartWindowSeconds) s (restart.max \(limit))", into: &out)
        }
        return true
    }

    /// A replica of a versioned stage failed to start while a version is watched: roll it back
    /// (a second failure, with the version gone, fails the run as usual).
    mutating func versionStartFailure(_ id: ReplicaID, message: String, into out: inout [Action]) -> Bool {
        guard Self.versionedStages.contains(id.stage), let w = rollout.candidate ?? rollout.watched else { return false }
        rollBack(w, reason: "\(id) failed to start: \(message)", into: &out)
        return true
    }

    /// Counts a committed batch for its version, and retires versions whose batches are all in.
    mutating func versionCommitted(_ sequence: UInt64, _ pieces: [Output], into out: inout [Action]) {
        guard let batch = ledger.batch(sequence) else { return }
        let rows = pieces.reduce(0) { $0 + $1.records - $1.rejected }
        var shadow: ShadowStats?
        if let s = batch.model.shadow, s == rollout.shadowVersion?.slot {
            for p in pieces { if let theirs = p.shadow { shadow = shadow ?? ShadowStats(); shadow!.merge(theirs) } }
        }
        rollout.committed(records: rows, slot: batch.model.primary, shadow: shadow)
        if shadow != nil, let stats = rollout.shadowStats, stats.rows >= rollout.shadowReportedRows + 100_000 {
            rollout.shadowReportedRows = stats.rows
            out.append(.event(.shadow(version: rollout.shadowVersion!.id, against: rollout.primary.id, stats, final: false)))
        }
        retireVersions(nextCommit: sequence + 1, into: &out)
    }

    /// Retires the versions whose batches are all below `nextCommit` (written): the replicas let
    /// them go, and their weights leave the run directory.
    mutating func retireVersions(nextCommit: UInt64, into out: inout [Action]) {
        let retired = rollout.retireCommitted(nextCommit: nextCommit)
        guard !retired.isEmpty else { return }
        for v in retired {
            out.append(.event(.rollout(RolloutStep(step: "retired", version: v.id, other: rollout.primary.id))))
            out.append(.log(.info, "rollout: version \(v.id) retired: its batches are all written; the replicas let it go"))
        }
        out.append(.versions(generation: rollout.generation))
    }

    /// The shadow's figures so far, as an event, when a shadow ends (or the run does).
    mutating func endShadowReport(into out: inout [Action]) {
        guard case .shadow(let v, _) = rollout.phase, let stats = rollout.shadowStats else { return }
        out.append(.event(.shadow(version: v.id, against: rollout.primary.id, stats, final: true)))
        out.append(.log(.info, "shadow \(v.id) against \(rollout.primary.id): " + Self.describe(stats)))
    }

    /// "1,234 records compared: labels differ on 12 (0.97 %); largest probability difference 0.31, mean 0.012"
    public static func describe(_ s: ShadowStats) -> String {
        "\(counted(Int(s.rows), "record")) compared: labels differ on \(s.labelDisagreements) (\(formatShare(s.disagreementShare)) %); "
            + "largest probability difference \(DriftWatch.format(Double(s.maxDifference))), mean \(DriftWatch.format(s.meanRowMaximum))"
    }

    /// "3.90": a share (0...1) as a percentage with two decimals.
    public static func formatShare(_ share: Double) -> String {
        let hundredths = Int((share * 10_000).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }

    /// "10", "12.5", "0.25": a canary's share as it was given.
    public static func percent(_ basisPoints: Int) -> String {
        basisPoints % 100 == 0 ? "\(basisPoints / 100)" : "\(Double(basisPoints) / 100)"
    }

    func describe(_ phase: Rollout.Phase) -> String {
        switch phase {
        case .steady: "live version \(rollout.primary.id)"
        case .loading(let v, let mode, _, _, _): "loading \(v.id) for a \(mode.name)"
        case .canary(let v, let bp, _): "canary \(v.id) at \(Self.percent(bp)) %"
        case .shadow(let v, _): "shadow \(v.id)"
        }
    }
}
