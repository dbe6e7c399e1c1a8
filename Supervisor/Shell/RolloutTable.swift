import ControlCore
import Messages
import PipelineSink

/// The model versions and the rollout as `pipeline ps` (a line, and JSON), `/metrics` and
/// `pipeline top` (the status snapshot's `models`) show them.
enum RolloutTable {
    /// "versions: 574b9f2ab86c primary (300 records), aadff3884d0b previous (1700 records); canary … "
    static func statusLine(_ r: Rollout) -> String {
        var out = "versions: " + r.live.map { v in
            "\(v.id) \(r.role(of: v)) (\(counted(r.recordsByVersion[v.id] ?? 0, "record")))"
        }.joined(separator: ", ")
        switch r.phase {
        case .steady: break
        case .loading(let v, let mode, _, _, _): out += "; loading \(v.id) for a \(mode.name)"
        case .canary(let v, let bp, _): out += "; canary \(v.id) scores \(percent(bp)) % of the batches"
        case .shadow(let v, _): out += "; shadow \(v.id) scores every batch too"
        }
        if let s = r.shadowStats, let v = r.shadowVersion {
            out += "\nshadow \(v.id)\(r.candidate == v ? "" : " (ended)"): " + ControlCore<Sink.Piece>.describe(s)
        }
        if r.rollbacks > 0 || !r.history.isEmpty { out += "\nrollout history: " + r.history.joined(separator: "; ") }
        return out
    }

    /// What `pipeline top` is sent of them: the same figures as the `versions:` line's.
    static func snapshot(_ r: Rollout) -> StatusSnapshot.Models {
        var m = StatusSnapshot.Models()
        m.versions = r.live.map { v in .init(id: v.id, role: r.role(of: v), records: UInt64(r.recordsByVersion[v.id] ?? 0)) }
        switch r.phase {
        case .steady: m.rollout = .steady
        case .loading(let v, let mode, _, _, _): m.rollout = .loading(version: v.id, mode: mode.name)
        case .canary(let v, let bp, _): m.rollout = .canary(version: v.id, basisPoints: UInt32(clamping: bp))
        case .shadow(let v, _): m.rollout = .shadow(version: v.id)
        }
        if let s = r.shadowStats, let v = r.shadowVersion { m.shadow = (v.id, s) }
        return m
    }

    static func percent(_ basisPoints: Int) -> String { ControlCore<Sink.Piece>.percent(basisPoints) }

    static func json(_ r: Rollout) -> String {
        var phase: String
        switch r.phase {
        case .steady: phase = "{\"state\":\"steady\"}"
        case .loading(let v, let mode, _, _, _): phase = "{\"state\":\"loading\",\"version\":\(RejectLine.quote(v.id)),\"mode\":\"\(mode.name)\"}"
        case .canary(let v, let bp, _): phase = "{\"state\":\"canary\",\"version\":\(RejectLine.quote(v.id)),\"percent\":\(Double(bp) / 100)}"
        case .shadow(let v, _): phase = "{\"state\":\"shadow\",\"version\":\(RejectLine.quote(v.id))}"
        }
        let versions = r.live.map { v in
            "{\"id\":\(RejectLine.quote(v.id)),\"role\":\"\(r.role(of: v))\",\"records\":\(r.recordsByVersion[v.id] ?? 0)}"
        }
        var out = "{\"versions\":[" + versions.joined(separator: ",") + "],\"rollout\":" + phase + ",\"rollbacks\":\(r.rollbacks)"
        if let s = r.shadowStats, let v = r.shadowVersion {
            out += ",\"shadow\":{\"version\":\(RejectLine.quote(v.id)),\"records\":\(s.rows),\"label_disagreements\":\(s.labelDisagreements),"
                + "\"disagreement_share\":\(s.disagreementShare),\"max_probability_difference\":\(number(Double(s.maxDifference))),"
                + "\"mean_max_probability_difference\":\(number(s.meanRowMaximum))}"
        }
        return out + ",\"history\":[" + r.history.map { RejectLine.quote($0) }.joined(separator: ",") + "]}"
    }

    private static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }

    /// A sample value as Prometheus writes one (NaN, +Inf, -Inf included).
    private static func sample(_ x: Double) -> String { x.isNaN ? "NaN" : x.isInfinite ? (x > 0 ? "+Inf" : "-Inf") : "\(x)" }

    /// The `/metrics` families.
    static func metrics(_ r: Rollout) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(String, String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels) \(value)\n" }
        }
        family("pipeline_model_version_info", "gauge", "The model versions the replicas hold, by role (primary, canary, shadow, loading, previous, retiring).",
               r.live.map { (MetricsText.label(["version": $0.id, "role": r.role(of: $0)]), "1") })
        family("pipeline_model_version_records_total", "counter", "Records written, by the model version that scored them.",
               r.recordsByVersion.sorted { $0.key < $1.key }.map { (MetricsText.label(["version": $0.key]), "\($0.value)") })
        family("pipeline_rollbacks_total", "counter", "Automatic rollbacks of a model version.", [("", "\(r.rollbacks)")])
        if let s = r.shadowStats, let v = r.shadowVersion {
            let l = MetricsText.label(["version": v.id])
            family("pipeline_shadow_records_total", "counter", "Records the shadow version scored too (committed batches).", [(l, "\(s.rows)")])
            family("pipeline_shadow_label_disagreements_total", "counter", "Of those, records whose label differs from the primary's.",
                   [(l, "\(s.labelDisagreements)")])
            family("pipeline_shadow_max_probability_difference", "gauge", "The largest probability difference between the shadow and the primary.",
                   [(l, sample(Double(s.maxDifference)))])
            family("pipeline_shadow_mean_max_probability_difference", "gauge", "The mean over records of each record's largest probability difference.",
                   [(l, sample(s.meanRowMaximum))])
        }
        return out
    }
}
