import Testing
@testable import Messages

/// The wire side of model versions: the header's slots, the version set and its answer, the
/// shadow frame riding behind a batch, the shadow figures in a summary, the rollout request.
@Suite struct RolloutMessageTests {
    @Test func modelSlotsRoundTripThroughTheHeader() throws {
        for slots in [ModelSlots(), ModelSlots(primary: 3), ModelSlots(primary: 0, shadow: 1), ModelSlots(primary: 7, shadow: ModelSlots.maxSlot)] {
            #expect(ModelSlots(rawValue: slots.rawValue) == slots)
            let out = FrameBuffer()
            var header = FrameHeader(kind: .records, sequence: 9)
            header.model = slots
            out.frame(header) { $0.append(UInt64(1)) }
            #expect(try onlyFrame(out).header.model == slots)
            // What a stage host does on the way: the slots travel with stream and flags.
            let next = FrameBuffer()
            next.frame(FrameHeader(kind: .features)) { $0.append(UInt64(2)) }
            FrameHeader.restamp(next.base, stream: 4, flags: .replay, model: slots)
            let h = try onlyFrame(next).header
            #expect(h.model == slots && h.stream == 4 && h.flags == .replay)
        }
        #expect(ModelSlots(rawValue: 0) == ModelSlots())
        #expect(ModelSlots(primary: 1, shadow: 2).includes(2) && !ModelSlots(primary: 1).includes(2))
    }

    @Test func versionSetAndAckRoundTrip() throws {
        let set = VersionSet(generation: 7, versions: [
            ModelVersion(slot: 2, id: "v2", configPath: "/c/b.toml", configText: "[model]\npath = \"b.onnx\"\n", classLabels: ["no", "yes"]),
            ModelVersion(slot: 0, id: "aadff3884d0b", configPath: "/c/a.toml", configText: "", classLabels: [.int(0), .int(1)],
                         modelPath: "/m/a.onnx"),
        ])
        let out = FrameBuffer()
        set.encode(into: out)
        #expect(try VersionSet.decode(try onlyFrame(out)) == set)

        let ack = VersionsAck(generation: 7, failures: [.init(slot: 2, message: "model /m/b.onnx: no such file")])
        let ackOut = FrameBuffer()
        ack.encode(into: ackOut)
        #expect(try VersionsAck.decode(try onlyFrame(ackOut)) == ack)

        var config = ConfigMessage(configPath: "/c/a.toml", configText: "x", listenPath: "/r/f.sock", credits: 4, heartbeatMillis: 250)
        config.versions = set
        let configOut = FrameBuffer()
        config.encode(into: configOut)
        #expect(try ConfigMessage.decode(try onlyFrame(configOut)) == config)
    }

    @Test func aVersionSetNamingASlotTwiceIsRefused() throws {
        let v = ModelVersion(slot: 1, id: "a", configPath: "/a", configText: "", classLabels: [])
        let out = FrameBuffer()
        VersionSet(generation: 1, versions: [v, v]).encode(into: out)
        #expect(throws: FrameError.self) { try VersionSet.decode(try onlyFrame(out)) }
    }

    @Test func aShadowFrameRidesBehindItsBatch() throws {
        let outer = FrameBuffer()
        var header = FrameHeader(kind: .scores, rowCount: 2, sequence: 3)
        header.model = ModelSlots(primary: 0, shadow: 1)
        outer.frame(header) { $0.append(UInt64(11)) }
        let inner = FrameBuffer()
        inner.frame(FrameHeader(kind: .scores, rowCount: 2, sequence: 3)) { $0.append(UInt64(22)) }
        ShadowFrame.append(inner, to: outer)
        let frame = try onlyFrame(outer)
        #expect(frame.header.model.shadow == 1)
        let found = try #require(try ShadowFrame.inner(of: frame))
        #expect(found.header.kind == .scores && found.payload.load(as: UInt64.self) == 22)
        // The outer frame's own payload still starts with its own bytes.
        #expect(frame.payload.load(as: UInt64.self) == 11)

        // A batch without a shadow version has none, and kinds that never carry one are not searched.
        let plain = FrameBuffer()
        plain.frame(FrameHeader(kind: .scores)) { $0.append(UInt64(1)) }
        #expect(try ShadowFrame.inner(of: try onlyFrame(plain)) == nil)
        let records = FrameBuffer()
        var recordsHeader = FrameHeader(kind: .records)
        recordsHeader.model = ModelSlots(primary: 0, shadow: 1)
        records.frame(recordsHeader) { $0.append(UInt64(1)) }
        #expect(try ShadowFrame.inner(of: try onlyFrame(records)) == nil)
    }

