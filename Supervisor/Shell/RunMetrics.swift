import Config
import ControlCore
import Messages
import PipelineSink

/// What the run counts, for `/metrics`, `pipeline top` and the progress line: the stages'
/// totals (those of replicas that have exited are kept, so counters never go backwards across
/// restarts and scaling), batch latency and size, and samples of the last seconds for rates.
///
/// It decides nothing; the shell feeds it and asks it for a `StatusSnapshot`.
struct RunMetrics {
    /// What the replicas of one stage did.
    struct StageTotals: Equatable {
        var records: UInt64 = 0
        var batches: UInt64 = 0
        var busyNanos: UInt64 = 0
        var queue = Histogram()
        var sent = TransportCounts()

        mutating func add(_ beat: Heartbeat) {
            sent = sent + beat.sent
            records += beat.rows
            batches += beat.batches
            busyNanos += beat.busyNanos
            queue.merge(beat.queue)
        }
    }

    /// Counts of values over bounds that double from 1: records per batch.
    struct SizeHistogram {
        static let bounds: [UInt64] = (0...16).map { 1 << $0 }
        var counts = Array(repeating: UInt64(0), count: SizeHistogram.bounds.count + 1)
        var sum: UInt64 = 0

        mutating func observe(_ value: UInt64) {
            counts[Self.bounds.firstIndex { value <= $0 } ?? Self.bounds.count] += 1
            sum += value
        }
    }

    /// The counters at one moment, for rates over the last seconds.
    private struct Sample {
        var at: UInt64
        var recordsIn: UInt64
        var recordsOut: UInt64
        var stages: [StageKind: StageTotals]
    }

    /// Totals of the replicas that have exited, per stage.
    private var retired: [StageKind: StageTotals] = [:]
    /// When each batch still unwritten was cut.
    private var cutAt: [UInt64: UInt64] = [:]
    private(set) var latency = Histogram()
    /// The part of ingest's queue before its socket: how long batches waited in the supervisor,
    /// from cut to sent, for an ingest replica's credit (the rest of ingest's queue, in the
    /// replicas, comes with their heartbeats).
    private(set) var admission = Histogram()
    /// When each batch cut and not yet sent was cut.
    private var unsent: [UInt64: UInt64] = [:]
    private(set) var batchRecords = SizeHistogram()
    private var samples: [Sample] = []
    /// Rates are taken over about this long.
    static let rateWindowNanos: UInt64 = 5_000_000_000

    /// A replica exited: what it did (its last heartbeat) stays counted.
    mutating func retire(_ stage: StageKind, last beat: Heartbeat) {
        retired[stage, default: StageTotals()].add(beat)
    }

    mutating func cut(_ sequence: UInt64, records: Int, now: UInt64) {
        cutAt[sequence] = now
        unsent[sequence] = now
        batchRecords.observe(UInt64(records))
    }

    /// Batch `sequence` went to an ingest replica (re-sends are not counted again).
    mutating func sent(_ sequence: UInt64, now: UInt64) {
        if let at = unsent.removeValue(forKey: sequence) { admission.observe(nanos: now - min(now, at)) }
    }

    /// Batches up to `sequence` are written: their latency, from cut to written.
    mutating func written(through sequence: UInt64, now: UInt64) {
        for (s, at) in cutAt where s <= sequence {
            latency.observe(nanos: now - min(now, at))
            cutAt[s] = nil
            unsent[s] = nil
        }
    }

    /// The stage's totals so far: the exited replicas' plus the live ones' last heartbeats.
    func totals(_ stage: StageKind, live: [ReplicaProcess]) -> StageTotals {
        var t = retired[stage] ?? StageTotals()
        for r in live where r.id.stage == stage { t.add(r.heartbeat) }
        return t
    }

    /// True when a second has passed since the last sample.
    func wantsSample(now: UInt64) -> Bool {
        samples.last.map { now - min(now, $0.at) >= 1_000_000_000 } ?? true
    }

    /// Keeps a sample every second, for the last few seconds.
    mutating func sample(now: UInt64, recordsIn: UInt64, recordsOut: UInt64, live: [ReplicaProcess]) {
        guard wantsSample(now: now) else { return }
        var stages: [StageKind: StageTotals] = [:]
        for stage in StageKind.allCases { stages[stage] = totals(stage, live: live) }
        samples.append(Sample(at: now, recordsIn: recordsIn, recordsOut: recordsOut, stages: stages))
        while samples.count > 2, now - samples[1].at >= Self.rateWindowNanos { samples.removeFirst() }
    }

    /// The run as `pipeline top` and `/metrics` show it.
    func snapshot(now: UInt64, startedAt: UInt64, core: ControlCore<Sink.Piece>, live: [ReplicaProcess], sink: Sink,
                  bytesIn: UInt64, inputSize: UInt64, model: String, metricsAddress: String) -> StatusSnapshot {
        var s = StatusSnapshot()
        s.uptimeNanos = now - startedAt
        s.model = model
        s.metricsAddress = metricsAddress
        s.recordsIn = UInt64(core.ledger.recordsRead)
        s.recordsOut = UInt64(sink.rows)
        s.rejected = UInt64(sink.rejected)
        s.bytesIn = bytesIn
        s.bytesOut = sink.bytesWritten
        s.inputSize = inputSize
        s.batchesInFlight = UInt32(core.ledger.batches.count)
        s.latency = latency
        let base = samples.first
        let seconds = base.map { Double(now - min(now, $0.at)) / 1e9 } ?? 0
        func rate(_ now: UInt64, _ then: UInt64?) -> Double {
            guard let then, seconds > 0.5 else { return 0 }
            return Double(now - min(now, then)) / seconds
        }
        s.recentRecordsInPerSecond = rate(s.recordsIn, base?.recordsIn)
        s.recentRecordsOutPerSecond = rate(s.recordsOut, base?.recordsOut)
        for stage in StageKind.allCases {
            let t = totals(stage, live: live)
            var row = StatusSnapshot.Stage(name: stage.rawValue)
            let mine = core.reconciler.replicas(of: stage)
            row.ready = UInt32(mine.filter { $0.state == .ready }.count)
            row.desired = UInt32(core.reconciler.desired[stage] ?? 0)
            row.records = t.records
            row.batches = t.batches
            row.busyNanos = t.busyNanos
            row.restarts = UInt64(core.reconciler.restartsTotal[stage] ?? 0)
            row.residentBytes = live.filter { $0.id.stage == stage }.reduce(0) { $0 + $1.heartbeat.rssBytes }
            row.queue = t.queue
            row.sent = t.sent
            if let then = base?.stages[stage], seconds > 0.5 {
                row.recentRecordsPerSecond = Double(t.records - min(t.records, then.records)) / seconds
                row.recentBusy = Double(t.busyNanos - min(t.busyNanos, then.busyNanos)) / 1e9 / seconds
                row.recentQueue = t.queue.since(then.queue)
            }
            s.stages.append(row)
        }
        return s
    }
}
