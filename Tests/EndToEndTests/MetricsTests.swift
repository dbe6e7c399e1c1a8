import Foundation
import Glibc
import Testing

/// An HTTP/1.1 GET over a plain blocking socket: the status, the headers (lowercased names) and
/// the body. The server closes the connection after its answer.
func httpGet(_ address: String, _ path: String, method: String = "GET") throws -> (status: Int, headers: [String: String], body: String) {
    struct Failed: Error, CustomStringConvertible { let description: String }
    guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
        throw Failed(description: "not HOST:PORT: \(address)")
    }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Failed(description: "socket: \(errno)") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var sin = sockaddr_in()
    sin.sin_family = sa_family_t(AF_INET)
    sin.sin_port = port.bigEndian
    guard inet_pton(AF_INET, String(address[..<colon]), &sin.sin_addr) == 1 else { throw Failed(description: "not IPv4: \(address)") }
    let connected = withUnsafePointer(to: &sin) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw Failed(description: "connect to \(address): errno \(errno)") }
    let request = Array("\(method) \(path) HTTP/1.1\r\nHost: \(address)\r\nUser-Agent: e2e\r\nConnection: close\r\n\r\n".utf8)
    guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { throw Failed(description: "send: \(errno)") }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n == 0 { break }
        guard n > 0 else { throw Failed(description: "recv: errno \(errno) after \(response.count) bytes") }
        response += buffer[..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { throw Failed(description: "no end of head in \(text.prefix(200))") }
    let head = text[..<split.lowerBound].components(separatedBy: "\r\n")
    let statusParts = head[0].split(separator: " ")
    guard statusParts.count >= 2, statusParts[0] == "HTTP/1.1", let status = Int(statusParts[1]) else {
        throw Failed(description: "bad status line: \(head[0])")
    }
    var headers: [String: String] = [:]
    for line in head.dropFirst() {
        guard let c = line.firstIndex(of: ":") else { continue }
        headers[line[..<c].lowercased()] = line[line.index(after: c)...].trimmingCharacters(in: .whitespaces)
    }
    return (status, headers, String(text[split.upperBound...]))
}

