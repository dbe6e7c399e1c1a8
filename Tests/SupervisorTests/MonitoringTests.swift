import ControlCore
import Foundation
import Messages
import Testing
@testable import PipelineSupervisor

/// The text `/metrics` serves, the event log's lines and the progress line, from known values.
@Suite struct MonitoringTests {
    func snapshot() -> StatusSnapshot {
        var s = StatusSnapshot()
        s.model = "/m/\"demo\".onnx"
        s.recordsIn = 1000
        s.recordsOut = 990
        s.rejected = 10
        s.bytesIn = 73_000
        s.bytesOut = 64_000
        s.batchesInFlight = 3
        s.latency.observe(nanos: 2_000_000)
        var infer = StatusSnapshot.Stage(name: "infer")
        infer.ready = 2
        infer.desired = 3
        infer.records = 1024
        infer.busyNanos = 1_500_000_000
        infer.restarts = 1
        infer.queue.observe(nanos: 300_000)  // 0.3 ms: in the 0.0005 bucket
        infer.queue.observe(nanos: 20_000_000_000)  // over every bound
        s.stages = [infer]
        return s
    }

    @Test func metricsTextHasEveryFamilyWithCumulativeBucketsAndEscapedLabels() {
        var sizes = RunMetrics.SizeHistogram()
        sizes.observe(256)
        sizes.observe(3)
        var credit = Histogram()
        credit.observe(nanos: 4_000_000)
        let text = MetricsText.render(snapshot(), rejectedByCode: [.jsonSyntax: 10], batchRecords: sizes, sourceWait: credit, modelSHA256: "ab12")
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in [
            "# TYPE pipeline_input_records_total counter", "pipeline_input_records_total 1000",
            "pipeline_output_records_total 990", "pipeline_rejected_records_total{code=\"JSON_SYNTAX\"} 10",
            "pipeline_rejected_records_total{code=\"TYPE\"} 0", "pipeline_input_bytes_total 73000", "pipeline_output_bytes_total 64000",
            "pipeline_stage_replicas{stage=\"infer\"} 2", "pipeline_stage_replicas_desired{stage=\"infer\"} 3",
            "pipeline_stage_records_total{stage=\"infer\"} 1024", "pipeline_stage_busy_seconds_total{stage=\"infer\"} 1.5",
            "# TYPE pipeline_stage_queue_seconds histogram",
            "pipeline_stage_queue_seconds_bucket{stage=\"infer\",le=\"0.00025\"} 0",
            "pipeline_stage_queue_seconds_bucket{stage=\"infer\",le=\"0.0005\"} 1",
            "pipeline_stage_queue_seconds_bucket{stage=\"infer\",le=\"10.0\"} 1",
            "pipeline_stage_queue_seconds_bucket{stage=\"infer\",le=\"+Inf\"} 2",
            "pipeline_stage_queue_seconds_count{stage=\"infer\"} 2", "pipeline_latency_seconds_count 1",
            "pipeline_batch_records_bucket{le=\"2\"} 0", "pipeline_batch_records_bucket{le=\"4\"} 1",
            "pipeline_batch_records_bucket{le=\"256\"} 2", "pipeline_batch_records_sum 259",
            "pipeline_batches_in_flight 3", "# TYPE pipeline_source_wait_seconds histogram",
            "pipeline_source_wait_seconds_bucket{le=\"0.0025\"} 0", "pipeline_source_wait_seconds_bucket{le=\"0.005\"} 1",
            "pipeline_source_wait_seconds_count 1", "pipeline_replica_restarts_total{stage=\"infer\"} 1",
            "pipeline_model_info{path=\"/m/\\\"demo\\\".onnx\",precision=\"float32\",sha256=\"ab12\"} 1",
            "pipeline_build_info{version=\"\(pipelineVersion)\"} 1",
        ] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
        // Every sample belongs to a family announced before it.
        var announced: Set<String> = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") { announced.insert(String(line.split(separator: " ")[2])) }
            guard !line.hasPrefix("#") else { continue }
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            let family = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) && !announced.contains($0) ? String($0.dropLast($1.count)) : $0 }
            #expect(announced.contains(family), "\(line)")
        }
    }

    /// The autoscaler's families are there only when the run is autoscaled.
    @Test func autoscaleFamiliesOnlyWhenAutoscaled() {
        var s = snapshot()
        let plain = MetricsText.render(s, rejectedByCode: [:], batchRecords: .init(), modelSHA256: nil)
        #expect(!plain.contains("pipeline_autoscale"))
        s.autoscaleCores = 2
        s.stages[0].scaledUp = 3
        s.stages[0].scaledDown = 1
        let lines = Set(MetricsText.render(s, rejectedByCode: [:], batchRecords: .init(), modelSHA256: nil).split(separator: "\n").map(String.init))
        for expected in ["# TYPE pipeline_autoscale_cores gauge", "pipeline_autoscale_cores 2.0",
                         "# TYPE pipeline_autoscale_changes_total counter",
                         "pipeline_autoscale_changes_total{direction=\"up\",stage=\"infer\"} 3",
                         "pipeline_autoscale_changes_total{direction=\"down\",stage=\"infer\"} 1"] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
    }

    @Test func eventLinesAreJSONWithTheirFields() throws {
        let fields = EventLog.fields(.replicaExited(ReplicaID(.infer, 2), pid: 77, .signaled(9, selfInflicted: false, name: "Killed"), expected: false))
        let text = JSONValue.object([("time", .string(EventLog.timestamp(1_765_000_000.25)))] + fields).text
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["event"] as? String == "replica_exited" && object["stage"] as? String == "infer")
        #expect(object["replica"] as? Int == 2 && object["pid"] as? Int == 77 && object["signal"] as? Int == 9)
        #expect(object["expected"] as? Bool == false && object["self_inflicted"] as? Bool == false)
        #expect(object["time"] as? String == "2025-12-06T05:46:40.250Z")
        #expect(JSONValue.seconds(1_500_000_000).text == "1.500" && JSONValue.seconds(20_000_000).text == "0.020")
    }

    /// The run summary's classes: by label when there are labels, else by index.
    @Test func summaryNamesClassesByTheirLabels() {
        #expect(RunSummary.classes([2751, 249], labels: ["legit", "fraud"]) == "legit: 2751, fraud: 249")
        #expect(RunSummary.classes([5, 0, 1], labels: [3, 7, -1]) == "3: 5, 7: 0, -1: 1")
        #expect(RunSummary.classes([917, 83], labels: nil) == "0: 917, 1: 83")
    }

    @Test func progressLineIsOneShortASCIILine() {
        var s = snapshot()
        s.uptimeNanos = 30_000_000_000
        s.inputSize = 146_000
        s.recentRecordsOutPerSecond = 1234.4
        let line = Progress.line(s)
        #expect(line == "pipeline 1,000 read, 990 written, 10 rejected | 1,234/s | 50% 0:30 left | 0:30")
        #expect(line.allSatisfy(\.isASCII) && line.count < 80)
        #expect(Progress.clock(3725) == "1:02:05" && Progress.count(1_234_567) == "1,234,567")
        // Never wider than the terminal: a wrapped line would leave a copy at every redraw.
        s.recordsIn = 12_541_031
        s.recordsOut = 12_522_066
        s.rejected = 2_611
        let long = Progress.line(s)
        #expect(long.count > 80)
        #expect(Progress.fitted(long, columns: 80) == String(long.prefix(79)))
        #expect(Progress.fitted(long, columns: nil) == long && Progress.fitted(line, columns: 80) == line)
    }

    @Test func healthIsOkOnlyWhenEveryStageHasAReadyReplica() {
        var s = snapshot()
        #expect(Health.check(s) == (200, "ok\n"))
        var featurize = StatusSnapshot.Stage(name: "featurize")
        featurize.desired = 2
        s.stages.insert(featurize, at: 0)
        #expect(Health.check(s) == (503, "not ready: no ready replica of featurize (0 of 2 ready)\n"))
        s.stages[0].ready = 1
        #expect(Health.check(s).status == 200)
        s.stages[0].desired = 0
        s.stages[0].ready = 0
        #expect(Health.check(s) == (503, "not ready: featurize is paused (0 replicas)\n"))
        s.stages = []
        #expect(Health.check(s).status == 503)
    }
}
