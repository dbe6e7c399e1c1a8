import Config

/// Restart history of one stage, for backoff and the restart limit.
///
/// Every crash counts toward `restart.max` (except those blamed on a record being isolated).
/// The delay before a replacement starts is 25 ms and doubles with each crash, in a row, of a
/// replica that died quickly (before becoming ready, or within `quickNanos` of its start): a
/// crash loop backs off exponentially, to at most 5 s. A crash after a longer life resets it,
/// as Docker's restart policy does after a container has run a while: a stage whose replicas
/// fail now and then (or are killed from outside) gets them back at once instead of waiting out
/// ever longer delays; `restart.max` bounds how often that may happen.
public struct RestartHistory: Sendable, Equatable {
    /// A replica that dies sooner than this after starting is part of a crash loop.
    public static let quickNanos: UInt64 = 1_000_000_000
    /// The first delay, and the longest.
    static let baseNanos: UInt64 = 25_000_000
    static let capNanos: UInt64 = 5_000_000_000

    /// When the crashes that count happened, oldest first (within the restart window).
    public private(set) var times: [UInt64] = []
    /// Replicas of the stage that died quickly, one after the other.
    public private(set) var quickDeaths = 0
    /// Earliest time the next replacement may start.
    public private(set) var notBefore: UInt64 = 0

    public init() {}

    /// Records a crash at `now`; returns false when the stage is over its limit.
    /// - Parameters:
    ///   - counts: false for a crash blamed on a record being isolated (data, not the stage).
    ///   - quick: the replica died before becoming ready or within `quickNanos` of its start.
    ///   - jitter: a number in 0...1 from the caller's random source; spreads the delay ±20%.
    public mutating func crashed(now: UInt64, spec: StageSpec, jitter: Double, counts: Bool = true, quick: Bool = false) -> Bool {
        let window = UInt64(spec.restartWindowSeconds * 1e9)
        times.removeAll { now - $0 > window }
        if counts { times.append(now) }
        guard times.count <= spec.maxRestarts else { return false }
        if counts { quickDeaths = quick ? quickDeaths + 1 : 0 }
        // 25 ms, doubling with each quick death in a row (2^8 × 25 ms is past the cap), capped at 5 s.
        let base = min(Self.baseNanos << UInt64(min(quickDeaths, 8)), Self.capNanos)
        let spread = 0.8 + 0.4 * min(max(jitter, 0), 1)
        notBefore = now + UInt64(Double(base) * spread)
        return true
    }

    /// Crashes that count within the window ending at `now`.
    public func recent(now: UInt64, spec: StageSpec) -> Int {
        let window = UInt64(spec.restartWindowSeconds * 1e9)
        return times.filter { now - $0 <= window }.count
    }
}
