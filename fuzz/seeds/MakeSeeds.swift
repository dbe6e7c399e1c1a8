// Writes the committed seed corpus of the fuzz targets (fuzz/run.sh --seeds). Compiled in one
// module with Shared/Messages, whose encoders make the frames; run from the repository root with
// the corpus directory as its argument.
//
//   frames/  one frame of every kind, raw and synthesized (see fuzz/harnesses/frames.swift), and
//            a stream of all of them
//   csv/     examples/transactions.csv and hand-made edge cases, behind the two option bytes
//   jsonl/   examples/transactions.jsonl, edge cases, and generator inputs (option bit 7)
//   onnx/    the test fixtures' models up to 16 KiB and models/demo.onnx
//   graph/   pseudo-random choices for the model generator

import Glibc

@main
struct MakeSeeds {
    static func main() {
        let out = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "fuzz/corpus"
        for t in ["frames", "csv", "jsonl", "onnx", "graph"] {
            mkdir("\(out)/\(t)", 0o755)
            clear("\(out)/\(t)")
        }
        frameSeeds(out + "/frames")
        // Invalid UTF-8 for the "bad-utf8" cases: a lone continuation byte, a truncated sequence,
        // an overlong form.
        textSeeds(out + "/csv", example: "examples/transactions.csv", cases: csvCases,
                  badUTF8: [0x32, 0x2C, 0x80, 0x41, 0xE2, 0x82, 0x0A, 0x33, 0x2C, 0xC0, 0xAF, 0x0A])
        textSeeds(out + "/jsonl", example: "examples/transactions.jsonl", cases: jsonCases,
                  badUTF8: Array("{\"a\":2,\"ccc\":\"".utf8) + [0x80, 0x41, 0xE2, 0x82] + Array("\"}\n{\"a\":3,\"é\":\"".utf8)
                      + [0xC0, 0xAF] + Array("\"}\n".utf8))
        generatorSeeds(out + "/jsonl", count: 6, first: { n in [0x80 | UInt8(n % 2) | (UInt8(n) << 2), UInt8(n)] })
        generatorSeeds(out + "/graph", count: 8, first: { _ in [] })
        var models = ["models/demo.onnx"]
        for name in list("Tests/EngineTests/Fixtures") where name.hasSuffix(".onnx") {
            models.append("Tests/EngineTests/Fixtures/" + name)
        }
        for path in models {
            // The large tree ensembles are left out (the corpus stays small; smaller ones cover
            // the same operators).
            let bytes = read(path)
            guard bytes.count <= 16 << 10 else { continue }
            write("\(out)/onnx/\(path.split(separator: "/").last!)", bytes)
        }
    }

    // MARK: Frames

