import Config
import FeaturizeStage
import Messages
import Testing
import TestSupport

@Suite struct FeaturizeProcessorTests {
    let fields = [
        FieldSpec(name: "id", type: .int),
        FieldSpec(name: "amount", type: .float, required: false),
        FieldSpec(name: "country", type: .string, required: false),
        FieldSpec(name: "vip", type: .bool, required: false),
        FieldSpec(name: "visits", type: .int, required: false),
    ]

    func columns() -> [Column] {
        [
            Column(.int([17, 18, 19])),
            Column(.float([82, .nan, 22]), missing: [false, true, false]),
            stringColumn(["DE", "", "Zürich \"q\""], missing: [false, true, false]),
            Column(.bool([true, false, false]), missing: [false, false, true]),
            Column(.int([3, 0, -12]), missing: [false, true, false]),
        ]
    }

    /// Outputs are concatenated in config order, each kind in its own columns.
    @Test func concatenatesInConfigOrder() throws {
        let features = [
            FeatureSpec(field: "country", kind: .onehot(categories: ["US", "DE"])),
            FeatureSpec(field: "amount", kind: .standardize(mean: 52, std: 30)),
            FeatureSpec(field: "vip", kind: .identity),
            FeatureSpec(field: "visits", kind: .onehot(categories: ["3", "-12"])),
            FeatureSpec(field: "amount", kind: .minmax(min: 2, max: 102)),
            FeatureSpec(field: "visits", kind: .identity),
        ]
        let config = makeConfig(fields: fields, features: features)
        #expect(FeaturizeProcessor.width(of: config) == 8)
        var p = try FeaturizeProcessor(config: config)
        #expect(p.width == 8 && p.layout == .dense)
        let f = try featurize(&p, columns())
        #expect(f.rows == 3 && f.dims == 8)
        let nan = Float.nan
        let expected: [[Float]] = [
            [0, 1, 1, 1, 1, 0, 0.8, 3],
            [0, 0, nan, 0, 0, 0, nan, nan],
            [0, 0, Float((22.0 - 52) / 30), nan, 0, 1, 0.2, -12],
        ]
        for r in 0..<3 {
            let row = f.row(r)
            for j in 0..<8 {
                let e = expected[r][j]
                #expect(e.isNaN ? row[j].isNaN : row[j] == e, "row \(r) column \(j): \(row[j]) != \(e)")
            }
        }
    }

    /// Missing ints and bools hold 0 on the wire; every numeric kind must still give NaN.
    @Test(arguments: [FeatureKind.identity, .standardize(mean: 1, std: 2), .minmax(min: -1, max: 1)])
    func missingNumbersBecomeNaN(kind: FeatureKind) throws {
        for (type, column) in [(FieldType.int, Column(.int([0, 5]), missing: [true, false])),
                               (.bool, Column(.bool([false, true]), missing: [true, false])),
                               (.float, Column(.float([.nan, 5]), missing: [true, false]))] {
            let f = try featurizeOne(kind, type: type, column)
            #expect(f.values[0].isNaN, "\(kind) of a missing \(type)")
            #expect(!f.values[1].isNaN)
        }
    }

    @Test func onehotOfIntsAndBoolsComparesTheirText() throws {
        let ints = try featurizeOne(.onehot(categories: ["7", "-7", "0", "9223372036854775807", "-9223372036854775808"]),
                                    type: .int, Column(.int([7, -7, 0, .max, .min, 70, 0]),
                                                       missing: [false, false, false, false, false, false, true]))
        #expect(ints.row(0) == [1, 0, 0, 0, 0] && ints.row(1) == [0, 1, 0, 0, 0] && ints.row(2) == [0, 0, 1, 0, 0])
        #expect(ints.row(3) == [0, 0, 0, 1, 0] && ints.row(4) == [0, 0, 0, 0, 1])
        #expect(ints.row(5) == [0, 0, 0, 0, 0], "unknown")
        #expect(ints.row(6) == [0, 0, 0, 0, 0], "missing, though its slot holds 0")
        let bools = try featurizeOne(.onehot(categories: ["false", "true"]), type: .bool,
                                     Column(.bool([true, false, false]), missing: [false, false, true]))
        #expect(bools.row(0) == [0, 1] && bools.row(1) == [1, 0] && bools.row(2) == [0, 0])
    }

    @Test func onehotUnknownMissingAndEmptyAreAllZeros() throws {
        let f = try featurizeOne(.onehot(categories: ["a", "", "b"]), type: .string,
                                 stringColumn(["b", "zz", "", "x"], missing: [false, false, false, true]))
        #expect(f.row(0) == [0, 0, 1])
        #expect(f.row(1) == [0, 0, 0])
        #expect(f.row(2) == [0, 1, 0], "an empty string is a value: it matches an empty category")
        #expect(f.row(3) == [0, 0, 0])
    }

