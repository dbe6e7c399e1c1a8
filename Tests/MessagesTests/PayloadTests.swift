import Testing
@testable import Messages
import TestSupport

@Suite struct PayloadTests {
    let rejects = [
        Reject(line: 12, byteOffset: 345, code: .jsonSyntax, message: "expected ':' at column 7", input: Array("{\"a\" 1}".utf8)),
        Reject(line: 13, byteOffset: 400, code: .type, field: "amount", message: "expected a number",
               input: Array(repeating: UInt8(ascii: "x"), count: 500)),
    ]

    func records() -> [Column] {
        [
            Column(.float([1.5, .nan, -3])),
            Column(.int([7, 0, Int64.min]), missing: [false, true, false]),
            stringColumn(["US", "", "Zürich"]),
            Column(.bool([true, false, true])),
        ]
    }

    @Test func rawChunkRoundTrip() throws {
        let out = FrameBuffer()
        let header = Array("id,amount".utf8), body = Array("1,2\n3,\"4\n5\"\n".utf8)
        header.withUnsafeBytes { h in
            body.withUnsafeBytes { b in
                RawChunkView.encode(into: out, sequence: 9, firstLine: 2, byteOffset: 10, recordCount: 3,
                                    rejects: [rejects[1]], headerLine: h, body: b, flags: .replay)
            }
        }
        let frame = try onlyFrame(out)
        #expect(frame.header.flags == .replay)
        let chunk = try RawChunkView.decode(frame)
        #expect(chunk.firstLine == 2 && chunk.byteOffset == 10 && chunk.recordCount == 3)
        #expect(Array(chunk.headerLine) == header && Array(chunk.body) == body)
        #expect(chunk.rejects == [rejects[1]])
        #expect(chunk.rejects[0].input.count == Reject.maxInputBytes)
    }

    @Test func recordBatchRoundTrip() throws {
        let out = FrameBuffer()
        let envelope = Envelope(firstLine: 100, byteOffset: 5000, recordCount: 5, rejects: rejects)
        RecordBatchView.encode(into: out, sequence: 3, envelope: envelope, columns: records())
        let batch = try RecordBatchView.decode(try onlyFrame(out))
        #expect(batch.rows == 3)
        #expect(batch.envelope.firstLine == 100 && batch.envelope.recordCount == 5)
        #expect(try batch.envelope.rejects() == rejects)
        let decoded = batch.columns.map { $0.toColumn() }
        #expect(decoded.count == 4)
        #expect(batch.columns[0].double(0) == 1.5 && batch.columns[0].double(1).isNaN)
        #expect(decoded[1] == records()[1] && decoded[2] == records()[2] && decoded[3] == records()[3])
        #expect(batch.columns[1].isMissing(1) && !batch.columns[1].isMissing(0))
        #expect(Array(batch.columns[2].string(2)) == Array("Zürich".utf8))
    }

    @Test func recordBatchRejectsInconsistentCounts() {
        let out = FrameBuffer()
        // 3 rows + 2 rejects claimed as 4 records.
        RecordBatchView.encode(into: out, sequence: 3, envelope: Envelope(firstLine: 1, byteOffset: 0, recordCount: 4,
                                                                        rejects: rejects), columns: records())
        #expect(throws: FrameError.self) { try RecordBatchView.decode(try onlyFrame(out)) }
    }

    /// Features carry the passthrough columns forward and are readable in place, aligned.
    @Test func featureBatchDenseAndCSR() throws {
        let recordsOut = FrameBuffer()
        RecordBatchView.encode(into: recordsOut, sequence: 8,
                               envelope: Envelope(firstLine: 1, byteOffset: 0, recordCount: 3), columns: records())
        let batch = try RecordBatchView.decode(try onlyFrame(recordsOut))
        let dense: [Float] = [1, 2, 3, 4, 5, 6]
        let out = FrameBuffer()
        dense.withUnsafeBufferPointer { v in
            FeatureBatchView.encodeDense(into: out, sequence: 8, envelope: batch.envelope,
                                         passthrough: [batch.columns[1], batch.columns[2]], rows: 3, dims: 2,
                                         values: v, drift: DriftCounts([9, 12, 3]))
        }
        let f = try FeatureBatchView.decode(try onlyFrame(out))
        #expect(f.layout == .dense && f.rows == 3 && f.dims == 2 && Array(f.values) == dense)
        #expect(Int(bitPattern: f.values.baseAddress!) % 64 == 0)
        #expect(f.drift.counts == [9, 12, 3])
        #expect(f.envelope.passthrough.map { $0.toColumn() } == [records()[1], records()[2]])

        let csrOut = FrameBuffer()
        let values: [Float] = [0.5, -1, 2], rowStart: [UInt32] = [0, 1, 1, 3], columns: [UInt32] = [4, 0, 1023]
        values.withUnsafeBufferPointer { v in rowStart.withUnsafeBufferPointer { s in columns.withUnsafeBufferPointer { c in
            FeatureBatchView.encodeCSR(into: csrOut, sequence: 8, envelope: batch.envelope, passthrough: [], rows: 3,
                                       dims: 1024, values: v, rowStart: s, columns: c, drift: DriftCounts())
        } } }
        let s = try FeatureBatchView.decode(try onlyFrame(csrOut))
        #expect(s.layout == .csr && Array(s.values) == values && Array(s.rowStart) == rowStart && Array(s.columns) == columns)
    }

