import Foundation
import Glibc
import Testing

/// The model's weights are loaded once per machine: four infer replicas of a ~100 MB model
/// share one copy (mapped read-only from the weight cache in the run directory), so together
/// they add well under twice the model's size. Measured as the sum of their PSS (each shared
/// page counted 1/n in each of the n processes mapping it), while idle after scoring.
@Suite(.serialized) struct SharedWeightsTests {
    /// 7 → 2048 → 4096 → 4096 → 2: 25.2 M float32 weights, 100.7 MB.
    static let layers = [7, 2048, 4096, 4096, 2]

    @Test func fourInferReplicasShareOneCopyOfTheWeights() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let model = ws.path + "/big.onnx"
        let modelBytes = try BigModel.write(layers: Self.layers, seed: 7, to: model)
        // One record per batch, so a burst of records spreads over the replicas.
        let config = Records.config(batchRows: 1, window: 16)
            .replacingOccurrences(of: "path = \"\(Paths.demoModel)\"", with: "path = \"\(model)\"")
        let cfg = ws.write("pipeline.toml", config)
        // Two records: a row through a 100 MB MLP takes seconds in a debug build.
        let input = Records.jsonl(2, seed: 3)

        // Four replicas first: they start together on an empty run directory and race to build
        // the weight cache (one builds it, the others wait and map it); then one replica maps it.
        let four = try measure(ws, cfg, input: input, replicas: 4)
        let one = try measure(ws, cfg, input: input, replicas: 1)
        for files in [four.files, one.files] {
            #expect(files.filter { $0.hasSuffix(".cache") }.count == 1 && !files.contains { $0.contains(".tmp.") }, "\(files)")
        }
        let after = (try? FileManager.default.contentsOfDirectory(atPath: ws.runDir)) ?? []
        #expect(!after.contains { $0.hasSuffix(".cache") }, "the cache lives as long as the run: \(after)")
        let mb = { (bytes: Int) in String(format: "%.1f MB", Double(bytes) / 1e6) }
        print("shared weights: model \(mb(modelBytes)); infer=1: RSS \(mb(one.rss)) PSS \(mb(one.pss)); "
            + "infer=4: RSS \(mb(four.rss)) PSS \(mb(four.pss)) (per replica RSS \(four.perReplicaRSS.map(mb)))")
        #expect(one.output == four.output, "the output does not depend on the replica count")
        #expect(one.output.split(separator: "\n").count == 2)
        // Every replica has all the weights resident (a replica maps them in before it is ready,
        // so that its first batch does not stall on page faults)…
        #expect(four.perReplicaRSS.count == 4)
        for rss in four.perReplicaRSS { #expect(rss > modelBytes * 9 / 10, "a replica holds \(mb(rss))") }
        // …and yet the four hold them once.
        #expect(four.pss < modelBytes * 3 / 2, "4 replicas' PSS \(mb(four.pss)) for a \(mb(modelBytes)) model")
    }

