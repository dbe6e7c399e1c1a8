import Foundation
import Glibc
import Testing

/// The run directory's logs rotated by size through the real binaries (`PIPELINE_LOG_MAX_SIZE`,
/// `PIPELINE_LOG_KEEP`): a drift-watched stream's events.log and a detached run's pipeline.log.
/// What is kept is the newest part of the log, whole lines in order; `pipeline logs` reads the
/// rotated files first; `ps`, `ps --json` and `/metrics` say so.
@Suite struct LogRotationTests {
    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
    func size(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }

    @Test func aLongRunsEventLogKeepsItsNewestLinesInRotatedFiles() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let training = ws.write("training.jsonl", DriftTests.records(5_000, seed: 21))
        let cfg = ws.write("pipeline.toml", DriftTests.config(window: 100) + "\n[metrics]\nlisten = \"127.0.0.1:0\"\n")
        #expect(try pipeline(["profile", "-f", cfg, "--output", ws.path + "/reference.json"], stdinFile: training).status == 0)
        let full = ws.path + "/all-events.jsonl"
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--events", full],
                              environment: ["PIPELINE_LOG_MAX_SIZE": "8K", "PIPELINE_LOG_KEEP": "3"])
        defer { _ = run.finish() }
        let log = ws.runDir + "/logs/events.log"
        // 100 windows of 100 records, a drift_window event each (~500 bytes, and drift events
        // once the stream drifts): over 6 times the 4 × 8 KiB kept. Each chunk waits until the
        // supervisor has rotated a full log.
        for chunk in 0..<20 {
            run.write(DriftTests.records(500, seed: 22 + UInt64(chunk), firstID: 1 + 500 * chunk, shift: chunk >= 10 ? 0.5 : 0))
            #expect(run.waitForLines(500 * (chunk + 1)) == 500 * (chunk + 1))
            #expect(waitUntil { size(log) < 8 << 10 }, "events.log is rotated once full: \(size(log)) bytes")
        }
        let ps = try pipeline(["ps", "--run-dir", ws.runDir])
        let rotations = try #require(ps.out.firstMatch(of: #/logs: events\.log [0-9.]+ (?:KiB|B) of 8 KiB, rotated (\d+) times, 3 rotated kept/#)
            .flatMap { Int($0.1) }, "\(ps.out)")
        #expect(rotations >= 4, "more than kept: \(ps.out)")
        let json = try #require(try JSONSerialization.jsonObject(with: try pipeline(["ps", "--run-dir", ws.runDir, "--json"]).stdout) as? [String: Any])
        let logs = try #require(json["logs"] as? [[String: Any]])
        #expect(logs.count == 1 && logs[0]["name"] as? String == "events.log" && logs[0]["max_bytes"] as? Int == 8 << 10
                && logs[0]["keep"] as? Int == 3 && logs[0]["rotations"] as? Int == rotations, "\(logs)")
        let address = try #require(run.stderrText.firstMatch(of: #/metrics on http://([0-9.]+:[0-9]+)/metrics/#).map { String($0.1) })
        let metrics = try httpGet(address, "/metrics").body
        #expect(metrics.contains("pipeline_log_rotations_total{log=\"events.log\"} \(rotations)"), "\(metrics)")
        #expect(metrics.contains(/pipeline_log_bytes\{log="events.log"\} \d+/), "\(metrics)")
        run.closeInput()
        let done = run.finish()
        #expect(done.status == 0, "\(done.err)")

        // Three rotated files, none beyond; each was rotated when full, at a line's end.
        let kept = (1...3).map { "\(log).\(4 - $0)" }
        #expect(kept.allSatisfy { FileManager.default.fileExists(atPath: $0) } && !FileManager.default.fileExists(atPath: log + ".4"))
        for file in kept {
            #expect(size(file) >= 8 << 10 && read(file).hasSuffix("\n"), "\(file): \(size(file)) bytes")
        }
        // They are the newest part of the whole log (--events, never rotated), in order, each
        // line once; each new file begins by saying where the last one went (the lines queued
        // before the rotation end the file before it).
        let whole = read(full)
        let newest = kept.map(read).joined() + read(log)
        #expect(whole.hasSuffix(newest) && newest.count < whole.count)
        #expect(read(log).contains("\"event\":\"run_finished\""))
        for file in kept + [log] {
            let first = read(file).split(separator: "\n").first ?? ""
            #expect(first.contains("\"event\":\"log_rotated\",\"log\":\"events.log\"") && first.contains("\"to\":\"\(log).1\""), "\(file): \(first)")
        }
        // `pipeline logs events` reads them oldest first, then events.log.
        let raw = try pipeline(["logs", "events", "--run-dir", ws.runDir])
        #expect(raw.status == 0 && raw.out == newest)
        // A new run in the directory starts without the old run's rotated files.
        #expect(try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.write("one", DriftTests.records(1, seed: 3))).status == 0)
        #expect(!FileManager.default.fileExists(atPath: log + ".1"))
    }

    /// A detached run's own log (its stderr: here, the rejected records it reports) is rotated too.
    @Test func aDetachedRunsOwnLogIsRotated() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let fifo = ws.path + "/in.fifo", out = ws.path + "/out.jsonl"
        #expect(mkfifo(fifo, 0o600) == 0)
        let env = ["PIPELINE_LOG_MAX_SIZE": "8K", "PIPELINE_LOG_KEEP": "2"]
        let up = try pipeline(["up", "-d", "-f", cfg, "--run-dir", ws.runDir, "--input", fifo, "--output", out], environment: env, seconds: 60)
        #expect(up.status == 0, "\(up.out)\(up.err)")
        let pid = try #require(up.out.firstMatch(of: #/pid (\d+)/#).flatMap { Int32($0.1) }, "\(up.out)")
        defer { if !processGone(pid) { kill(pid, SIGKILL) } }
        // The run opened the FIFO for reading; were it gone, a blocking open would wait forever.
        var writer: Int32 = -1
        #expect(waitUntil { writer = open(fifo, O_WRONLY | O_NONBLOCK); return writer >= 0 || processGone(pid) })
        try #require(writer >= 0, "the detached run is gone: \(read(ws.runDir + "/logs/pipeline.log"))")
        _ = fcntl(writer, F_SETFL, fcntl(writer, F_GETFL) & ~O_NONBLOCK)
        let log = ws.runDir + "/logs/pipeline.log"
        var sent = 0
        for chunk in 0..<12 {
            // 40 records, 20 of them not JSON: a rejected-record line each on the run's stderr.
            var text = ""
            for i in 0..<20 { text += "not json, chunk \(chunk) record \(i)\n" + Records.jsonl(1) }
            sent += 20
            #expect(text.utf8.withContiguousStorageIfAvailable { Glibc.write(writer, $0.baseAddress, $0.count) } == text.utf8.count)
            #expect(waitUntil { read(out).split(separator: "\n").count == sent })
            #expect(waitUntil { read(log).contains("chunk \(chunk) record 19") || read(log + ".1").contains("chunk \(chunk) record 19") })
            #expect(waitUntil { size(log) < 8 << 10 }, "pipeline.log is rotated once full: \(size(log)) bytes")
        }
        let ps = try pipeline(["ps", "--run-dir", ws.runDir])
        #expect(ps.out.contains(/; pipeline\.log [0-9.]+ (?:KiB|B) of 8 KiB, rotated \d+ times, 2 rotated kept/), "\(ps.out)")
        close(writer)
        #expect(waitUntil(seconds: 60) { processGone(pid) })
        #expect(FileManager.default.fileExists(atPath: log + ".2") && !FileManager.default.fileExists(atPath: log + ".3"))
        // `pipeline logs pipeline`: the kept files in order, ending with the last chunk's rejects.
        let shown = try pipeline(["logs", "pipeline", "--run-dir", ws.runDir]).out
        let order = (0..<12).compactMap { chunk in shown.range(of: "chunk \(chunk) record 0\"")?.lowerBound }
        #expect(order == order.sorted() && order.count >= 2, "\(shown)")
        #expect(shown.contains("chunk 11 record 19") && !shown.contains("chunk 0 record 0\""), "\(shown)")
        #expect(shown.contains(/pipeline\.log reached [0-9.]+ KiB: it is now .*pipeline\.log\.1, and a new pipeline\.log begins \(2 rotated kept\)/), "\(shown)")
    }
}