    /// An empty string is a value FeatureHasher hashes (to column 0, +1); a missing one sets nothing.
    @Test func hashSkipsMissingButHashesEmptyStrings() throws {
        let f = try featurizeOne(.hash(buckets: 16), type: .string,
                                 stringColumn(["", "x", "y"], missing: [false, true, false]))
        let (column, value) = SklearnVectors.sklearnEmptyString
        #expect(f.nonZeros(0).count == 1 && f.nonZeros(0).first?.column == column && f.nonZeros(0).first?.value == value)
        #expect(f.nonZeros(1).isEmpty)
        #expect(f.nonZeros(2).count == 1)
    }

    /// The envelope, the passthrough columns (config order, every type, missing flags kept),
    /// the sequence number and the flags all travel on.
    @Test func forwardsEnvelopePassthroughSequenceAndFlags() throws {
        let config = makeConfig(fields: fields, features: [FeatureSpec(field: "amount", kind: .identity)],
                                passthrough: ["country", "id", "vip", "amount", "visits"])
        var p = try FeaturizeProcessor(config: config)
        let reject = Reject(line: 4, byteOffset: 99, code: .jsonSyntax, message: "bad", input: Array("{".utf8))
        let f = try featurize(&p, columns(), sequence: 123_456, flags: .replay, rejects: [reject], firstLine: 2)
        #expect(f.header.kind == .features && f.header.sequence == 123_456 && f.header.flags == .replay)
        #expect(f.firstLine == 2 && f.recordCount == 4 && f.rejects == [reject])
        let c = columns()
        #expect(f.passthrough.count == 5)
        #expect(f.passthrough[0] == c[2] && f.passthrough[1] == c[0] && f.passthrough[2] == c[3] && f.passthrough[4] == c[4])
        // Column == compares NaN payloads as unequal: compare the float column bit for bit.
        guard case .float(let got) = f.passthrough[3].values, case .float(let sent) = c[1].values else {
            Issue.record("amount is not a float column")
            return
        }
        #expect(got.map(\.bitPattern) == sent.map(\.bitPattern) && f.passthrough[3].missing == c[1].missing)
    }

    @Test func noPassthroughConfiguredForwardsNone() throws {
        var p = try FeaturizeProcessor(config: makeConfig(fields: fields, features: [FeatureSpec(field: "id", kind: .identity)]))
        #expect(try featurize(&p, columns()).passthrough.isEmpty)
    }

    @Test func emptyBatch() throws {
        var p = try FeaturizeProcessor(config: makeConfig(fields: fields, features: [
            FeatureSpec(field: "amount", kind: .identity), FeatureSpec(field: "country", kind: .hash(buckets: 1 << 20)),
        ]))
        let empty = [Column(.int([])), Column(.float([])), stringColumn([]), Column(.bool([])), Column(.int([]))]
        let f = try featurize(&p, empty)
        #expect(f.rows == 0 && f.layout == .csr && f.rowStart == [0] && f.values.isEmpty)
    }

    /// A batch that does not match the schema is malformed input (FrameError), not a crash.
    @Test func schemaMismatchIsAFrameError() throws {
        var p = try FeaturizeProcessor(config: makeConfig(fields: fields, features: [FeatureSpec(field: "id", kind: .identity)]))
        #expect(throws: FrameError.self) { try featurize(&p, Array(columns().dropLast())) }
        var swapped = columns()
        swapped.swapAt(0, 1)
        #expect(throws: FrameError.self) { try featurize(&p, swapped) }
    }

    @Test func rejectsOtherFrameKinds() throws {
        var p = try FeaturizeProcessor(config: makeConfig(fields: fields, features: [FeatureSpec(field: "id", kind: .identity)]))
        let buffer = FrameBuffer()
        buffer.frame(.drain)
        let (frame, _) = try #require(try FrameDecoder().decode(buffer.bytes))
        #expect(throws: FrameError.self) { try p.process(frame, into: FrameBuffer()) }
    }

    /// Buffers are reused: a later, smaller batch must not see the earlier batch's one-hot bits.
    @Test func reusedBuffersStartClean() throws {
        var p = try FeaturizeProcessor(config: makeConfig(
            fields: [FieldSpec(name: "c", type: .string)],
            features: [FeatureSpec(field: "c", kind: .onehot(categories: ["a", "b"])),
                       FeatureSpec(field: "c", kind: .hash(buckets: 8))]))
        let big = try featurize(&p, [stringColumn(Array(repeating: "a", count: 1000) + ["b"])])
        #expect(big.row(0)[0] == 1 && big.row(1000)[1] == 1)
        let small = try featurize(&p, [stringColumn(["zz", "zz"])])
        #expect(small.row(0)[0..<2] == [0, 0] && small.row(1)[0..<2] == [0, 0])
        #expect(small.nonZeros(0).count == 1)
        let again = try featurize(&p, [stringColumn(["zz", "zz"])])
        #expect(again.values == small.values)
    }
}
