import Config
import ControlCore
import Messages

/// The pipeline's version, as `--version` prints it and `pipeline_build_info` exports it.
public let pipelineVersion = "0.1.0"

/// The Prometheus text exposition format (0.0.4) of a run: every metric with its HELP and TYPE,
/// in base units (seconds, bytes), counters ending in `_total`.
enum MetricsText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// What `/metrics` serves, from a snapshot and the counts it does not carry.
    static func render(_ s: StatusSnapshot, rejectedByCode: [RejectCode: Int], batchRecords: RunMetrics.SizeHistogram,
                       sourceWait: Histogram = Histogram(), modelSHA256: String?, drift: DriftWatch? = nil) -> String {
        var out = ""
        out.reserveCapacity(16 << 10)
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels) \(value)\n" }
        }
        func stages(_ value: (StatusSnapshot.Stage) -> String) -> [(labels: String, value: String)] {
            s.stages.map { (label(["stage": $0.name]), value($0)) }
        }

        metric("pipeline_input_records_total", "counter", "Records read from stdin (accepted and rejected).", [("", "\(s.recordsIn)")])
        metric("pipeline_output_records_total", "counter", "Scored records whose bytes stdout accepted.", [("", "\(s.recordsOut)")])
        metric("pipeline_rejected_records_total", "counter", "Rejected records written to the errors stream, by code.",
               RejectCode.allCases.map { (label(["code": $0.name]), "\(rejectedByCode[$0] ?? 0)") })
        metric("pipeline_input_bytes_total", "counter", "Bytes read from stdin.", [("", "\(s.bytesIn)")])
        metric("pipeline_output_bytes_total", "counter", "Bytes stdout accepted.", [("", "\(s.bytesOut)")])
        metric("pipeline_stage_replicas", "gauge", "Ready replicas of the stage.", stages { "\($0.ready)" })
        metric("pipeline_stage_replicas_desired", "gauge", "Replicas the stage should have.", stages { "\($0.desired)" })
        metric("pipeline_stage_records_total", "counter", "Records the stage processed (replays included).", stages { "\($0.records)" })
        metric("pipeline_stage_batches_total", "counter", "Batches the stage processed (replays included).", stages { "\($0.batches)" })
        metric("pipeline_stage_busy_seconds_total", "counter", "Time the stage's replicas spent processing batches.",
               stages { seconds($0.busyNanos) })
        histogram("pipeline_stage_queue_seconds", "How long a batch waited at the stage before its processing began.", bounds: timeBounds,
                  s.stages.map { ("stage=\"\(escape($0.name))\"", $0.queue.counts, "\($0.queue.sum)") }, into: &out)
        histogram("pipeline_source_wait_seconds", "How long a cut batch waited in the supervisor for an ingest replica's credit.",
                  bounds: timeBounds, [("", sourceWait.counts, "\(sourceWait.sum)")], into: &out)
        histogram("pipeline_latency_seconds", "Time from a batch being read to its output being written.", bounds: timeBounds,
                  [("", s.latency.counts, "\(s.latency.sum)")], into: &out)
        histogram("pipeline_batch_records", "Records per batch cut from the input.", bounds: sizeBounds,
                  [("", batchRecords.counts, "\(batchRecords.sum)")], into: &out)
        metric("pipeline_batches_in_flight", "gauge", "Batches read and not yet written.", [("", "\(s.batchesInFlight)")])
        metric("pipeline_replica_restarts_total", "counter", "Crashed replicas replaced.", stages { "\($0.restarts)" })
        metric("pipeline_stage_resident_bytes", "gauge", "Resident memory of the stage's live replicas.", stages { "\($0.residentBytes)" })
        if s.autoscaleCores > 0 {
            metric("pipeline_autoscale_cores", "gauge", "The autoscaler's core budget (only present when autoscaled).",
                   [("", "\(s.autoscaleCores)")])
            metric("pipeline_autoscale_changes_total", "counter", "Replica count changes the autoscaler made, by stage and direction.",
                   s.stages.flatMap { st in
                       [(label(["stage": st.name, "direction": "up"]), "\(st.scaledUp)"),
                        (label(["stage": st.name, "direction": "down"]), "\(st.scaledDown)")]
                   })
        }
        metric("pipeline_shared_memory_ring_bytes", "gauge",
               "The shared-memory ring each data connection's sender offers (PIPELINE_SHARED_MEMORY_MB; 0: sockets only).",
               [("", "\(UInt64(s.sharedMemoryMiB) << 20)")])
        metric("pipeline_sent_frames_total", "counter",
               "Data frames each sender (the source, then each stage to the next) put on its connections, by the way they went.",
               s.senders.flatMap { name, c in
                   [(label(["from": name, "via": "shared_memory"]), "\(c.sharedFrames)"), (label(["from": name, "via": "socket"]), "\(c.inlineFrames)")]
               })
        metric("pipeline_sent_bytes_total", "counter", "Bytes of the data frames counted by pipeline_sent_frames_total.",
               s.senders.flatMap { name, c in
                   [(label(["from": name, "via": "shared_memory"]), "\(c.sharedBytes)"), (label(["from": name, "via": "socket"]), "\(c.inlineBytes)")]
               })
        if let drift {
            metric("pipeline_drift_windows_total", "counter", "Drift windows closed (`[drift] window` input records each).",
                   [("", "\(drift.closed)")])
            metric("pipeline_drift_window_records", "gauge", "Accepted records counted in the open drift window.", [("", "\(drift.records)")])
            if let last = drift.windows.last {
                metric("pipeline_drift", "gauge",
                       "Each watched field's drift in the last closed window: PSI (numeric, text length, score) or Jensen-Shannon distance (categorical, label).",
                       last.results.map { (label(["field": $0.field, "statistic": $0.statistic.rawValue]), "\($0.value)") })
                metric("pipeline_drift_level", "gauge", "Each watched field's level in the last closed window: 0 ok, 1 warn, 2 alert.",
                       last.results.map { (label(["field": $0.field]), $0.level == .ok ? "0" : $0.level == .warn ? "1" : "2") })
                metric("pipeline_drift_window_last_line", "gauge", "The last input line of the last closed drift window.",
                       [("", "\(last.lastLine)")])
            }
        }
        metric("pipeline_model_info", "gauge", "The model being served (sha256 empty while it is computed).",
               [(label(["path": s.model, "sha256": modelSHA256 ?? "", "precision": s.precision]), "1")])
        metric("pipeline_build_info", "gauge", "The pipeline's version.", [(label(["version": pipelineVersion]), "1")])
        return out
    }

    /// Bucket bounds as the text of `le` labels, made once.
    private static let timeBounds = Histogram.bounds.map { "\($0)" } + ["+Inf"]
    private static let sizeBounds = RunMetrics.SizeHistogram.bounds.map { "\($0)" } + ["+Inf"]

    /// One histogram family: per series, its labels (`stage="infer"`, or empty), counts per
    /// bucket (the last over every bound; `bounds` ends with "+Inf") and sum.
    private static func histogram(_ name: String, _ help: String, bounds: [String],
                                  _ series: [(labels: String, counts: [UInt64], sum: String)], into out: inout String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for s in series {
            let braced = s.labels.isEmpty ? "" : "{\(s.labels)}"
            let leading = s.labels.isEmpty ? "{le=\"" : "{\(s.labels),le=\""
            var cumulative: UInt64 = 0
            for (i, bound) in bounds.enumerated() {
                cumulative += s.counts[i]
                out += name
                out += "_bucket"
                out += leading
                out += bound
                out += "\"} "
                out += String(cumulative)
                out += "\n"
            }
            out += "\(name)_sum\(braced) \(s.sum)\n\(name)_count\(braced) \(cumulative)\n"
        }
    }

    /// `{a="x",le="0.1"}` with `le` last and values escaped; empty for no labels.
    static func label(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "" }
        let keys = labels.keys.sorted { ($0 == "le" ? 1 : 0, $0) < ($1 == "le" ? 1 : 0, $1) }
        return "{" + keys.map { "\($0)=\"\(escape(labels[$0]!))\"" }.joined(separator: ",") + "}"
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func seconds(_ nanos: UInt64) -> String { "\(Double(nanos) / 1e9)" }
}