    /// During a rollout each infer replica holds two versions: still one copy of each version's
    /// weights on the machine, however many replicas (shadow mode, so that both score batches).
    @Test func twoVersionsOnTwoReplicasHoldEachVersionOnce() throws {
        let ws = Workspace()
        defer { ws.remove() }
        // 7 → 1024 → 2048 → 2048 → 2: 6.3 M float32 weights, 25.2 MB each.
        let layers = [7, 1024, 2048, 2048, 2]
        let first = ws.path + "/v1.onnx", second = ws.path + "/v2.onnx"
        let bytes = try BigModel.write(layers: layers, seed: 11, to: first) + BigModel.write(layers: layers, seed: 12, to: second)
        let cfg = ws.write("pipeline.toml", Records.config(batchRows: 1, window: 16)
            .replacingOccurrences(of: "path = \"\(Paths.demoModel)\"", with: "path = \"\(first)\""))
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--scale", "infer=2"],
                              environment: ["PIPELINE_HANG_SECONDS": "120"])
        #expect(waitUntil(seconds: 120) { replicaPids(ws.runDir, "infer").count == 2 && isReady(ws, 2) })
        let reply = try pipeline(["rollout", "--run-dir", ws.runDir, second, "--shadow"])
        #expect(reply.status == 0, "\(reply.err)")
        run.write(Records.jsonl(4, seed: 5))
        #expect(run.waitForLines(4, seconds: 120) == 4, "\(run.stderrText)")
        let memory = replicaPids(ws.runDir, "infer").map { Self.rollup($0) }
        let caches = ((try? FileManager.default.contentsOfDirectory(atPath: ws.runDir)) ?? []).filter { $0.hasSuffix(".cache") }
        run.closeInput()
        #expect(run.finish(seconds: 60).status == 0)
        let mb = { (b: Int) in String(format: "%.1f MB", Double(b) / 1e6) }
        let pss = memory.reduce(0) { $0 + $1.pss }
        print("two versions: models \(mb(bytes)) in all; infer=2: PSS \(mb(pss)), per replica RSS \(memory.map { mb($0.rss) })")
        #expect(caches.count == 2, "one weight cache per version: \(caches)")
        #expect(memory.count == 2)
        for m in memory { #expect(m.rss > bytes * 9 / 10, "each replica holds both versions: \(mb(m.rss))") }
        #expect(pss < bytes * 3 / 2, "2 replicas × 2 versions: PSS \(mb(pss)) for \(mb(bytes)) of models")
    }

    struct Measured {
        var output: String
        /// Sums over the infer replicas.
        var rss: Int
        var pss: Int
        var perReplicaRSS: [Int]
        /// The run directory's files while the run was idle.
        var files: [String]
    }

    /// Runs `pipeline up --scale infer=N`, waits for every output line, reads the replicas'
    /// memory while they idle, then ends the run.
    private func measure(_ ws: Workspace, _ cfg: String, input: String, replicas: Int) throws -> Measured {
        // A batch takes seconds in a debug build: more than the default heartbeat timeout.
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--scale", "infer=\(replicas)"],
                              environment: ["PIPELINE_HANG_SECONDS": "120"])
        let lines = input.split(separator: "\n").count
        // Wait for every replica to be up, so that the burst below spreads over all of them.
        #expect(waitUntil(seconds: 120) { replicaPids(ws.runDir, "infer").count == replicas && isReady(ws, replicas) })
        run.write(input)
        #expect(run.waitForLines(lines, seconds: 120) == lines, "\(run.stderrText)")
        let pids = replicaPids(ws.runDir, "infer")
        let memory = pids.map { Self.rollup($0) }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: ws.runDir)) ?? []
        let done = run.finish(seconds: 60)
        #expect(done.status == 0, "\(done.err)")
        return Measured(output: done.out, rss: memory.reduce(0) { $0 + $1.rss }, pss: memory.reduce(0) { $0 + $1.pss },
                        perReplicaRSS: memory.map(\.rss), files: files)
    }

    /// Whether `replicas` infer replicas have logged that they are ready (no process is spawned
    /// to ask: polling `pipeline ps` would start one every 20 ms).
    private func isReady(_ ws: Workspace, _ replicas: Int) -> Bool {
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: ws.runDir + "/logs")) ?? []
        let ready = logs.filter { name in
            name.hasPrefix("infer.") && ((try? String(contentsOfFile: ws.runDir + "/logs/" + name, encoding: .utf8))?
                .contains("] ready (pid") ?? false)
        }
        return ready.count == replicas
    }

    /// RSS and PSS in bytes from `/proc/<pid>/smaps_rollup`.
    static func rollup(_ pid: Int32) -> (rss: Int, pss: Int) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Int {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
        }
        return (field("Rss"), field("Pss"))
    }
}

