import Config
import Messages
import Testing
@testable import IngestStage

@Suite struct IngestProcessorTests {
    static let fields = [FieldSpec(name: "id", type: .int), FieldSpec(name: "name", type: .string, required: false)]

    func processor(_ format: InputFormat = .jsonl) throws -> IngestProcessor {
        try IngestProcessor(config: makeConfig(Self.fields, format: format))
    }

    @Test func inputKindIsRawChunk() {
        #expect(IngestProcessor.inputKind == .rawChunk)
    }

    @Test func keepsSequenceFlagsAndChunkPosition() throws {
        var p = try processor()
        let result = try ingest(&p, body: Array(#"{"id":1}"#.utf8), format: .jsonl, firstLine: 41, byteOffset: 9000,
                                sequence: 123, flags: .replay)
        #expect(result.kind == .records && result.sequence == 123 && result.flags == .replay)
        #expect(result.firstLine == 41 && result.byteOffset == 9000 && result.recordCount == 1)
    }

    @Test func allRejectedGivesAnErrorsFrame() throws {
        var p = try processor()
        let result = try ingest(&p, body: Array("{}\n[]\n".utf8), format: .jsonl, sequence: 5, flags: .replay)
        #expect(result.kind == .errors && result.sequence == 5 && result.flags == .replay)
        #expect(result.recordCount == 2 && result.rejects.map(\.code) == [.missingField, .jsonSyntax])
    }

    @Test func anEmptyChunkGivesAnEmptyErrorsFrame() throws {
        var p = try processor()
        let result = try ingest(&p, body: Array("\n \n".utf8), format: .jsonl)
        #expect(result.kind == .errors && result.recordCount == 0 && result.rejects.isEmpty)
    }

    @Test func chunkRejectsAreMergedInLineOrder() throws {
        var p = try processor()
        let source = [
            Reject(line: 3, byteOffset: 10, stage: .source, code: .lineTooLong, message: "too long", input: []),
            Reject(line: 9, byteOffset: 900, stage: .source, code: .lineTooLong, message: "too long", input: []),
        ]
        let body = Array("{\"id\":1}\n{\"id\":\"x\"}\n{\"id\":2}\n".utf8)  // lines 5, 6, 7
        let result = try ingest(&p, body: body, format: .jsonl, firstLine: 5, byteOffset: 500, chunkRejects: source)
        #expect(result.recordCount == 5 && result.rows == 2)
        #expect(result.rejects.map(\.line) == [3, 6, 9])
        #expect(result.rejects.map(\.stage) == [.source, .ingest, .source])
    }

    @Test func aRecordCountMismatchThrows() throws {
        var p = try processor()
        let body = Array("{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n".utf8)
        for claimed in [2, 4] {
            #expect(throws: IngestError.recordCountMismatch(sequence: 7, expected: claimed, found: 3)) {
                try ingest(&p, body: body, format: .jsonl, recordCount: claimed)
            }
        }
        // The processor is still fine afterwards.
        #expect(try ingest(&p, body: body, format: .jsonl).ints(0) == [1, 2, 3])
    }

    @Test func aFrameOfAnotherKindIsAFrameError() throws {
        var p = try processor()
        let buffer = FrameBuffer()
        ErrorBatchView.encode(into: buffer, sequence: 1, envelope: Envelope(firstLine: 1, byteOffset: 0, recordCount: 0))
        let (frame, _) = try #require(try FrameDecoder().decode(buffer.bytes))
        #expect(throws: FrameError.self) { try p.process(frame, into: FrameBuffer()) }
    }

    @Test func duplicateOrNoSchemaFieldsAreConfigErrors() {
        #expect(throws: IngestError.duplicateField(name: "a")) {
            try IngestProcessor(config: makeConfig([FieldSpec(name: "a", type: .int), FieldSpec(name: "a", type: .float)]))
        }
        #expect(throws: IngestError.emptySchema) { try IngestProcessor(config: makeConfig([])) }
    }

    @Test func buffersAreReusedWithoutLeakingBetweenBatches() throws {
        var p = try processor()
        let big = (0..<1000).map { #"{"id":\#($0),"name":"n\#($0)"}"# }.joined(separator: "\n")
        let first = try ingest(&p, body: Array(big.utf8), format: .jsonl)
        #expect(first.rows == 1000 && first.texts(1)[999] == "n999")
        let second = try ingest(&p, body: Array("{\"id\":5}\n{\"id\":6,\"name\":\"z\"}".utf8), format: .jsonl)
        #expect(second.ints(0) == [5, 6] && second.texts(1) == ["", "z"] && second.missing(1) == [true, false])
    }

    @Test func copiesDoNotShareBuffers() throws {
        var a = try processor()
        var b = a
        let bodyA = Array("{\"id\":1,\"name\":\"aaaa\"}\n".utf8), bodyB = Array("{\"id\":2,\"name\":\"b\"}\n".utf8)
        let ra = try ingest(&a, body: bodyA, format: .jsonl)
        let rb = try ingest(&b, body: bodyB, format: .jsonl)
        #expect(ra.texts(1) == ["aaaa"] && rb.texts(1) == ["b"])
    }

    /// Random mixes of good and bad records, both formats: rows + rejects == records, always,
    /// and every reject's line lies inside the chunk.
    @Test(arguments: [InputFormat.jsonl, .csv])
    func countsAlwaysAddUp(_ format: InputFormat) throws {
        var rng = SeededRandom(seed: 3)
        var p = try processor(format)
        let jsonPieces = [#"{"id":1}"#, #"{"id":"x"}"#, "{", #"{"name":"a\nb"}"#, "", " ", #"{"id":2,"name":null}"#, "[1]", #"{"id":1e3}"#]
        let csvPieces = ["1,a", "x,b", "2", "3,\"q\nr\"", "", "4,\"s\"\"t\"", "5,a\"b", "6,c,d", "7,\"open"]
        for round in 0..<300 {
            let pieces = format == .jsonl ? jsonPieces : csvPieces
            let lines = (0..<Int.random(in: 1...30, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }
            let body = Array(lines.joined(separator: Bool.random(using: &rng) ? "\n" : "\r\n").utf8)
            let result = try ingest(&p, body: body, header: Array("id,name".utf8), format: format, firstLine: 100,
                                    sequence: UInt64(round))
            #expect(result.rows + result.rejects.count == Int(result.recordCount))
            #expect(result.kind == (result.rows == 0 ? .errors : .records))
            let lastLine = 100 + UInt64(body.filter { $0 == 0x0A }.count)
            #expect(result.rejects.allSatisfy { $0.line >= 100 && $0.line <= lastLine })
            #expect(result.rejects.map(\.line) == result.rejects.map(\.line).sorted())
        }
    }
}