    @Test func csrColumnOutsideDimsIsRejected() throws {
        let recordsOut = FrameBuffer()
        RecordBatchView.encode(into: recordsOut, sequence: 1,
                               envelope: Envelope(firstLine: 1, byteOffset: 0, recordCount: 1), columns: [Column(.int([1]))])
        let batch = try RecordBatchView.decode(try onlyFrame(recordsOut))
        let out = FrameBuffer()
        let values: [Float] = [1], rowStart: [UInt32] = [0, 1], columns: [UInt32] = [16]
        values.withUnsafeBufferPointer { v in rowStart.withUnsafeBufferPointer { s in columns.withUnsafeBufferPointer { c in
            FeatureBatchView.encodeCSR(into: out, sequence: 1, envelope: batch.envelope, passthrough: [], rows: 1,
                                       dims: 16, values: v, rowStart: s, columns: c, drift: DriftCounts())
        } } }
        #expect(throws: FrameError.invalid(field: "features.columns", reason: "column 16 outside 16 dims")) {
            try FeatureBatchView.decode(try onlyFrame(out))
        }
    }

    @Test func scoreAndOutputRoundTrip() throws {
        let recordsOut = FrameBuffer()
        RecordBatchView.encode(into: recordsOut, sequence: 4,
                               envelope: Envelope(firstLine: 1, byteOffset: 0, recordCount: 5, rejects: rejects),
                               columns: records())
        let batch = try RecordBatchView.decode(try onlyFrame(recordsOut))
        let out = FrameBuffer()
        ScoreBatchView.encode(into: out, sequence: 4, envelope: batch.envelope, rows: 3, cols: 2,
                              drift: DriftCounts([1])) { p in
            for i in 0..<6 { p[i] = Float(i) / 10 }
        }
        let scores = try ScoreBatchView.decode(try onlyFrame(out))
        #expect(Array(scores.values) == (0..<6).map { Float($0) / 10 })
        #expect(scores.drift.counts == [1])

        var summary = BatchSummary()
        summary.rows = 3
        summary.labelCounts = [1, 2]
        summary.add(score: 0.99)
        summary.add(score: 0.01)
        summary.add(score: 1.5)
        let text = Array("a\nb\nc\n".utf8)
        let outputOut = FrameBuffer()
        text.withUnsafeBytes { t in
            OutputBatchView.encode(into: outputOut, sequence: 4, envelope: scores.envelope, rows: 3, summary: summary, text: t)
        }
        let output = try OutputBatchView.decode(try onlyFrame(outputOut))
        #expect(Array(output.text) == text)
        #expect(output.summary == summary)
        #expect(output.summary.scoreHistogram[19] == 2 && output.summary.scoreHistogram[0] == 1)
        #expect(try output.envelope.rejects() == rejects)
        #expect(output.envelope.passthrough.isEmpty)
    }

    @Test func hugeAndOddScoresLandInTheEndBins() {
        var s = BatchSummary()
        for score: Float in [1e30, -1e30, .greatestFiniteMagnitude, -0.5, .nan, .infinity] { s.add(score: score) }
        #expect(s.scoreHistogram[0] == 2 && s.scoreHistogram[19] == 2)
        #expect(s.scoreHistogram.reduce(0, +) == 4, "NaN and infinity are not counted")
    }

    @Test func summaryMergeAdds() {
        var a = BatchSummary(), b = BatchSummary()
        a.rows = 2; a.labelCounts = [2]
        b.rows = 3; b.labelCounts = [1, 2]
        b.drift = [1, 2, 0]
        a.merge(b)
        a.merge(b)
        #expect(a.rows == 8 && a.labelCounts == [4, 4] && a.drift == [2, 4, 0])
    }

    /// The drift plan travels with the config; its edges must increase; a summary's drift
    /// counts cannot exceed the batch's rows (the sink adds them up).
    @Test func driftPlanAndCountsAreChecked() throws {
        let plan = DriftPlan(fields: [DriftPlan.Field(name: "amount", kind: .numeric, edges: [1, 2.5]),
                                      DriftPlan.Field(name: "country", kind: .categorical, values: ["US", "é"])],
                             predictions: [DriftPlan.Field(name: "score", kind: .numeric, edges: [0.5])])
        let out = FrameBuffer()
        ConfigMessage(configPath: "/a.toml", configText: "", listenPath: "", credits: 1, heartbeatMillis: 1, drift: plan).encode(into: out)
        #expect(try ConfigMessage.decode(try onlyFrame(out)).drift == plan)
        #expect(plan.slotCount == 4 + 4 + 3 && plan.inputSlotCount == 8)

        var bad = plan
        bad.fields[0].edges = [2, 1]
        let badOut = FrameBuffer()
        ConfigMessage(configPath: "/a.toml", configText: "", listenPath: "", credits: 1, heartbeatMillis: 1, drift: bad).encode(into: badOut)
        #expect(throws: FrameError.invalid(field: "drift.edges", reason: "edges of amount are not increasing")) {
            try ConfigMessage.decode(try onlyFrame(badOut))
        }

        var summary = BatchSummary()
        summary.rows = 2
        summary.drift = [2, 3]
        let text = Array("a\nb\n".utf8)
        let records = FrameBuffer()
        RecordBatchView.encode(into: records, sequence: 1, envelope: Envelope(firstLine: 1, byteOffset: 0, recordCount: 2),
                               columns: [Column(.int([1, 2]))])
        let envelope = try RecordBatchView.decode(try onlyFrame(records)).envelope
        let output = FrameBuffer()
        text.withUnsafeBytes { OutputBatchView.encode(into: output, sequence: 1, envelope: envelope, rows: 2, summary: summary, text: $0) }
        #expect(throws: FrameError.self) { try OutputBatchView.decode(try onlyFrame(output)) }
    }

    /// A numeric slot is the number of edges at or below the value (numpy's
    /// searchsorted(side="right")); NaN is missing.
    @Test func numericSlots() {
        let f = DriftPlan.Field(name: "x", kind: .numeric, edges: [-1, 0, 2.5, 7])
        let cases: [(Double, Int)] = [(-.infinity, 0), (-2, 0), (-1, 1), (-0.5, 1), (0, 2), (2.4999, 2), (2.5, 3), (7, 4), (1e300, 4), (.infinity, 4), (.nan, 5)]
        for (x, slot) in cases { #expect(f.slot(of: x) == slot, "\(x)") }
        #expect(DriftPlan.Field(name: "y", kind: .numeric).slot(of: 3) == 0)
    }

    /// A class label with an unknown tag, or more labels than the bytes can hold, is refused.
    @Test func configMessageLabelsAreChecked() throws {
        func config(_ labels: (FrameBuffer) -> Void) -> FrameBuffer {
            let out = FrameBuffer()
            out.frame(FrameHeader(kind: .config)) { out in
                for text in ["/a.toml", "", "", ""] { out.append(string: text) }
                out.append(UInt32(4))
                out.append(UInt32(250))
                labels(out)
            }
            return out
        }
        let badTag = config { $0.append(UInt32(1)); $0.append(UInt8(9)); $0.append(Int64(0)) }
        #expect(throws: FrameError.invalid(field: "label.tag", reason: "unknown class label tag")) {
            try ConfigMessage.decode(try onlyFrame(badTag))
        }
        let tooMany = config { $0.append(UInt32(1000)); $0.append(UInt8(1)); $0.append(Int64(0)) }
        #expect(throws: FrameError.truncated(field: "config.labels")) { try ConfigMessage.decode(try onlyFrame(tooMany)) }
    }

    @Test func controlMessagesRoundTrip() throws {
        func roundTrip<T: Equatable>(_ value: T, encode: (T, FrameBuffer) -> Void, decode: (Frame) throws -> T) throws {
            let out = FrameBuffer()
            encode(value, out)
            #expect(try decode(try onlyFrame(out)) == value)
        }
        try roundTrip(Hello(purpose: .control, node: .featurize, replica: 2, pid: 99, cookie: "abc"),
                      encode: { $0.encode(into: $1) }, decode: Hello.decode)
        try roundTrip(ConfigMessage(configPath: "/a/b.toml", configText: "[pipeline]\n", listenPath: "/r/infer.1.sock",
                                    credits: 4, heartbeatMillis: 250), encode: { $0.encode(into: $1) }, decode: ConfigMessage.decode)
        for labels: [ClassLabel] in [[0, 1], [.int(.min), .int(.max), -3], ["legit", "fraud", "", "日本"]] {
            try roundTrip(ConfigMessage(configPath: "/a/b.toml", configText: "", listenPath: "", credits: 4,
                                        heartbeatMillis: 250, classLabels: labels),
                          encode: { $0.encode(into: $1) }, decode: ConfigMessage.decode)
        }
        try roundTrip(Membership(generation: 5, members: [.init(node: .infer, replica: 1, path: "/r/infer.1.sock"),
                                                          .init(node: .infer, replica: 4, path: "/r/infer.4.sock")]),
                      encode: { $0.encode(into: $1) }, decode: Membership.decode)
        var beat = Heartbeat()
        beat.batches = 10; beat.rows = 2560; beat.busyNanos = 123; beat.queued = 2; beat.rssBytes = 1 << 20
        try roundTrip(beat, encode: { $0.encode(into: $1) }, decode: Heartbeat.decode)
        try roundTrip(Request(operation: .scale, scales: [(.infer, 4), (.featurize, 2)]),
                      encode: { $0.encode(into: $1) }, decode: Request.decode)
        try roundTrip(Reply(status: 3, text: "no such stage"), encode: { $0.encode(into: $1) }, decode: Reply.decode)
        try roundTrip(Failure(message: "model: unsupported op"), encode: { $0.encode(into: $1) }, decode: Failure.decode)
        // What `pipeline top` gets: every field, the autoscaler's included.
        var status = StatusSnapshot()
        status.uptimeNanos = 7; status.model = "/m/a.onnx"; status.metricsAddress = "127.0.0.1:9"
        status.recordsIn = 1; status.recordsOut = 2; status.rejected = 3; status.bytesIn = 4; status.bytesOut = 5; status.inputSize = 6
        status.batchesInFlight = 8; status.recentRecordsInPerSecond = 9.5; status.recentRecordsOutPerSecond = 10.25
        status.latency.observe(nanos: 3_000_000)
        status.autoscaleCores = 1.5
        status.autoscaleLast = "infer 1 -> 2 at 3.5 s: busy 133% of 1"
        status.precision = "int8"
        for (i, name) in ["ingest", "infer"].enumerated() {
            var stage = StatusSnapshot.Stage(name: name)
            stage.ready = UInt32(i + 1); stage.desired = 2; stage.records = 11; stage.batches = 12; stage.busyNanos = 13
            stage.restarts = 14; stage.residentBytes = 15; stage.recentRecordsPerSecond = 16.5; stage.recentBusy = 0.75
            stage.queue.observe(nanos: 200_000); stage.recentQueue.observe(nanos: 400_000)
            stage.scaledUp = UInt64(i + 2); stage.scaledDown = UInt64(i)
            status.stages.append(stage)
        }
        try roundTrip(status, encode: { $0.encode(into: $1) }, decode: StatusSnapshot.decode)
        // The model versions, in every rollout step, with a shadow's figures.
        status.models.versions = [.init(id: "v1", role: "primary", records: 600), .init(id: "574b9f2ab86c", role: "shadow", records: 0)]
        var figures = ShadowStats()
        figures.rows = 500; figures.labelDisagreements = 7; figures.maxDifference = 0.25; figures.sumOfRowMaxima = 12.5
        status.models.shadow = ("574b9f2ab86c", figures)
        for step: StatusSnapshot.Models.Rollout in [.steady, .loading(version: "v2", mode: "canary"),
                                                    .canary(version: "v2", basisPoints: 1250), .shadow(version: "574b9f2ab86c")] {
            status.models.rollout = step
            try roundTrip(status, encode: { $0.encode(into: $1) }, decode: StatusSnapshot.decode)
        }
        status.models.shadow = nil
        try roundTrip(status, encode: { $0.encode(into: $1) }, decode: StatusSnapshot.decode)
    }

    @Test func wrongKindIsUnexpected() throws {
        let out = FrameBuffer()
        Credit(count: 1).encode(into: out)
        #expect(throws: FrameError.self) { try Hello.decode(try onlyFrame(out)) }
        #expect(throws: FrameError.self) { try FeatureBatchView.decode(try onlyFrame(out)) }
    }
}
