import Config
import ControlCore
import Messages
import Testing
@testable import PipelineSupervisor

/// What the run counts, fed plain values: totals that survive their replicas, latency from cut
/// to written, the once-a-second samples the rates are taken from.
@Suite struct RunMetricsTests {
    func replica(_ stage: StageKind, _ index: Int, rows: UInt64, batches: UInt64, busyMillis: UInt64, waits: [UInt64] = []) -> ReplicaProcess {
        let r = ReplicaProcess(id: ReplicaID(stage, index), pid: Int32(1000 + index), socketPath: "/r/\(stage).\(index).sock",
                               logPath: "/r/logs", now: 0)
        r.heartbeat.rows = rows
        r.heartbeat.batches = batches
        r.heartbeat.busyNanos = busyMillis * 1_000_000
        for w in waits { r.heartbeat.queue.observe(nanos: w) }
        return r
    }

    @Test func totalsNeverGoBackWhenReplicasExit() {
        var m = RunMetrics()
        let one = replica(.infer, 1, rows: 500, batches: 5, busyMillis: 40, waits: [1_000_000, 3_000_000])
        let two = replica(.infer, 2, rows: 200, batches: 2, busyMillis: 10, waits: [2_000_000])
        let before = m.totals(.infer, live: [one, two])
        #expect(before.records == 700 && before.batches == 7 && before.busyNanos == 50_000_000 && before.queue.count == 3)
        // infer.1 is killed (its last heartbeat stays counted), a replacement starts from zero.
        m.retire(.infer, last: one.heartbeat)
        let three = replica(.infer, 3, rows: 0, batches: 0, busyMillis: 0)
        let after = m.totals(.infer, live: [two, three])
        #expect(after == before)
        // Other stages are apart.
        #expect(m.totals(.featurize, live: [two, three]).records == 0)
        three.heartbeat.rows = 64
        #expect(m.totals(.infer, live: [two, three]).records == 764)
    }

    /// Ingest's queue starts in the supervisor: a batch cut and waiting for an ingest credit.
    @Test func theWaitForAnIngestCreditIsCountedOncePerBatch() {
        var m = RunMetrics()
        let ingest = replica(.ingest, 1, rows: 10, batches: 1, busyMillis: 1, waits: [1_000_000])
        m.cut(0, records: 10, now: 1_000_000_000)
        m.cut(1, records: 10, now: 1_001_000_000)
        m.sent(0, now: 1_004_000_000)  // 4 ms waiting for a credit
        m.sent(0, now: 1_009_000_000)  // a re-send: not counted again
        #expect(m.admission.count == 1 && abs(m.admission.sum - 0.004) < 1e-9)
        #expect(m.totals(.ingest, live: [ingest]).queue.count == 1, "the replicas' own waits stay apart")
        m.written(through: 1, now: 1_020_000_000)
        m.sent(1, now: 1_030_000_000)  // written before sent cannot happen; nothing is left to count
        #expect(m.admission.count == 1)
    }

    @Test func latencyRunsFromCutToWritten() {
        var m = RunMetrics()
        m.cut(0, records: 256, now: 1_000_000_000)
        m.cut(1, records: 10, now: 1_002_000_000)
        m.cut(2, records: 1, now: 1_003_000_000)
        m.written(through: 1, now: 1_010_000_000)  // 10 ms and 8 ms
        #expect(m.latency.count == 2 && abs(m.latency.sum - 0.018) < 1e-9)
        m.written(through: 1, now: 1_020_000_000)  // nothing new
        #expect(m.latency.count == 2)
        m.written(through: 2, now: 1_053_000_000)  // 50 ms
        #expect(m.latency.count == 3 && abs(m.latency.sum - 0.068) < 1e-9)
        #expect(m.batchRecords.sum == 267 && m.batchRecords.counts[RunMetrics.SizeHistogram.bounds.firstIndex(of: 256)!] == 1)
    }

    @Test func samplesAreTakenOnceASecond() {
        var m = RunMetrics()
        #expect(m.wantsSample(now: 5))
        m.sample(now: 5, recordsIn: 0, recordsOut: 0, live: [])
        #expect(!m.wantsSample(now: 999_999_999))
        #expect(m.wantsSample(now: 1_000_000_005))
    }
}
