import Messages
import Runtime

/// What `/healthz` says of a run: ready once every stage has a ready replica.
enum Health {
    /// 200 and "ok", or 503 and the stages that have no ready replica.
    static func check(_ s: StatusSnapshot) -> (status: Int, body: String) {
        let missing = s.stages.filter { $0.ready == 0 }
        if s.stages.isEmpty { return (503, "not ready: starting\n") }
        guard missing.isEmpty else {
            let paused = missing.filter { $0.desired == 0 }.map(\.name)
            let starting = missing.filter { $0.desired > 0 }.map { "\($0.name) (0 of \($0.desired) ready)" }
            var reasons: [String] = []
            if !starting.isEmpty { reasons.append("no ready replica of " + starting.joined(separator: ", ")) }
            if !paused.isEmpty { reasons.append(paused.joined(separator: ", ") + (paused.count == 1 ? " is" : " are") + " paused (0 replicas)") }
            return (503, "not ready: " + reasons.joined(separator: "; ") + "\n")
        }
        return (200, "ok\n")
    }
}

extension Supervisor {
    /// The metrics server's answer to `request`: `/metrics`, `/healthz`, else 404.
    func answer(_ request: HTTPRequest) -> HTTPResponse {
        switch request.path {
        case "/metrics":
            let text = MetricsText.render(snapshot(), rejectedByCode: sink.rejectedByCode, batchRecords: metrics.batchRecords,
                                          sourceWait: metrics.admission, modelSHA256: modelDigest?.result, drift: core.drift)
                + RolloutTable.metrics(core.rollout) + logRotator.metrics()
            return HTTPResponse(status: 200, contentType: MetricsText.contentType, body: text)
        case "/healthz":
            let health = Health.check(snapshot())
            return HTTPResponse(status: health.status, body: health.body)
        default:
            return HTTPResponse(status: 404, body: "not found: \(request.path) (this server has /metrics and /healthz)\n")
        }
    }
}
