import Foundation
import Glibc
import Messages
import Runtime
import Testing

/// The shared-memory rings between the processes, through the real binaries: batches large
/// enough to take them, every stage killed with kill -9 while frames are in its rings, and the
/// output byte-identical to a run over the sockets only.
@Suite(.serialized) struct SharedMemoryTests {
    /// Frames of 4 KiB and more take the ring: 1024-record batches of ~90-byte records make
    /// every sender's frames that large.
    func config() -> String {
        var text = Records.config(batchRows: 1024, window: 16)
        for stage in ["ingest", "featurize", "infer", "aggregate"] {
            text += "\n[stage.\(stage)]\nrestart = { max = 100, within_s = 30 }\n"
        }
        return text
    }

    /// Each sender's frames through the ring and over the socket, from a `--stats` file.
    func sent(_ statsPath: String) throws -> [String: (shared: Int, socket: Int)] {
        let transport = try #require(try stats(statsPath)["transport"] as? [String: Any])
        let sent = try #require(transport["sent"] as? [String: [String: Int]])
        return sent.mapValues { ($0["shared_frames"] ?? -1, $0["socket_frames"] ?? -1) }
    }

    func stats(_ path: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    @Test func killNineOfEveryStageWithFramesInTheRingsLosesNothing() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", config())
        let parts = (0..<5).map { Records.jsonl(4096, seed: 40 + UInt64($0), firstID: 1 + 4096 * $0) }

        // The reference: the sockets only.
        let refStats = ws.path + "/ref-stats.json"
        let reference = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir + "-ref", "--stats", refStats],
                                     stdinFile: ws.write("input.jsonl", parts.joined()), environment: ["PIPELINE_SHARED_MEMORY_MB": "0"])
        #expect(reference.status == 0, "\(reference.err)")
        let socketOnly = try sent(refStats)
        #expect(Set(socketOnly.keys) == ["source", "ingest", "featurize", "infer", "aggregate"])
        #expect(socketOnly.values.allSatisfy { $0.shared == 0 && $0.socket > 0 }, "\(socketOnly)")

        // With the rings and no fault: the same bytes, nothing sent twice, and the frames through
        // the rings but those sent before the receiver said it took its ring (at most the 4
        // credits each stage grants; the sink grants `window`) and a batch cut short under 4 KiB.
        // (That the rings get their space back is SharedRingLinkTests': 16 MiB outlasts this run.)
        let cleanStats = ws.path + "/clean-stats.json"
        let clean = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir + "-clean", "--stats", cleanStats],
                                 stdinFile: ws.path + "/input.jsonl")
        #expect(clean.status == 0, "\(clean.err)")
        #expect(same(clean.stdout, reference.stdout))
        #expect(try stats(cleanStats)["resent_units"] as? Int == 0)
        let ringed = try sent(cleanStats)
        for sender in ["source", "ingest", "featurize", "infer"] {
            let (shared, socket) = ringed[sender] ?? (0, 99)
            #expect(shared >= 2 * socket && socket <= 8, "\(sender): \(ringed)")
        }
        #expect((ringed["aggregate"]?.shared ?? 0) > 0, "\(ringed)")

        // With rings (the default), a replica of each stage killed in turn mid-stream.
        let stats = ws.path + "/stats.json"
        let events = ws.path + "/events.jsonl"
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--stats", stats, "--events", events])
        var killed: [Int32] = []
        for (i, part) in parts.enumerated() {
            run.write(part)
            if i < 4 {
                let stage = ["ingest", "featurize", "infer", "aggregate"][i]
                #expect(run.waitForLines(4096 * i + 1) > 4096 * i, "stream moving before kill \(i)")
                #expect(waitUntil { !replicaPids(ws.runDir, stage).isEmpty })
                for pid in replicaPids(ws.runDir, stage) where kill(pid, SIGKILL) == 0 { killed.append(pid) }
            }
        }
        let result = run.finish()
        #expect(killed.count >= 4)
        #expect(result.status == 0, "\(result.err)")
        #expect(same(result.stdout, reference.stdout), "byte-identical to the run over the sockets")
        #expect(runSummary(result.err) == runSummary(reference.err), "\(result.err)")
        #expect(result.err.contains("restarting it"))

        // Every sender's large frames went through its rings.
        let shared = try sent(stats)
        for sender in ["source", "ingest", "featurize", "infer", "aggregate"] {
            #expect((shared[sender]?.shared ?? 0) > 0, "\(sender): \(shared)")
        }
        let started = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n").first.map(String.init) ?? ""
        #expect(started.contains("\"shared_memory_mb\":16"), "\(started)")
        #expect(processes(mentioning: ws.path).isEmpty)
    }

    @Test func psAndMetricsShowTheTransport() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", config())
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--metrics", "127.0.0.1:0"])
        defer { _ = run.finish() }
        run.write(Records.jsonl(8192, seed: 5))
        #expect(run.waitForLines(8192) == 8192)
        // Counts come with heartbeats (every 250 ms): wait until ingest's have arrived.
        var ps = ""
        #expect(waitUntil {
            ps = (try? pipeline(["ps", "--run-dir", ws.runDir]).out) ?? ""
            return ps.contains("transport: shared memory, 16 MiB ring per connection; frames through it: source ")
                && !ps.contains("ingest 0 of")
        }, "\(ps)")
        let json = try pipeline(["ps", "--json", "--run-dir", ws.runDir]).out
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let transport = try #require(object["transport"] as? [String: Any])
        #expect(transport["shared_memory_mb"] as? Int == 16)
        let url = try #require(object["metrics"] as? String)
        let address = try #require(url.firstMatch(of: #/http://([^/]+)/#).map { String($0.1) })
        let metrics = try httpGet(address, "/metrics").body
        #expect(metrics.contains("pipeline_shared_memory_ring_bytes 16777216\n"), "\(metrics)")
        let line = try #require(metrics.split(separator: "\n").first { $0.hasPrefix("pipeline_sent_frames_total{from=\"source\",via=\"shared_memory\"}") })
        #expect((Int(line.split(separator: " ").last ?? "") ?? 0) > 0, "\(line)")
    }

    @Test func socketsOnlyIsSaidSo() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", config())
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir], environment: ["PIPELINE_SHARED_MEMORY_MB": "0"])
        defer { _ = run.finish() }
        run.write(Records.jsonl(100, seed: 5))
        #expect(run.waitForLines(100) == 100)
        let ps = try pipeline(["ps", "--run-dir", ws.runDir])
        #expect(ps.out.contains("\ntransport: sockets only (PIPELINE_SHARED_MEMORY_MB=0)\n"), "\(ps.out)")
    }

    /// A process holding the cookie connects to a replica's data socket as the replica upstream
    /// of it (with its own pid: a hello naming another's is refused before anything else) and
    /// offers rings the replica must refuse: a pipe, a memory file without seals, and a proper
    /// ring with a reference past its end. Each closes only that connection; the process that
    /// connected is not one of the run's, so nobody is killed, and the output is unchanged.
    @Test func aHostileRingClosesOnlyThatConnectionAndGetsNobodyKilled() throws {
        let logs = try streamAroundAnAttack(seed: 81) { runDir, cookie in
            func offer(_ descriptor: Int32, size: Int, then more: [UInt8] = []) throws {
                let fd = try #require(connectBlocking(runDir + "/infer.1.sock"))
                defer { close(fd) }
                sendAll(fd, hello(.data, .featurize, replica: 1, pid: getpid(), cookie: cookie))
                let out = FrameBuffer()
                SharedRingOffer(size: UInt64(size)).encode(into: out)
                #expect(try Sys.send(fd, out.bytes, attaching: descriptor) == out.count)
                sendAll(fd, more)
                #expect(waitForClose(fd), "infer.1 closed the connection")
            }
            let pipe = try Sys.pipe()
            try offer(pipe.read, size: 1 << 20)
            Sys.close(pipe.read)
            Sys.close(pipe.write)
            let unsealed = try Sys.memoryFile(name: "unsealed", size: 1 << 20)
            try offer(unsealed, size: 1 << 20)
            Sys.close(unsealed)
            let ring = try SharedRing(size: 1 << 16)
            let reference = FrameBuffer()
            SharedFrameRef(offset: 1 << 16, length: 4096, index: 0).encode(into: reference)
            try offer(ring.fd, size: 1 << 16, then: Array(reference.bytes))
        }
        #expect(logs.components(separatedBy: "not a memory file sealed against resizing and new writers").count == 3, "\(logs)")
        #expect(logs.contains("are not a frame in a ring of 65536"), "\(logs)")
    }
}