/// Writes an MLP as PyTorch exports it (Gemm with transB=1, Relu between, Softmax at the end),
/// weights from a seeded generator, with a protobuf writer just big enough for ONNX.
enum BigModel {
    /// Returns the number of weight bytes.
    static func write(layers: [Int], seed: UInt64, to path: String) throws -> Int {
        var state = UInt32(truncatingIfNeeded: seed) | 1
        var graph = Proto()
        var initializers = Proto()
        var weightBytes = 0
        var x = "input"
        for l in 0..<(layers.count - 1) {
            let (k, n) = (layers[l], layers[l + 1])
            let scale = 1 / Float(k).squareRoot()
            for (name, dims) in [("w\(l)", [n, k]), ("b\(l)", [n])] {
                let count = dims.reduce(1, *)
                var raw = [UInt8](repeating: 0, count: 4 * count)
                raw.withUnsafeMutableBytes { out in
                    for i in 0..<count {
                        // xorshift32: cheap enough for 25 M values in a debug build.
                        state ^= state << 13
                        state ^= state >> 17
                        state ^= state << 5
                        let unit = Float(state >> 8) / Float(1 << 24)
                        out.storeBytes(of: ((unit * 2 - 1) * scale).bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                    }
                }
                weightBytes += raw.count
                initializers.message(5) { t in
                    t.packed(1, dims)
                    t.int(2, 1)  // FLOAT
                    t.string(8, name)
                    t.bytes(9, raw)
                }
            }
            let out = l == layers.count - 2 ? "logits" : "h\(l)"
            graph.message(1) { node in
                for input in [x, "w\(l)", "b\(l)"] { node.string(1, input) }
                node.string(2, out)
                node.string(3, "gemm\(l)")
                node.string(4, "Gemm")
                node.message(5) { a in a.string(1, "transB"); a.int(3, 1); a.int(20, 2) }
            }
            x = out
            if l < layers.count - 2 {
                graph.message(1) { node in
                    node.string(1, x)
                    node.string(2, "r\(l)")
                    node.string(4, "Relu")
                }
                x = "r\(l)"
            }
        }
        graph.message(1) { node in
            node.string(1, x)
            node.string(2, "probabilities")
            node.string(4, "Softmax")
        }
        graph.string(2, "big_mlp")
        graph.append(initializers)
        graph.valueInfo(11, "input", dims: [nil, layers[0]])
        graph.valueInfo(12, "probabilities", dims: [nil, layers.last!])
        var model = Proto()
        model.int(1, 8)
        model.string(2, "pytorch")
        model.message(7) { $0.append(graph) }
        model.message(8) { o in o.string(1, ""); o.int(2, 13) }
        guard FileManager.default.createFile(atPath: path, contents: Data(model.out)) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return weightBytes
    }

    /// The protobuf wire format, writing side: varints, length-delimited fields, nested messages.
    struct Proto {
        var out: [UInt8] = []

        mutating func varint(_ value: UInt64) {
            var v = value
            while v >= 0x80 {
                out.append(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            out.append(UInt8(v))
        }
        mutating func key(_ field: Int, _ wire: UInt64) { varint(UInt64(field) << 3 | wire) }
        mutating func int(_ field: Int, _ value: Int) { key(field, 0); varint(UInt64(bitPattern: Int64(value))) }
        mutating func bytes(_ field: Int, _ payload: [UInt8]) { key(field, 2); varint(UInt64(payload.count)); out += payload }
        mutating func string(_ field: Int, _ text: String) { bytes(field, Array(text.utf8)) }
        mutating func append(_ other: Proto) { out += other.out }
        mutating func message(_ field: Int, _ build: (inout Proto) -> Void) {
            var inner = Proto()
            build(&inner)
            bytes(field, inner.out)
        }
        mutating func packed(_ field: Int, _ values: [Int]) {
            var inner = Proto()
            for v in values { inner.varint(UInt64(bitPattern: Int64(v))) }
            bytes(field, inner.out)
        }
        /// ValueInfoProto of a float tensor; a nil dim is the symbolic batch dimension.
        mutating func valueInfo(_ field: Int, _ name: String, dims: [Int?]) {
            message(field) { v in
                v.string(1, name)
                v.message(2) { type in
                    type.message(1) { tensor in
                        tensor.int(1, 1)
                        tensor.message(2) { shape in
                            for dim in dims {
                                shape.message(1) { d in if let dim { d.int(1, dim) } else { d.string(2, "N") } }
                            }
                        }
                    }
                }
            }
        }
    }
}
