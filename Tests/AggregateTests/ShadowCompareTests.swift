import Testing
@testable import AggregateStage
import Config
import Messages

/// Aggregate is where a shadow version's scores meet the primary's: its comparison, and the
/// `model_version` field.
@Suite struct ShadowCompareTests {
    @Test func labelsAndProbabilitiesAreComparedByClass() throws {
        var primary = try AggregateProcessor(config: makeConfig(labels: ["legit", "fraud"]))
        // The shadow's classes are in the other order: compared by class, not by column.
        var shadow: any StageProcessor = try AggregateProcessor(config: makeConfig(labels: ["fraud", "legit"]))
        let mine: [Float] = [0.9, 0.1, 0.4, 0.6, 0.5, 0.5]
        let theirs: [Float] = [0.2, 0.8, 0.7, 0.3, 0.5, 0.5]  // rows: legit/legit (diff 0.1), fraud/legit... (see below)
        let outer = try scoreFrame(mine, rows: 3, cols: 2)
        var header = try onlyScoreHeader(outer)
        header.model = ModelSlots(primary: 0, shadow: 1)
        FrameHeader.restamp(outer.base, stream: header.stream, flags: header.flags, model: header.model)
        ShadowFrame.append(try scoreFrame(theirs, rows: 3, cols: 2), to: outer)
        guard let (frame, _) = try FrameDecoder().decode(outer.bytes) else { throw TestFailure("frame") }
        let out = FrameBuffer()
        try primary.process(frame, shadow: &shadow, scratch: FrameBuffer(), into: out)
        guard let (result, _) = try FrameDecoder().decode(out.bytes) else { throw TestFailure("output") }
        let stats = try #require(try OutputBatchView.decode(result).summary.shadow)
        // Row 0: legit 0.9 vs legit 0.8 (same label, diff 0.1). Row 1: fraud 0.6 vs fraud 0.7
        // (same, 0.1). Row 2: tie → first column: legit (mine) vs fraud (theirs): differ, diff 0.
        #expect(stats.rows == 3)
        #expect(stats.labelDisagreements == 1)
        #expect(abs(stats.maxDifference - 0.1) < 1e-6)
        #expect(abs(stats.sumOfRowMaxima - 0.2) < 1e-6)
        // The primary's own output is as without a shadow.
        var alone = try AggregateProcessor(config: makeConfig(labels: ["legit", "fraud"]))
        let plain = try aggregate(&alone, mine, rows: 3, cols: 2)
        #expect(String(decoding: try OutputBatchView.decode(result).text, as: UTF8.self) == plain.text)
    }

    @Test func withoutLabelsColumnsAreMatchedByIndex() throws {
        var primary = try AggregateProcessor(config: makeConfig(outputFields: [.prediction]))
        var shadow: any StageProcessor = try AggregateProcessor(config: makeConfig(outputFields: [.prediction]))
        let outer = try scoreFrame([1.5, -2], rows: 2, cols: 1)
        FrameHeader.restamp(outer.base, stream: 0, flags: [], model: ModelSlots(primary: 2, shadow: 0))
        ShadowFrame.append(try scoreFrame([1.0, -2.25], rows: 2, cols: 1), to: outer)
        guard let (frame, _) = try FrameDecoder().decode(outer.bytes) else { throw TestFailure("frame") }
        let out = FrameBuffer()
        try primary.process(frame, shadow: &shadow, scratch: FrameBuffer(), into: out)
        guard let (result, _) = try FrameDecoder().decode(out.bytes) else { throw TestFailure("output") }
        let stats = try #require(try OutputBatchView.decode(result).summary.shadow)
        #expect(stats.rows == 2 && stats.labelDisagreements == 0 && stats.maxDifference == 0.5 && stats.sumOfRowMaxima == 0.75)
    }

    @Test func aShadowedBatchWithoutShadowScoresIsTheSendersFault() throws {
        var primary = try AggregateProcessor(config: makeConfig())
        var shadow: any StageProcessor = try AggregateProcessor(config: makeConfig())
        let outer = try scoreFrame([0.5, 0.5], rows: 1, cols: 2)
        FrameHeader.restamp(outer.base, stream: 0, flags: [], model: ModelSlots(primary: 0, shadow: 1))
        guard let (frame, _) = try FrameDecoder().decode(outer.bytes) else { throw TestFailure("frame") }
        #expect(throws: FrameError.self) { try primary.process(frame, shadow: &shadow, scratch: FrameBuffer(), into: FrameBuffer()) }
    }

    @Test func modelVersionIsWrittenAsTheVersionsID() throws {
        var config = makeConfig(labels: ["a", "b"], outputFields: [.label, .modelVersion])
        config.model.version = "v2.1-q8"
        var p = try AggregateProcessor(config: config)
        #expect(try aggregate(&p, [0.2, 0.8], rows: 1, cols: 2).lines == [#"{"label":"b","model_version":"v2.1-q8"}"#])
        var csv = makeConfig(format: .csv, labels: ["a", "b"], outputFields: [.modelVersion, .score])
        csv.model.version = "aadff3884d0b"
        var c = try AggregateProcessor(config: csv)
        #expect(try aggregate(&c, [0.25, 0.75], rows: 1, cols: 2).lines == ["aadff3884d0b,0.75"])
        #expect(try AggregateProcessor.csvHeader(config: csv) == "model_version,score\n")
    }

    private func onlyScoreHeader(_ buffer: FrameBuffer) throws -> FrameHeader {
        guard let (frame, _) = try FrameDecoder().decode(buffer.bytes) else { throw TestFailure("frame") }
        return frame.header
    }
}