    static func frameSeeds(_ dir: String) {
        var frames: [(String, FrameBuffer)] = []
        func add(_ name: String, _ body: (FrameBuffer) -> Void) {
            let b = FrameBuffer(capacity: 256)
            body(b)
            frames.append((name, b))
        }
        let rejects = [
            Reject(line: 3, byteOffset: 120, code: .jsonSyntax, message: "at byte 7 of the line: expected ':'",
                   input: Array("{\"a\" 1}".utf8)),
            Reject(line: 5, byteOffset: 200, stage: .ingest, code: .type, field: "amount", message: "expected a number",
                   input: Array("{\"amount\":\"x\"}".utf8)),
        ]
        let columns = [
            Column(.int([1, 2, 4])),
            Column(.float([46.26, .nan, -3.5]), missing: [false, true, false]),
            Column(.string(offsets: [0, 2, 2, 8], bytes: Array("FRZürich".utf8)), missing: [false, true, false]),
            Column(.bool([false, true, true])),
        ]
        let envelope = Envelope(firstLine: 1, byteOffset: 0, recordCount: 5, rejects: rejects, passthrough: [columns[0]])
        let header = Array("id,amount,hour,country,is_new_customer".utf8)
        let body = Array("1,46.26,23,FR,false\n2,38.89,20,\"D\nE\",false\n\n3,x,7,US,true\n".utf8)
        header.withUnsafeBytes { h in
            body.withUnsafeBytes { b in
                add("raw-chunk") {
                    RawChunkView.encode(into: $0, sequence: 1, firstLine: 2, byteOffset: 39, recordCount: 4,
                                        rejects: [rejects[0]], headerLine: h, body: b)
                }
            }
        }
        add("records") { RecordBatchView.encode(into: $0, sequence: 2, envelope: envelope, columns: columns) }
        add("records-replay") {
            RecordBatchView.encode(into: $0, sequence: 3, envelope: Envelope(firstLine: 9, byteOffset: 400, recordCount: 1),
                                   columns: [Column(.string(offsets: [0, 1], bytes: [0x41]))], flags: [.replay, .part])
        }
        // A records frame to read the envelope view back from (features and scores take views).
        let source = FrameBuffer(capacity: 256)
        RecordBatchView.encode(into: source, sequence: 2, envelope: envelope, columns: columns)
        let batch = try! RecordBatchView.decode(try! FrameDecoder().decode(source.bytes)!.frame)
        let drift = DriftCounts([1, 2, 0, 3])
        let dense: [Float] = [0.1, -1, 0, 1, 2, 3.5, .nan, 1e-8, 7]
        dense.withUnsafeBufferPointer { v in
            add("features-dense") {
                FeatureBatchView.encodeDense(into: $0, sequence: 2, envelope: batch.envelope,
                                             passthrough: batch.envelope.passthrough, rows: 3, dims: 3, values: v, drift: drift)
            }
        }
        let values: [Float] = [1, -1, 0.5, 2]
        let rowStart: [UInt32] = [0, 2, 2, 4]
        let cols: [UInt32] = [0, 7, 3, 1]
        values.withUnsafeBufferPointer { v in
            rowStart.withUnsafeBufferPointer { s in
                cols.withUnsafeBufferPointer { c in
                    add("features-csr") {
                        FeatureBatchView.encodeCSR(into: $0, sequence: 2, envelope: batch.envelope,
                                                   passthrough: batch.envelope.passthrough, rows: 3, dims: 8, values: v,
                                                   rowStart: s, columns: c, drift: DriftCounts())
                    }
                }
            }
        }
        add("scores") {
            ScoreBatchView.encode(into: $0, sequence: 2, envelope: batch.envelope, rows: 3, cols: 2, drift: drift) { p in
                for (i, x) in [Float(0.9), 0.1, 0.3, 0.7, 0.5, 0.5].enumerated() { p[i] = x }
            }
        }
        var summary = BatchSummary()
        summary.rows = 3
        summary.labelCounts = [2, 1]
        for s: Float in [0.9, 0.7, 0.5] { summary.add(score: s) }
        summary.drift = [1, 0, 3]
        let text = Array("{\"id\":1,\"label\":\"legit\",\"score\":0.9}\n{\"id\":2,\"label\":\"fraud\",\"score\":0.7}\n".utf8)
        text.withUnsafeBytes { t in
            add("output") {
                OutputBatchView.encode(into: $0, sequence: 2, envelope: batch.envelope, rows: 3, summary: summary, text: t)
            }
        }
        add("errors") {
            ErrorBatchView.encode(into: $0, sequence: 4, envelope: Envelope(firstLine: 7, byteOffset: 300, recordCount: 2,
                                                                          rejects: rejects))
        }
        add("hello") { Hello(purpose: .data, node: .featurize, replica: 2, pid: 4242, cookie: "0123456789abcdef").encode(into: $0) }
        add("config") {
            ConfigMessage(configPath: "/home/me/compose/pipeline.toml", configText: "[pipeline]\nname = \"demo\"\n",
                          listenPath: "/tmp/pipeline-0/demo/infer.1.sock", statePath: "/tmp/pipeline-0/demo/infer.1.state",
                          credits: 4, heartbeatMillis: 500, classLabels: ["legit", "fraud"]).encode(into: $0)
        }
        add("ready") { $0.frame(.ready) }
        add("membership") {
            Membership(generation: 3, members: [.init(node: .infer, replica: 1, path: "/tmp/p/infer.1.sock"),
                                                .init(node: .infer, replica: 2, path: "/tmp/p/infer.2.sock")]).encode(into: $0)
        }
        add("credit") { Credit(count: 4).encode(into: $0) }
        add("drain") { $0.frame(.drain) }
        add("heartbeat") {
            var h = Heartbeat()
            h.batches = 10; h.rows = 2560; h.busyNanos = 1_000_000; h.queued = 1; h.downstream = 2; h.rssBytes = 12 << 20
            h.encode(into: $0)
        }
        add("shutdown") { $0.frame(.shutdown) }
        add("request-scale") { Request(operation: .scale, scales: [(.infer, 3), (.ingest, 2)]).encode(into: $0) }
        add("request-ps") { Request(operation: .ps, json: true).encode(into: $0) }
        add("reply") { Reply(status: 0, text: "scaled infer: 1 → 3\n").encode(into: $0) }
        add("failure") { Failure(message: "model.onnx: node 'x' (Foo): operator Foo is not supported").encode(into: $0) }

        var stream: [UInt8] = [0x2A]
        for (name, frame) in frames {
            let bytes = Array(frame.bytes)
            write("\(dir)/raw-\(name)", [0x00] + bytes)
            stream += bytes
            // Synthesized form: [1][kind][flags][rowCount][payload without its padding].
            let kind = bytes[6], flags = bytes[7]
            let rowCount = Array(bytes[12..<16])
            var payload = Array(bytes[FrameHeader.size...])
            while payload.last == 0 { payload.removeLast() }
            let index = FrameKind.allCases.firstIndex { $0.rawValue == kind }!
            write("\(dir)/synth-\(name)", [0x01, UInt8(index), flags] + rowCount + payload)
        }
        write("\(dir)/stream-all", stream)
    }