/// `/metrics` and `/healthz` of a running pipeline, through the real binaries, read by real
/// Prometheus tools: `prometheus_client`'s parser (pip), `promtool check metrics` and a
/// Prometheus server (Debian's `prometheus` package); `.ci/run` installs them.
@Suite(.serialized) struct MetricsEndToEndTests {
    /// The metrics address `up` printed on stderr.
    func metricsAddress(_ run: Running) -> String? {
        var address: String?
        _ = waitUntil {
            guard let match = run.stderrText.firstMatch(of: #/metrics on http://([0-9.]+:[0-9]+)/metrics/#) else { return false }
            address = String(match.1)
            return true
        }
        return address
    }

    /// Each scrape parsed by `prometheus_client`: sample name with its sorted labels → value.
    func parse(_ files: [String]) throws -> [[String: Double]] {
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = []
            for path in sys.argv[1:]:
                samples = {}
                for family in text_string_to_metric_families(open(path).read()):
                    for s in family.samples:
                        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                        samples[f"{s.name}{{{labels}}}"] = s.value
                out.append(samples)
            print(json.dumps(out))
            """
        let parsed = try Running("/usr/bin/env", ["python3", "-c", script] + files, stdinFile: "/dev/null").finish()
        #expect(parsed.status == 0, "prometheus_client could not parse the metrics (pip install prometheus_client): \(parsed.err)")
        return try #require(try JSONSerialization.jsonObject(with: parsed.stdout) as? [[String: Double]])
    }

    func promtool(_ file: String) throws -> Finished {
        try Running("/usr/bin/env", ["promtool", "check", "metrics"], stdinFile: file).finish()
    }

    @Test func healthzSaysReadyOnlyOnceEveryStageHasAReadyReplica() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config() + "\n[metrics]\nlisten = \"127.0.0.1:0\"\n")
        // The first infer replica never reports ready.
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir],
                              environment: ["PIPELINE_TEST_HOLD_READY": "infer:1", "PIPELINE_STOP_SECONDS": "1"])
        let address = try #require(metricsAddress(run), "\(run.stderrText)")
        let log = ws.runDir + "/logs/infer.1.log"
        #expect(waitUntil { (try? String(contentsOfFile: log, encoding: .utf8))?.contains("holding back its ready") == true })
        let before = try httpGet(address, "/healthz")
        #expect(before.status == 503 && before.body.contains("infer (0 of 1 ready)"), "\(before)")
        let metrics = try httpGet(address, "/metrics")
        #expect(metrics.status == 200 && metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(metrics.body.contains("pipeline_stage_replicas{stage=\"infer\"} 0\n"), "\(metrics.body)")
        #expect(metrics.body.contains("pipeline_stage_replicas{stage=\"ingest\"} 1\n"))
        let ps = try pipeline(["ps", "--run-dir", ws.runDir])
        #expect(ps.status == 0 && ps.out.contains("metrics: http://\(address)/metrics"), "\(ps.out)")
        let missing = try httpGet(address, "/nothing")
        #expect(missing.status == 404)
        let post = try httpGet(address, "/metrics", method: "POST")
        #expect(post.status == 405)

        // Its replacement is ready: so is the pipeline.
        let held = try #require(replicaPids(ws.runDir, "infer").first)
        kill(held, SIGKILL)
        #expect(waitUntil { (try? httpGet(address, "/healthz"))?.status == 200 })
        #expect(try httpGet(address, "/healthz").body == "ok\n")
        run.write(Records.jsonl(100))
        let result = run.finish()
        #expect(result.status == 0 && result.lines.count == 100, "\(result.err)")
        let events = try String(contentsOfFile: ws.runDir + "/logs/events.log", encoding: .utf8)
        #expect(events.contains("\"metrics\":\"http://\(address)/metrics\""), "\(events.prefix(400))")
    }

    /// Scrapes during a stream fed in steps; a kill -9 and a scale-up in the middle.
    @Test func metricsFollowAStreamThroughAKillAndAScale() throws {
        let ws = Workspace()
        defer { ws.remove() }
        var text = Records.config(batchRows: 32)
        text += "\n[stage.infer]\nrestart = { max = 10, within_s = 30 }\n"
        let cfg = ws.write("pipeline.toml", text)
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--metrics", "127.0.0.1:0"])
        let address = try #require(metricsAddress(run), "\(run.stderrText)")
        var files: [String] = []
        func scrape() throws -> String {
            let response = try httpGet(address, "/metrics")
            #expect(response.status == 200)
            files.append(ws.write("scrape-\(files.count).txt", response.body))
            return response.body
        }
        func value(_ body: String, _ series: String) -> Double? {
            body.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
        }
        var written = 0
        for step in 0..<5 {
            run.write(Records.jsonl(200, seed: UInt64(step + 1), firstID: written + 1))
            written += 200
            #expect(run.waitForLines(written) == written)
            // What stdout took, counted once the supervisor hears the writer: never more, soon equal.
            #expect(waitUntil { (try? scrape()).flatMap { value($0, "pipeline_output_records_total") } == Double(written) })
            switch step {
            case 1:
                // Once the replica has reported what it did (heartbeats, every 250 ms), that stays counted.
                #expect(waitUntil { (try? scrape()).flatMap { value($0, "pipeline_stage_records_total{stage=\"infer\"}") }.map { $0 > 0 } == true })
                let killed = replicaPids(ws.runDir, "infer")[0]
                kill(killed, SIGKILL)
                #expect(waitUntil { replicaPids(ws.runDir, "infer").contains { $0 != killed } })
                #expect(waitUntil { (try? scrape()).flatMap { value($0, "pipeline_replica_restarts_total{stage=\"infer\"}") } == 1 })
            case 2:
                let scale = try pipeline(["scale", "--run-dir", ws.runDir, "infer=2"])
                #expect(scale.status == 0, "\(scale.err)")
                let body = try scrape()
                #expect(value(body, "pipeline_stage_replicas{stage=\"infer\"}") == 2, "scale waits for ready")
                #expect(value(body, "pipeline_stage_replicas_desired{stage=\"infer\"}") == 2)
            default: break
            }
        }
        // Stage counts come with the replicas' heartbeats (every 250 ms); the new infer replicas report too.
        #expect(waitUntil {
            guard let body = try? scrape() else { return false }
            return value(body, "pipeline_stage_records_total{stage=\"aggregate\"}").map { $0 >= 1000 } == true
                && value(body, "pipeline_stage_resident_bytes{stage=\"infer\"}").map { $0 > 0 } == true
        })
        let last = try scrape()
        #expect(value(last, "pipeline_input_records_total") == 1000)
        #expect(value(last, "pipeline_stage_queue_seconds_count{stage=\"infer\"}").map { $0 > 0 } == true)
        #expect(value(last, "pipeline_batch_records_sum") == 1000)
        let result = run.finish()
        #expect(result.status == 0 && result.lines.count == 1000, "\(result.err)")
        #expect(last.contains("pipeline_output_bytes_total \(result.stdout.count)\n"), "bytes out are what stdout got")

        for file in files {
            let check = try promtool(file)
            #expect(check.status == 0 && check.out.isEmpty && check.err.isEmpty, "promtool on \(file): \(check.out)\(check.err)")
        }
        let scrapes = try parse(files)
        #expect(scrapes.count == files.count)
        // Counters and histograms never go back, across the kill -9 and the scale.
        let cumulative = scrapes.last!.keys.filter {
            $0.contains("_total{") || $0.contains("_bucket{") || $0.contains("_count{") || $0.contains("_sum{")
        }
        #expect(cumulative.count > 60, "\(cumulative.count) series")
        for series in cumulative {
            let values = scrapes.compactMap { $0[series] }
            #expect(values == values.sorted(), "\(series) went back: \(values)")
        }
        #expect(scrapes.last!["pipeline_output_records_total{}"] == 1000)
        #expect(scrapes.last!["pipeline_stage_queue_seconds_count{stage=infer}"].map { $0 > 0 } == true)
        #expect(scrapes.last!["pipeline_latency_seconds_bucket{le=+Inf}"] == scrapes.last!["pipeline_latency_seconds_count{}"])
    }

    /// A real Prometheus server scrapes the pipeline; its query API returns what the run wrote.
    @Test func aPrometheusServerScrapesThePipeline() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--metrics", "127.0.0.1:0"])
        let address = try #require(metricsAddress(run), "\(run.stderrText)")
        run.write(Records.jsonl(300))
        #expect(run.waitForLines(300) == 300)

        let prometheusConfig = ws.write("prometheus.yml", """
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: pipeline
                static_configs:
                  - targets: ["\(address)"]
            """)
        let port = freeTCPPort()
        let server = try Running("/usr/bin/env", ["prometheus", "--config.file=\(prometheusConfig)",
                                                  "--storage.tsdb.path=\(ws.path)/tsdb", "--web.listen-address=127.0.0.1:\(port)"],
                                 stdinFile: "/dev/null")
        defer {
            kill(server.pid, SIGTERM)
            _ = server.finish(seconds: 30)
        }
        var answer = ""
        let queried = waitUntil(seconds: 60) {
            guard let response = try? httpGet("127.0.0.1:\(port)", "/api/v1/query?query=pipeline_output_records_total") else { return false }
            answer = response.body
            return response.status == 200 && answer.contains("\"300\"")
        }
        #expect(queried, "Prometheus answered: \(answer)\n\(server.stderrText.suffix(2000))")
        #expect(answer.contains("\"job\":\"pipeline\""), "\(answer)")
        run.closeInput()
        #expect(run.finish().status == 0)
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick for port 0).
func freeTCPPort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var sin = sockaddr_in()
    sin.sin_family = sa_family_t(AF_INET)
    sin.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &sin) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Int32 in
            _ = bind(fd, p, length)
            return getsockname(fd, p, &length)
        }
    }
    return UInt16(bigEndian: sin.sin_port)
}
