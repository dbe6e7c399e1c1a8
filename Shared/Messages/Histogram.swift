/// A histogram of durations over fixed bucket bounds (seconds, Prometheus style): counts per
/// bucket, their sum and count. Replicas keep one per stage for queue time and report it in
/// heartbeats; the supervisor keeps one for latency. Mergeable and subtractable, so counters
/// survive replica restarts and recent windows are differences of two samples.
public struct Histogram: Sendable, Equatable {
    /// Upper bounds of the buckets, in seconds; a last, open bucket takes the rest.
    public static let bounds: [Double] = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25, 0.5, 1, 2.5, 5, 10]

    /// Observations per bucket (not cumulative); `bounds.count + 1` entries, the last for
    /// values above every bound.
    public private(set) var counts: [UInt64] = Array(repeating: 0, count: Histogram.bounds.count + 1)
    /// Sum of the observations, in seconds.
    public private(set) var sum: Double = 0

    public init() {}

    public var count: UInt64 { counts.reduce(0, +) }

    /// Records one observation of `nanos` nanoseconds.
    public mutating func observe(nanos: UInt64) {
        let seconds = Double(nanos) / 1e9
        var i = 0
        while i < Self.bounds.count && seconds > Self.bounds[i] { i += 1 }
        counts[i] += 1
        sum += seconds
    }

    public mutating func merge(_ other: Histogram) {
        for i in counts.indices { counts[i] += other.counts[i] }
        sum += other.sum
    }

    /// What was observed since `earlier` (a sample of the same histogram); counts never go
    /// below zero.
    public func since(_ earlier: Histogram) -> Histogram {
        var d = Histogram()
        for i in counts.indices { d.counts[i] = counts[i] &- min(counts[i], earlier.counts[i]) }
        d.sum = max(0, sum - earlier.sum)
        return d
    }

    /// An estimate of quantile `q` (0...1), interpolated linearly inside its bucket; nil when
    /// empty. Values in the open bucket are reported as its lower bound.
    public func quantile(_ q: Double) -> Double? {
        let total = count
        guard total > 0 else { return nil }
        let rank = q * Double(total)
        var seen: UInt64 = 0
        for (i, c) in counts.enumerated() where c > 0 {
            if Double(seen + c) >= rank {
                let lower = i == 0 ? 0 : Self.bounds[i - 1]
                guard i < Self.bounds.count else { return lower }
                let within = (rank - Double(seen)) / Double(c)
                return lower + (Self.bounds[i] - lower) * max(0, min(1, within))
            }
            seen += c
        }
        return Self.bounds.last
    }

    public func encode(into out: FrameBuffer) {
        out.append(UInt16(counts.count))
        for c in counts { out.append(c) }
        out.append(sum)
    }

    static func decode(_ r: inout ByteReader, _ field: StaticString) throws(FrameError) -> Histogram {
        let n = Int(try r.read(UInt16.self, field))
        guard n == Self.bounds.count + 1 else { throw .invalid(field: "\(field)", reason: "\(n) buckets, expected \(Self.bounds.count + 1)") }
        var h = Histogram()
        for i in 0..<n { h.counts[i] = try r.read(UInt64.self, field) }
        h.sum = try r.readDouble(field)
        return h
    }
}