    // MARK: Text

    /// (name, options byte, chunk seed, text)
    static let csvCases: [(String, UInt8, UInt8, String)] = [
        ("quoted", 0x10, 1, "id,amount,hour,country,is_new_customer\r\n1,\"46.26\",23,\"F,R\",false\r\n2,38.89,20,\"D\nE\",TRUE\r\n3,\"x\"\"y\",7,US,1\r\n"),
        ("stray-quote", 0x11, 2, "a,bb,ccc\n1,2,x\"y\n3,4,\"z\n5,6,w\n"),
        ("unterminated", 0x10, 3, "id,amount,hour,country,is_new_customer\n1,2,3,\"never closed,true\n4,5,6,US,false\n"),
        ("columns", 0x11, 4, "a,bb,ccc,dddd\n1\n1,2,3,true,extra,more\n,,,\n-0,+.5,\"\",0\n"),
        ("numbers", 0x11, 5, "a,bb,a_field_name_longer_than_16\n1,1e5,5.\n-9223372036854775808,1.7976931348623157e308,-.5E-3\n9223372036854775808,1e400,0x10\n 12 , 3.25 ,\t7\t\n1.0,00012.5000,1e-400\n12345678901234567890,0.1234567890123456789012,123456789012345678e-18\n"),
        ("bools", 0x19, 6, "a,dddd\n1,true\n2,False\n3,1\n4,0\n5,yes\n6, true \n7,\"true\"\n"),
        ("bom-header", 0x11, 7, "\u{FEFF}\"a\",\"b\"\"b\",ccc,é\n1,2,x,é\n"),
        ("dup-header", 0x11, 8, "a,a,bb\n1,2,3\n"),
        ("blank-lines", 0x0D, 9, "a,bb\n\n  \t\r\n1,2\n\r\n3,4\n   "),
        ("too-long", 0x31, 10, "a,bb,ccc\n1,2,short\n3,4,\"a quoted field much longer than twenty-four bytes\nacross lines\"\n5,6,x\n7,8," + String(repeating: "y", count: 120) + "\n9,10,z"),
        ("bad-utf8", 0x11, 11, "a,ccc\n1,caf\u{E9}\n2,ok\n"),
        ("header-only", 0x10, 12, "id,amount,hour,country,is_new_customer"),
        ("empty-header", 0x11, 13, "\n\n\"\"\n1\n"),
    ]

