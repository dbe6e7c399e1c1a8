import Config

/// The autoscaling policy, as a value: given what each stage did over the last interval, which
/// replica counts the stages should have. It decides nothing else (the reconciler starts and
/// drains replicas as for `pipeline scale`) and reads no clock: the shell feeds it a
/// `StageLoad` per stage every `interval`, with the time.
///
/// The rule. A stage's *demand* is the compute time its replicas spent per second of the
/// interval (1.5 = one and a half replicas busy all the time). Its utilization is demand ÷ ready
/// replicas. The bottleneck is, of the stages above `target` whose batches wait for them (a
/// mean queue wait of at least `queueThreshold` at the stage or at one before it: credits move
/// a backlog upstream, the busy stage granting its senders only a few frames; ingest's wait
/// includes the supervisor's wait for an ingest credit), the busiest. Only the bottleneck grows, by the replicas its
/// demand needs at `target` (Kubernetes' ceil(current × utilization ÷ target)), and only while
/// the cores the stages leave idle (the core budget less their demand) hold a quarter core
/// (`minIdlePerReplica`) per replica added; with no room, a replica moves from the stage with
/// the most spare capacity (one that would still be below the shrink threshold without it),
/// both changes made together. A stage whose utilization is below `target` by more than
/// `tolerance` shrinks to what its demand needs at that lower line (so that it is not at once
/// over the target again), never below its minimum; between the two, nothing changes. (Growth starts just above `target`, not `tolerance` above it: a bottleneck
/// on a machine whose cores are all taken shares its core and is rarely seen much busier.)
/// A recommendation is acted on only once it has held for its stabilization window (short up,
/// long down: the largest recommendation over the down window wins, so a brief dip never
/// drains a replica), and at most `maxStartsPerMinute` replicas are started in any minute.
/// Draining replicas are never counted: only ready ones are capacity.
public struct Autoscaler: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Replica processes that may be busy at once (the machine's CPUs by default).
        public var cores: Double
        /// How often `decide` is called.
        public var intervalNanos: UInt64 = 500_000_000
        /// How long a larger count must be recommended before it is applied.
        public var scaleUpAfterNanos: UInt64 = 1_000_000_000
        /// How long a smaller count must be recommended (every time) before it is applied.
        public var scaleDownAfterNanos: UInt64 = 30_000_000_000
        /// Utilization each replica is sized for.
        public var target = 0.6
        /// No shrinking while utilization is within this fraction below `target`.
        public var tolerance = 0.1
        /// Idle CPU (in cores) each replica added to the bottleneck needs: below it, the core
        /// budget is spent, and a replica can only move from another stage.
        public var minIdlePerReplica = 0.25
        /// Mean wait, in seconds, that makes a busy stage the bottleneck.
        public var queueThreshold = 0.001
        /// Most replicas started (over every stage) in any 60 s.
        public var maxStartsPerMinute = 6
        /// Each stage's bounds.
        public var minReplicas: [StageKind: Int] = [:]
        public var maxReplicas: [StageKind: Int] = [:]

        public init(cores: Double) { self.cores = cores }

        public func bounds(_ stage: StageKind) -> ClosedRange<Int> {
            let low = max(1, minReplicas[stage] ?? 1)
            return low...max(low, maxReplicas[stage] ?? 64)
        }
    }

    /// What a stage did over the last interval.
    public struct StageLoad: Sendable, Equatable {
        /// Ready replicas (not starting, not draining).
        public var ready: Int
        /// Compute seconds its replicas spent, per second of the interval.
        public var demand: Double
        /// Mean time its batches waited before their processing began, in seconds.
        public var queueWait: Double

        public init(ready: Int, demand: Double, queueWait: Double) {
            self.ready = ready
            self.demand = demand
            self.queueWait = queueWait
        }

        var utilization: Double { ready > 0 ? demand / Double(ready) : 0 }
    }

    /// A change of a stage's count, with the numbers that caused it.
    public struct Change: Sendable, Equatable {
        public var stage: StageKind
        public var from: Int
        public var to: Int
        public var reason: String
    }

    /// `pipeline scale` during an autoscaled run moves a stage's minimum (the shell sets it).
    public var settings: Settings
    /// Each stage's recommendations over the longest stabilization window, oldest first.
    private var history: [StageKind: [(at: UInt64, count: Int)]] = [:]
    /// When replicas were started by a decision (one entry each), for the rate cap.
    private var starts: [UInt64] = []
    /// The last reason given for each stage (for `ps`).
    public private(set) var lastReason: [StageKind: String] = [:]
    /// Changes made so far, per stage: to more replicas and to fewer (for metrics).
    public private(set) var grown: [StageKind: Int] = [:]
    public private(set) var shrunk: [StageKind: Int] = [:]
    /// The last change made, and when (for `pipeline top`).
    public private(set) var lastChange: (change: Change, at: UInt64)?

    public init(settings: Settings) { self.settings = settings }

    /// The changes to make now, given each stage's load and current desired count.
    public mutating func decide(_ loads: [StageKind: StageLoad], desired: [StageKind: Int], now: UInt64) -> [Change] {
        var pairs: [StageKind: StageKind] = [:]
        var recommended: [StageKind: (count: Int, reason: String)] = [:]
        for stage in StageKind.allCases {
            let current = desired[stage] ?? 1
            recommended[stage] = (current, "")
            guard let load = loads[stage], load.ready > 0 else { continue }
            let u = load.utilization
            // What `ps` says of a stage nothing is decided for: its numbers now, never stale ones.
            lastReason[stage] = "busy \(percent(u)) of \(load.ready), batches wait \(millis(load.queueWait)) ms: no change"
            let low = settings.target * (1 - settings.tolerance)
            if u < low {
                // Sized for the shrink threshold, not the target: the count it shrinks to must
                // not be one it would grow from again (a band between the two, across a step).
                let need = max(1, Int((load.demand / low).rounded(.up)))
                let count = min(current, max(need, settings.bounds(stage).lowerBound))
                if count < current {
                    recommended[stage] = (count, "busy \(percent(u)) of \(load.ready) replicas, below the \(percent(settings.target)) target")
                }
            }
        }
        // The bottleneck: the busiest stage over target whose batches wait, at it or before it.
        // Credits move a backlog upstream: a busy stage grants its senders a few frames, so the
        // batches waiting for it pile up in front of the stages before it (and the source).
        var before: (stage: StageKind, wait: Double)?
        var waitsBefore: [StageKind: (stage: StageKind, wait: Double)] = [:]
        for s in StageKind.allCases {
            if let l = loads[s], l.queueWait > (before?.wait ?? -1) { before = (s, l.queueWait) }
            waitsBefore[s] = before
        }
        let candidates = StageKind.allCases.compactMap { s -> (StageKind, StageLoad)? in
            guard let l = loads[s], l.ready > 0, l.utilization > settings.target,
                  (waitsBefore[s]?.wait ?? 0) >= settings.queueThreshold else { return nil }
            return (s, l)
        }
        if let (stage, load) = candidates.max(by: { $0.1.utilization < $1.1.utilization }) {
            let current = desired[stage] ?? 1
            let bounds = settings.bounds(stage)
            var want = min(bounds.upperBound, max(current + 1, Int((load.demand / settings.target).rounded(.up))))
            // Each replica added needs `minIdlePerReplica` of a core that the stages leave idle now.
            let idle = settings.cores - loads.values.reduce(0) { $0 + $1.demand }
            func fits(_ n: Int) -> Bool { idle + 1e-9 >= Double(n - load.ready) * settings.minIdlePerReplica }
            while want > current && !fits(want) { want -= 1 }
            let queue = waitsBefore[stage]!
            let why = "busy \(percent(load.utilization)) of \(load.ready), batches wait \(millis(queue.wait)) ms"
                + (queue.stage == stage ? "" : " (at \(queue.stage.rawValue))")
            if want > current {
                recommended[stage] = (want, why)
            } else if current < bounds.upperBound, let donor = donor(loads, desired: desired, recommended: recommended, excluding: stage) {
                // No room in the budget: a replica moves from the stage with the most spare capacity.
                recommended[stage] = (current + 1, why + "; over the \(settings.cores)-core budget: one replica moves from \(donor.rawValue)")
                let d = desired[donor] ?? 1
                recommended[donor] = (min(recommended[donor]!.count, d - 1), "gives a replica to \(stage.rawValue), the bottleneck")
                pairs[stage] = donor
            } else {
                lastReason[stage] = why + (current >= bounds.upperBound ? "; at its maximum \(bounds.upperBound)" : "; no core to spare")
            }
        }
        return stabilize(recommended, desired: desired, pairs: pairs, now: now)
    }

    /// The stage, other than `excluding`, with replicas to spare: above its minimum, and with one
    /// replica fewer still below the shrink threshold (so that it never becomes the bottleneck
    /// by giving, and takes the replica back); the least utilized such stage.
    private func donor(_ loads: [StageKind: StageLoad], desired: [StageKind: Int], recommended: [StageKind: (count: Int, reason: String)],
                       excluding: StageKind) -> StageKind? {
        StageKind.allCases.filter { s in
            let d = desired[s] ?? 1
            return s != excluding && d > settings.bounds(s).lowerBound && (loads[s]?.ready ?? 0) > 0
                && (loads[s]?.demand ?? 0) / Double(d - 1) < settings.target * (1 - settings.tolerance)
        }.min { (loads[$0]?.utilization ?? 0) < (loads[$1]?.utilization ?? 0) }
    }

    /// Applies a recommendation once it has held for its window; caps the starts per minute.
    /// A move (`pairs`: bottleneck → donor) goes at the bottleneck's pace: the donor gives its
    /// replica when the bottleneck's growth is applied, not after the long down window.
    private mutating func stabilize(_ recommended: [StageKind: (count: Int, reason: String)], desired: [StageKind: Int],
                                    pairs: [StageKind: StageKind], now: UInt64) -> [Change] {
        let keep = max(settings.scaleUpAfterNanos, settings.scaleDownAfterNanos)
        starts.removeAll { now - min(now, $0) >= 60_000_000_000 }
        var changes: [Change] = []
        for stage in StageKind.allCases {
            let (count, reason) = recommended[stage]!
            var h = history[stage, default: []]
            h.append((now, count))
            // Keep the window and the newest look older than it: looks are never exactly an
            // interval apart, and a window is held only once a look as old as it exists.
            while h.count > 1 && now - min(now, h[1].at) >= keep { h.removeFirst() }
            history[stage] = h
            let current = desired[stage] ?? 1
            if !reason.isEmpty { lastReason[stage] = reason }
            // Held for the window: the looks since the newest one at least `window` old (looks are
            // not exactly an interval apart: the window is measured from a look, never shorter).
            func held(_ window: UInt64) -> [Int]? {
                guard let edge = h.lastIndex(where: { now - min(now, $0.at) >= window }) else { return nil }
                return h[edge...].map(\.count)
            }
            if count > current, let window = held(settings.scaleUpAfterNanos), window.allSatisfy({ $0 > current }) {
                let room = settings.maxStartsPerMinute - starts.count
                let to = min(window.min()!, current + max(0, room))
                guard to > current else {
                    lastReason[stage] = reason + "; waits: \(settings.maxStartsPerMinute) replicas started in the last minute"
                    continue
                }
                starts += Array(repeating: now, count: to - current)
                changes.append(Change(stage: stage, from: current, to: to, reason: reason))
            } else if count < current, let window = held(settings.scaleDownAfterNanos), window.allSatisfy({ $0 < current }) {
                changes.append(Change(stage: stage, from: current, to: window.max()!, reason: reason))
            }
        }
        for (up, donor) in pairs where changes.contains(where: { $0.stage == up && $0.to > $0.from })
            && !changes.contains(where: { $0.stage == donor }) {
            let from = desired[donor] ?? 1
            changes.append(Change(stage: donor, from: from, to: from - 1, reason: recommended[donor]!.reason))
        }
        for c in changes {
            history[c.stage] = []
            if c.to > c.from { grown[c.stage, default: 0] += 1 } else { shrunk[c.stage, default: 0] += 1 }
            lastChange = (c, now)
        }
        return changes
    }

    private func percent(_ x: Double) -> String { "\(Int((x * 100).rounded()))%" }
    private func millis(_ seconds: Double) -> String {
        let tenths = Int((seconds * 10_000).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
