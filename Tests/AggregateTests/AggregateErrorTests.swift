import AggregateStage
import Config
import Messages
import Testing

@Suite struct AggregateErrorTests {
    @Test func unknownPassthrough() {
        #expect(throws: AggregateError.unknownPassthrough(field: "id")) {
            try AggregateProcessor(config: makeConfig(passthrough: ["id"]))
        }
    }

    @Test func emptyLabels() {
        #expect(throws: AggregateError.emptyLabels) { try AggregateProcessor(config: makeConfig(labels: [])) }
    }

    /// The model's width must match the labels; the check is per batch (aggregate cannot know
    /// the model), and names both counts.
    @Test func labelCountMismatch() throws {
        var p = try AggregateProcessor(config: makeConfig(labels: ["a", "b"]))
        #expect(throws: AggregateError.labelCountMismatch(labels: 2, columns: 3)) {
            try aggregate(&p, [0.1, 0.2, 0.7], rows: 1, cols: 3)
        }
        #expect(AggregateError.labelCountMismatch(labels: 2, columns: 3).description.contains("2 classes"))
        #expect(throws: AggregateError.labelCountMismatch(labels: 2, columns: 1)) {
            try aggregate(&p, [0.7], rows: 1, cols: 1)
        }
    }

    @Test func noScores() throws {
        var p = try AggregateProcessor(config: makeConfig())
        #expect(throws: AggregateError.noScores) { try aggregate(&p, [], rows: 2, cols: 0) }
    }

    @Test func otherFrameKindsAreFrameErrors() throws {
        var p = try AggregateProcessor(config: makeConfig())
        let buffer = FrameBuffer()
        buffer.frame(.heartbeat)
        let (frame, _) = try #require(try FrameDecoder().decode(buffer.bytes))
        #expect(throws: FrameError.self) { try p.process(frame, into: FrameBuffer()) }
    }
}
