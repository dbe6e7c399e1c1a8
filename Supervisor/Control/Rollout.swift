import Config
import Messages

/// The model versions of a run and the rollout between them, as a value: which version scores
/// each batch (decided from its sequence number alone, so a replayed batch gets the same one),
/// which versions the replicas must hold, and what a rollout is waiting for. `ControlCore`
/// drives it with the replicas' answers, the commits and the crashes, and carries out its steps.
public struct Rollout: Sendable {
    /// One version of the model part of the config, in the replicas' slot `slot`.
    public struct Version: Sendable, Equatable, CustomStringConvertible {
        public let slot: UInt16
        public let id: String
        public init(slot: UInt16, id: String) {
            self.slot = slot
            self.id = id
        }
        public var description: String { id }
    }

    /// How a new version is rolled in.
    public enum Mode: Sendable, Equatable {
        /// Every batch from the switch on.
        case cutover
        /// `basisPoints` / 100 % of the batches from the switch on.
        case canary(basisPoints: Int)
        /// Every batch too, its results compared and not written.
        case shadow

        public var name: String {
            switch self {
            case .cutover: "cutover"
            case .canary: "canary"
            case .shadow: "shadow"
            }
        }
    }

    public enum Phase: Sendable, Equatable {
        /// Every batch goes to `primary`.
        case steady
        /// The replicas are loading `version`; batches still go to `primary`.
        case loading(Version, Mode, client: Int, generation: UInt64, deadline: UInt64)
        /// From batch `from` on, the canary share goes to `version`.
        case canary(Version, basisPoints: Int, from: UInt64)
        /// From batch `from` on, `version` scores every batch as a shadow.
        case shadow(Version, from: UInt64)
    }

    /// The version batches go to (outside a canary's share).
    public private(set) var primary: Version
    /// The version `primary` replaced, kept loaded so that a rollback needs no loading.
    public private(set) var previous: Version?
    public private(set) var phase: Phase = .steady
    /// Versions no new batch goes to, held until every batch of theirs up to `through` is committed.
    public private(set) var retiring: [(version: Version, through: UInt64)] = []
    /// The version rolled in last, watched for crashes until `watchedUntil` (or the next
    /// rollout); and when replicas crashed on its batches (within the crashing stage's restart window).
    public private(set) var watched: Version?
    public private(set) var watchedUntil: UInt64 = 0
    var crashTimes: [UInt64] = []
    public var crashes: Int { crashTimes.count }
    /// Increases with every change of the live set (`VersionSet.generation`).
    public private(set) var generation: UInt64 = 1
    /// The slot the next version gets.
    public private(set) var nextSlot: UInt16 = 1
    /// The config generation each replica was started with.
    var configured: [ReplicaID: UInt64] = [:]
    /// The last generation each replica confirmed.
    var acked: [ReplicaID: UInt64] = [:]
    /// The generation of the last set that gave replicas a version to build: a replica that has
    /// not confirmed it (or a later one) is still building, whatever became of the rollout.
    public private(set) var buildGeneration: UInt64 = 0
    /// Committed records per version id (exactly once: counted at commit).
    public private(set) var recordsByVersion: [String: Int] = [:]
    /// The current (or last) shadow's figures, from committed batches only.
    public private(set) var shadowStats: ShadowStats?
    /// The shadow's rows at its last periodic `shadow` event (reset with `shadowStats`).
    var shadowReportedRows: UInt64 = 0
    public private(set) var shadowVersion: Version?
    /// Every version's id by slot, since the run began (a batch may be committed after its
    /// version has retired).
    private var names: [UInt16: String] = [:]
    /// The last steps, for `ps`.
    public private(set) var history: [String] = []
    /// Rollbacks so far.
    public private(set) var rollbacks = 0
    /// Slots of versions rolled back, aborted or refused: a crash on a frame that still names
    /// one is theirs, not its batch's.
    public private(set) var failedSlots: Set<UInt16> = []

    /// What `version` is to the run now: primary, canary, shadow, loading, previous or retiring.
    public func role(of version: Version) -> String {
        if version == primary { return "primary" }
        switch phase {
        case .loading(let v, _, _, _, _) where v == version: return "loading"
        case .canary(let v, _, _) where v == version: return "canary"
        case .shadow(let v, _) where v == version: return "shadow"
        default: break
        }
        return version == previous ? "previous" : "retiring"
    }

    public init(initial: Version) {
        primary = initial
        nextSlot = initial.slot &+ 1
        names[initial.slot] = initial.id
    }

    // MARK: Queries

    /// The versions the replicas hold: the primary first.
    public var live: [Version] {
        var out = [primary]
        func add(_ v: Version?) { if let v, !out.contains(v) { out.append(v) } }
        add(candidate)
        add(previous)
        for r in retiring { add(r.version) }
        return out
    }

    /// The version being loaded, canaried or shadowed.
    public var candidate: Version? {
        switch phase {
        case .steady: nil
        case .loading(let v, _, _, _, _), .canary(let v, _, _), .shadow(let v, _): v
        }
    }

    /// The versions that score batch `sequence` when it is cut now.
    public func slots(for sequence: UInt64) -> ModelSlots {
        switch phase {
        case .steady, .loading: return ModelSlots(primary: primary.slot)
        case .canary(let v, let bp, let from):
            return ModelSlots(primary: Self.inCanary(sequence &- from, basisPoints: bp) ? v.slot : primary.slot)
        case .shadow(let v, _): return ModelSlots(primary: primary.slot, shadow: v.slot)
        }
    }