    @Test func aShadowedBatchWithoutItsShadowFrameOrWithABrokenFooterIsRefused() throws {
        var header = FrameHeader(kind: .features)
        header.model = ModelSlots(primary: 0, shadow: 1)
        let missing = FrameBuffer()
        missing.frame(header) { $0.append(UInt64(1)) }
        #expect(throws: FrameError.self) { try ShadowFrame.inner(of: try onlyFrame(missing)) }

        let outer = FrameBuffer()
        outer.frame(header) { $0.append(UInt64(1)) }
        let inner = FrameBuffer()
        inner.frame(FrameHeader(kind: .features)) { $0.append(UInt64(2)) }
        ShadowFrame.append(inner, to: outer)
        // The footer's offset moved by one byte: refused, not read out of place.
        let footer = outer.count - 64
        outer.base.storeBytes(of: outer.base.load(fromByteOffset: footer + 8, as: UInt64.self) + 1, toByteOffset: footer + 8, as: UInt64.self)
        #expect(throws: FrameError.self) { try ShadowFrame.inner(of: try onlyFrame(outer)) }
        // An inner frame of another kind than the batch's.
        let mixed = FrameBuffer()
        mixed.frame(header) { $0.append(UInt64(1)) }
        let scores = FrameBuffer()
        scores.frame(FrameHeader(kind: .scores)) { $0.append(UInt64(2)) }
        ShadowFrame.append(scores, to: mixed)
        #expect(throws: FrameError.self) { try ShadowFrame.inner(of: try onlyFrame(mixed)) }
    }

    @Test func shadowFiguresTravelInTheSummaryAndMerge() throws {
        var a = ShadowStats()
        a.rows = 10; a.labelDisagreements = 2; a.maxDifference = 0.25; a.sumOfRowMaxima = 1.5
        var b = ShadowStats()
        b.rows = 5; b.labelDisagreements = 1; b.maxDifference = 0.5; b.sumOfRowMaxima = 0.5
        var summary = BatchSummary()
        summary.rows = 10
        summary.shadow = a
        let out = FrameBuffer()
        summary.encode(into: out)
        var r = ByteReader(payload: out.bytes)
        #expect(try BatchSummary.decode(&r).shadow == a)
        var merged = BatchSummary()
        merged.merge(summary)
        var other = BatchSummary()
        other.shadow = b
        merged.merge(other)
        #expect(merged.shadow?.rows == 15 && merged.shadow?.labelDisagreements == 3 && merged.shadow?.maxDifference == 0.5)
        #expect(merged.shadow?.sumOfRowMaxima == 2.0)
        #expect(abs(merged.shadow!.disagreementShare - 0.2) < 1e-12)
        // Counts beyond the batch are refused.
        var bad = ShadowStats()
        bad.rows = 3; bad.labelDisagreements = 4
        var badSummary = BatchSummary()
        badSummary.shadow = bad
        let badOut = FrameBuffer()
        badSummary.encode(into: badOut)
        var br = ByteReader(payload: badOut.bytes)
        #expect(throws: FrameError.self) { try BatchSummary.decode(&br) }
    }

    @Test func rolloutRequestsRoundTrip() throws {
        for rollout in [Request.Rollout(mode: .cutover, path: "/m/v2.onnx"), Request.Rollout(mode: .canary, path: "/c/b.toml", percent: 12.5),
                        Request.Rollout(mode: .shadow, path: "/m/q.onnx"), Request.Rollout(mode: .promote), Request.Rollout(mode: .abort)] {
            let out = FrameBuffer()
            Request(operation: .rollout, rollout: rollout).encode(into: out)
            #expect(try Request.decode(try onlyFrame(out)) == Request(operation: .rollout, rollout: rollout))
        }
        let bad = FrameBuffer()
        Request(operation: .rollout, rollout: .init(mode: .canary, path: "/x", percent: 150)).encode(into: bad)
        #expect(throws: FrameError.self) { try Request.decode(try onlyFrame(bad)) }
    }
}