    static let jsonCases: [(String, UInt8, UInt8, String)] = [
        ("types", 0x11, 1, "{\"a\":1,\"bb\":2.5,\"ccc\":\"x\",\"dddd\":true,\"a_field_name_longer_than_16\":-0.0,\"é\":\"ü\"}\n{\"dddd\":false,\"a\":-7}\n"),
        ("escapes", 0x11, 2, "{\"a\":1,\"ccc\":\"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"}\n{\"\\u0061\":2,\"\\u00E9\":\"k\"}\n"),
        ("bad-escapes", 0x11, 3, "{\"a\":1,\"ccc\":\"\\x\"}\n{\"a\":1,\"ccc\":\"\\uD800\"}\n{\"a\":1,\"ccc\":\"\\uDC00x\"}\n{\"a\":1,\"ccc\":\"\\u12\"}\n{\"a\":1,\"ccc\":\"tab\there\"}\n"),
        ("nulls-missing", 0x11, 4, "{\"a\":null}\n{\"bb\":1}\n{\"a\":1,\"bb\":null,\"ccc\":null,\"dddd\":null}\n{}\n"),
        ("wrong-types", 0x11, 5, "{\"a\":\"1\"}\n{\"a\":1.5}\n{\"a\":1e2,\"bb\":\"x\"}\n{\"a\":[1],\"dddd\":1}\n{\"a\":9223372036854775808}\n{\"a\":1,\"bb\":1e400}\n"),
        ("duplicates", 0x11, 6, "{\"a\":\"x\",\"a\":3}\n{\"a\":3,\"a\":null}\n{\"a\":1,\"ccc\":\"one\",\"ccc\":\"two\"}\n"),
        ("nesting", 0x11, 7, "{\"a\":1,\"z\":{\"y\":[1,{\"x\":[[],{}]},\"s\",true,null,-1.5e-3]}}\n{\"a\":1,\"z\":"
            + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}\n"),
        ("syntax", 0x11, 8, "not json\n[1,2]\n{\"a\":1,}\n{\"a\" 1}\n{\"a\":1}}\n{\"a\":01}\n{\"a\":-}\n{\"a\":1.}\n{\"a\":tru}\n{\"a\":1\n\"a\"\n"),
        ("numbers", 0x11, 9, "{\"a\":0,\"bb\":0.1}\n{\"a\":-9223372036854775808,\"bb\":1.7976931348623157e308}\n{\"a\":123456789012345678,\"bb\":5e-324}\n{\"a\":10E-1,\"bb\":123456789.123456789}\n{\"a\":1,\"bb\":2.2250738585072011e-308}\n{\"a\":1,\"bb\":9007199254740993}\n"),
        ("whitespace", 0x11, 10, "  {  \"a\" :\t1 , \"bb\" : 2 }  \r\n\n \t \n{\"a\":1}   x\n"),
        ("bad-utf8", 0x11, 11, "{\"a\":1,\"ccc\":\"ok\"}\n"),
        ("too-long", 0x31, 12, "{\"a\":1}\n{\"a\":2,\"ccc\":\"" + String(repeating: "y", count: 100) + "\"}\n{\"a\":3}\n{\"a\":4,\"ccc\":\"" + String(repeating: "z", count: 30)),
        ("long-keys", 0x11, 13, "{\"a_field_name_longer_than_16\":1.5,\"a_field_name_longer_than_1\":2,\"a\":1,\"aa\":2,\"a_field_name_longer_than_16x\":3}\n"),
    ]

    static func textSeeds(_ dir: String, example: String, cases: [(String, UInt8, UInt8, String)], badUTF8: [UInt8]) {
        let lines = read(example).split(separator: 0x0A, omittingEmptySubsequences: false)
        let head = Array(lines.prefix(40).joined(separator: [0x0A])) + [0x0A]
        write("\(dir)/example-40-lines", [0x10, 0x00] + head)
        write("\(dir)/example-40-lines-batch-7", [0x0C, 0x2D] + head)
        for (name, options, seed, text) in cases {
            var bytes = Array(text.utf8)
            if name == "bad-utf8" { bytes += badUTF8 }
            write("\(dir)/\(name)", [options, seed] + bytes)
        }
    }

    /// Inputs of the generators (the jsonl target with option bit 7, the graph target): the
    /// bytes are their choices, so any bytes will do; these are pseudo-random.
    static func generatorSeeds(_ dir: String, count: Int, first: (Int) -> [UInt8]) {
        var rng: UInt64 = 0x1234_5678
        for n in 0..<count {
            var bytes = first(n)
            for _ in 0..<(64 + 96 * n) {
                rng = rng &* 6364136223846793005 &+ 1442695040888963407
                bytes.append(UInt8(truncatingIfNeeded: rng >> 33))
            }
            write("\(dir)/generated-\(n)", bytes)
        }
    }

    // MARK: Files (Glibc only)

    static func read(_ path: String) -> [UInt8] {
        guard let f = fopen(path, "rb") else { fatalError("cannot read \(path) (run from the repository root)") }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return out
    }

    static func write(_ path: String, _ bytes: [UInt8]) {
        guard let f = fopen(path, "wb") else { fatalError("cannot write \(path)") }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }

    static func list(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func clear(_ dir: String) {
        for name in list(dir) { unlink("\(dir)/\(name)") }
    }
}