    /// Whether the `k`-th batch since a canary began goes to the canary: exactly
    /// ⌊(k+1)·p⌋ − ⌊k·p⌋ (p = basisPoints / 10 000), so that every run of n consecutive batches
    /// holds ⌊n·p⌋ or ⌈n·p⌉ of them, whatever the replays.
    public static func inCanary(_ k: UInt64, basisPoints: Int) -> Bool {
        let p = UInt64(max(0, min(basisPoints, 10_000)))
        let (a, o1) = (k &+ 1).multipliedReportingOverflow(by: p)
        let (b, o2) = k.multipliedReportingOverflow(by: p)
        guard !o1 && !o2 else { return false }
        return a / 10_000 > b / 10_000
    }

    /// The version with this slot, if live.
    public func version(slot: UInt16) -> Version? { live.first { $0.slot == slot } }

    // MARK: Steps (called by ControlCore)

    mutating func record(_ step: String) {
        history.append(step)
        if history.count > 8 { history.removeFirst(history.count - 8) }
    }

    /// Starts loading `version`; returns the new generation. The version rolled in before is
    /// accepted: no longer watched.
    mutating func load(_ version: Version, mode: Mode, client: Int, deadline: UInt64) -> UInt64 {
        watched = nil
        crashTimes = []
        nextSlot = version.slot == ModelSlots.maxSlot ? 1 : version.slot + 1
        names[version.slot] = version.id
        generation += 1
        buildGeneration = generation
        phase = .loading(version, mode, client: client, generation: generation, deadline: deadline)
        return generation
    }

    /// Every replica holds the loaded version: batches from `from` on follow `mode`; it is
    /// watched for crashes until `watchUntil`.
    mutating func switchOver(from: UInt64, watchUntil: UInt64) {
        guard case .loading(let v, let mode, _, _, _) = phase else { return }
        watched = v
        watchedUntil = watchUntil
        crashTimes = []
        switch mode {
        case .cutover: makePrimary(v, lastOld: from &- 1)
        case .canary(let bp): phase = .canary(v, basisPoints: bp, from: from)
        case .shadow:
            phase = .shadow(v, from: from)
            shadowVersion = v
            shadowStats = ShadowStats()
            shadowReportedRows = 0
        }
    }

    /// `v` scores every batch from `lastOld + 1` on.
    mutating func makePrimary(_ v: Version, lastOld: UInt64) {
        if let p = previous, p != primary, p != v { retiring.append((p, lastOld)) }
        if primary != v { previous = primary }
        primary = v
        phase = .steady
        generation += 1
    }

    /// Ends the canary or shadow (or a load): the candidate is dropped from the replicas at once
    /// (its uncommitted batches are given the primary's slot by the caller).
    mutating func dropCandidate() {
        if let v = candidate { failedSlots.insert(v.slot) }
        if watched == candidate { watched = nil }
        phase = .steady
        generation += 1
    }

    /// Rolls back from `bad` to the previous version (or, while it is a candidate, to the primary).
    mutating func rollBack(_ bad: Version) -> Version {
        let target: Version
        if bad == primary, let p = previous {
            target = p
            primary = p
            previous = nil
        } else {
            target = primary
        }
        retiring.removeAll { $0.version == bad }
        if candidate == bad { phase = .steady }
        rollbacks += 1
        failedSlots.insert(bad.slot)
        watched = nil
        crashTimes = []
        generation += 1
        return target
    }

    /// Counts a crash at `now` on the watched version's batches; returns the crashes within
    /// the last `window` nanoseconds.
    mutating func countCrash(now: UInt64, window: UInt64) -> Int {
        crashTimes.removeAll { $0 + window < now }
        crashTimes.append(now)
        return crashTimes.count
    }

    /// Ends the watch once its time is over.
    mutating func endWatch(now: UInt64) -> Version? {
        guard let w = watched, now >= watchedUntil else { return nil }
        watched = nil
        crashTimes = []
        return w
    }

    /// Forgets retiring versions whose batches are all committed (below `nextCommit`); returns
    /// them (the live set changed when there are any).
    mutating func retireCommitted(nextCommit: UInt64) -> [Version] {
        // `through` is .max for a version replaced before any batch was cut: it has none.
        func written(_ through: UInt64) -> Bool { through == .max || through < nextCommit }
        let done = retiring.filter { written($0.through) }.map(\.version)
        guard !done.isEmpty else { return [] }
        retiring.removeAll { written($0.through) }
        generation += 1
        return done
    }

    mutating func committed(records: Int, slot: UInt16, shadow: ShadowStats?) {
        if let id = names[slot] { recordsByVersion[id, default: 0] += records }
        // The figures are the shadow's while it runs: what is committed after it ended is not added.
        if let shadow, shadowStats != nil, case .shadow = phase { shadowStats!.merge(shadow) }
    }

    mutating func configured(_ id: ReplicaID) { configured[id] = generation }

    /// True once replica `id` has been sent its config (so it can take a `VersionSet`).
    public func isConfigured(_ id: ReplicaID) -> Bool { configured[id] != nil }

    mutating func acked(_ id: ReplicaID, generation g: UInt64) { acked[id] = max(acked[id] ?? 0, g) }

    /// True when replica `id` holds the versions of generation `g` (or will: it is not configured yet).
    func holds(_ id: ReplicaID, generation g: UInt64) -> Bool {
        guard let c = configured[id] else { return true }
        return c >= g || (acked[id] ?? 0) >= g
    }

    mutating func forget(_ id: ReplicaID) {
        configured[id] = nil
        acked[id] = nil
    }
}
