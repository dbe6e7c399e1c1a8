import Config
import Glibc
import Messages
import Testing
@testable import IngestStage
import TestSupport

/// The JSON fast path (`JSONFastPath`, `StructuralScan`) against the general parser it skips:
/// the same chunk through a processor with it and one without must give the same output frame,
/// byte for byte (values, missing flags, rejects with their messages), on clean records, on
/// adversarial numbers, and on records with random bytes changed.
@Suite struct JSONFastPathTests {
    static let floats = (0..<12).map { FieldSpec(name: "f\($0)", type: .float) }
    static let schema = [FieldSpec(name: "id", type: .int)] + floats

    /// Both processors' output frames for one chunk of `lines`.
    static func outputs(_ lines: [[UInt8]], fields: [FieldSpec]) throws -> (fast: [UInt8], general: [UInt8]) {
        let body: [UInt8] = lines.flatMap { line -> [UInt8] in line + [0x0A] }
        let config = makeConfig(fields)
        var fast = try IngestProcessor(config: config, fastPath: true, backoff: 0)
        var general = try IngestProcessor(config: config, fastPath: false, backoff: 0)
        return (try frame(&fast, body), try frame(&general, body))
    }

    static func frame(_ processor: inout IngestProcessor, _ body: [UInt8]) throws -> [UInt8] {
        let input = FrameBuffer()
        body.withUnsafeBytes { b in
            RawChunkView.encode(into: input, sequence: 3, firstLine: 1, byteOffset: 0,
                                recordCount: referenceRecordCount(body, format: .jsonl), headerLine: UnsafeRawBufferPointer(start: nil, count: 0),
                                body: b)
        }
        guard let (frame, _) = try FrameDecoder().decode(input.bytes) else { throw FrameError.truncated(field: "test input") }
        let out = FrameBuffer()
        try processor.process(frame, into: out)
        return Array(out.bytes)
    }

    /// Where two output frames first differ (nil: the same bytes); a short failure message,
    /// where `==` on the arrays would have the testing library diff kilobytes.
    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String? {
        guard a != b else { return nil }
        let at = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        return "byte \(at) of \(a.count) and \(b.count)"
    }

    /// Whether the fast path alone takes `line` (padded, as a chunk body would be).
    static func taken(_ line: String, fields: [FieldSpec]) -> Bool {
        guard let fast = JSONFastPath(fields: fields) else { return false }
        return taken(line, by: fast, fields: fields)
    }

    /// Whether `fast` takes `line` (its backoff state carries over from call to call).
    static func taken(_ line: String, by fast: JSONFastPath, fields: [FieldSpec]) -> Bool {
        let bytes = Array(line.utf8) + [UInt8](repeating: 0x0A, count: 64)
        return bytes.withUnsafeBufferPointer { b in
            parse(b.baseAddress!, count: line.utf8.count, limit: b.count, by: fast, fields: fields)
        }
    }

    /// `fast.parse` of one record at `p` into a fresh one-row assembler for `fields`.
    static func parse(_ p: UnsafePointer<UInt8>, count: Int, limit: Int, by fast: JSONFastPath, fields: [FieldSpec]) -> Bool {
        let storage = ColumnStorage(types: fields.map(\.type))
        storage.prepare(rows: 1)
        let required = UnsafeMutablePointer<Bool>.allocate(capacity: fields.count)
        required.initialize(repeating: true, count: fields.count)
        let serials = UnsafeMutablePointer<UInt32>.allocate(capacity: fields.count)
        serials.initialize(repeating: 0, count: fields.count)
        let states = UnsafeMutablePointer<UInt8>.allocate(capacity: fields.count)
        states.initialize(repeating: 0, count: fields.count)
        defer { required.deallocate(); serials.deallocate(); states.deallocate() }
        var record = RecordAssembler(storage: storage, required: required, stringFields: UnsafeBufferPointer(start: nil, count: 0),
                                     slotSerial: serials, slotState: states, serial: 0)
        record.begin()
        return fast.parse(p, 0, count, limit: limit, into: &record)
    }

    /// Records followed by the fewest bytes the fast path could once read past them, then an
    /// inaccessible page: it must never read past `limit`, even for a record whose last field is
    /// shorter than its key (a malformed record with the expected number of commas). Names of 12
    /// bytes make 15-byte keys (16 with the value's first byte), the longest of two words; a
    /// read past the body faults the run.
    @Test func neverReadsPastTheBody() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let memory = try #require(mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        try #require(memory != MAP_FAILED)
        defer { munmap(memory, 2 * page) }
        #expect(mprotect(memory + page, page, PROT_NONE) == 0)
        // Sixteen floats: the last field is in a group of eight, read by the vector loads.
        let names = (0..<16).map { "abcdefghij" + ($0 < 10 ? "0" : "") + "\($0)" }
        let fields = [FieldSpec(name: "id", type: .int)] + names.map { FieldSpec(name: $0, type: .float) }
        let fast = try #require(JSONFastPath(fields: fields, backoff: 0))
        let good = Self.line("1", (0..<16).map { _ in "1.5" }, names: names)
        let short = String(Self.line("1", (0..<15).map { _ in "1" }, names: Array(names.prefix(15))).dropLast()) + ",7}"
        for (record, padding) in [(short, 16), (short, 17), (short, 24), (good, 16), (good, 0)] {
            let bytes = Array(record.utf8) + [UInt8](repeating: 0x0A, count: padding)
            let start = page - bytes.count
            let base = memory.assumingMemoryBound(to: UInt8.self)
            for (i, b) in bytes.enumerated() { base[start + i] = b }
            let taken = Self.parse(UnsafePointer(base + start), count: record.utf8.count, limit: bytes.count, by: fast, fields: fields)
            #expect(!taken || record == good, "\(record) + \(padding)")
        }
    }

    static func line(_ id: String, _ values: [String], names: [String]? = nil) -> String {
        let names = names ?? (0..<values.count).map { "f\($0)" }
        return "{\"id\":\(id)" + zip(names, values).map { ",\"\($0)\":\($1)" }.joined() + "}"
    }

    /// `line` as Python's `json.dumps` writes it: a space after every ',' and ':'.
    static func spaced(_ line: String) -> String {
        line.replacingOccurrences(of: ",", with: ", ").replacingOccurrences(of: ":", with: ": ")
    }

    static func plainValue(_ rng: inout SplitMix64) -> String {
        switch rng.next() % 4 {
        case 0: "\(Double(Int.random(in: -999_999...999_999, using: &rng)) / 10_000)"
        case 1: "\(Int.random(in: -9_999_999...99_999_999, using: &rng))"
        case 2: "\(Double.random(in: -1...1, using: &rng))"
        default: "\(Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF))"
        }
    }

    @Test func commaBitsMatchTheirScalarTwin() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<2000 {
            let bytes = (0..<64).map { _ in rng.next() % 3 == 0 ? UInt8(ascii: ",") : UInt8(truncatingIfNeeded: rng.next()) }
            bytes.withUnsafeBufferPointer { b in
                #expect(StructuralScan.commaBits(UnsafeRawPointer(b.baseAddress!)) == StructuralScan.commaBitsScalar(b.baseAddress!, count: 64))
            }
        }
        let all = [UInt8](repeating: UInt8(ascii: ","), count: 64)
        all.withUnsafeBufferPointer { b in #expect(StructuralScan.commaBits(UnsafeRawPointer(b.baseAddress!)) == ~0) }
    }

    /// Comma positions on awkward lengths, with the body ending at the record (tail copied) or
    /// far past it, against a plain scan.
    @Test(arguments: [0, 1, 7, 8, 9, 63, 64, 65, 127, 128, 129, 4099])
    func commaPositions(_ length: Int) {
        var rng = SplitMix64(seed: UInt64(length))
        let bytes = (0..<length + 64).map { _ in rng.next() % 5 == 0 ? UInt8(ascii: ",") : UInt8(ascii: "7") }
        let expected = (0..<length).filter { bytes[$0] == UInt8(ascii: ",") }
        let positions = UnsafeMutablePointer<Int>.allocate(capacity: length + 64)
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
        defer { positions.deallocate(); scratch.deallocate() }
        var ascii = false
        for limit in [length, length + 64] {
            let n = bytes.withUnsafeBufferPointer { b in
                StructuralScan.commas(b.baseAddress!, 0, length, limit: limit, most: length, positions: positions,
                                      scratch: scratch, ascii: &ascii)
            }
            #expect(Array(UnsafeBufferPointer(start: positions, count: n)) == expected, "limit \(limit)")
            #expect(ascii)
            // Stops once past `most`.
            if expected.count > 2 {
                let early = bytes.withUnsafeBufferPointer { b in
                    StructuralScan.commas(b.baseAddress!, 0, length, limit: limit, most: 1, positions: positions, scratch: scratch,
                                          ascii: &ascii)
                }
                #expect(early > 1)
            }
        }
        // One byte of 0x80 or above anywhere in the range (and none past it counts).
        var high = bytes
        for k in 0..<64 { high[length + k] = 0xC3 }
        for at in [0, length / 2, length - 1] where length > 0 {
            var marked = high
            marked[at] = 0x80 | UInt8(truncatingIfNeeded: at)
            for limit in [length, length + 64] {
                let clean = high.withUnsafeBufferPointer { b in
                    StructuralScan.commas(b.baseAddress!, 0, length, limit: limit, most: length, positions: positions,
                                          scratch: scratch, ascii: &ascii)
                }
                #expect(clean == expected.count && ascii, "bytes past the end, limit \(limit)")
                _ = marked.withUnsafeBufferPointer { b in
                    StructuralScan.commas(b.baseAddress!, 0, length, limit: limit, most: length, positions: positions,
                                          scratch: scratch, ascii: &ascii)
                }
                #expect(!ascii, "at \(at), limit \(limit)")
            }
        }
    }

    /// What it takes and what it leaves to the general path.
    @Test func takesOnlyTheExactShape() {
        let fields = Self.schema
        let values = (0..<12).map { "\($0).25" }
        #expect(Self.taken(Self.line("1", values), fields: fields))
        #expect(Self.taken(Self.line("-7", values.map { "-" + $0 }), fields: fields))
        #expect(!Self.taken(Self.line("1", Array(values.dropLast())), fields: fields), "a field missing")
        #expect(!Self.taken(Self.line("1", values + ["1"]), fields: fields), "an extra field")
        #expect(!Self.taken(Self.line("1", values.reversed(), names: (0..<12).reversed().map { "f\($0)" }), fields: fields),
                "another order")
        #expect(!Self.taken(Self.line("1", values).replacingOccurrences(of: ",", with: ", "), fields: fields), "whitespace")
        // json.dumps's form: one space after every ',' and ':', and nothing else.
        let dumps = Self.spaced(Self.line("1", values))
        #expect(Self.taken(dumps, fields: fields))
        #expect(Self.taken(Self.spaced(Self.line("-7", values.map { "-" + $0 })), fields: fields))
        #expect(!Self.taken(dumps.replacingOccurrences(of: ": ", with: ":"), fields: fields), "no space after ':'")
        #expect(!Self.taken(dumps.replacingOccurrences(of: "\"f3\": ", with: "\"f3\":  "), fields: fields), "two spaces")
        #expect(!Self.taken(dumps.replacingOccurrences(of: ", \"f5", with: ",\"f5"), fields: fields), "one comma without")
        #expect(!Self.taken(dumps.replacingOccurrences(of: ", \"f7", with: ",\t\"f7"), fields: fields), "a tab")
        #expect(!Self.taken(dumps.replacingOccurrences(of: "\"f9\": ", with: "\"f9\" : "), fields: fields), "space before ':'")
        #expect(!Self.taken("{ " + dumps.dropFirst(), fields: fields), "space after '{'")
        #expect(!Self.taken(String(dumps.dropLast()) + " }", fields: fields), "space before '}'")
        #expect(!Self.taken(" " + Self.line("1", values), fields: fields), "leading whitespace")
        #expect(!Self.taken(Self.line("1", values) + " ", fields: fields), "trailing whitespace")
        #expect(!Self.taken(Self.line("1", ["null"] + values.dropFirst()), fields: fields), "null")
        #expect(!Self.taken(Self.line("1", ["1e400"] + values.dropFirst()), fields: fields), "out of range")
        #expect(!Self.taken(Self.line("1.5", values), fields: fields), "a fraction in an int field")
        #expect(Self.taken(Self.line("1e3", ["1E-3", "123456789.123456789", "-0", "0.0"] + values.dropFirst(4)), fields: fields),
                "exponents and long numbers through the general functions")
        #expect(JSONFastPath(fields: fields + [FieldSpec(name: "s", type: .string)]) == nil)
        #expect(JSONFastPath(fields: [FieldSpec(name: String(repeating: "x", count: 29), type: .float)]) == nil)
        #expect(JSONFastPath(fields: [FieldSpec(name: "a,b", type: .float)]) == nil)
        #expect(JSONFastPath(fields: [FieldSpec(name: String(repeating: "x", count: 28), type: .float)]) != nil)
    }

    /// After a record that did not pay (not taken, or taken without a SIMD group), the next
    /// `backoff` records go straight to the general path.
    @Test func backsOffWhenItDoesNotPay() throws {
        let fast = try #require(JSONFastPath(fields: Self.schema, backoff: 2))
        let short = Self.line("1", (0..<12).map { "\($0).5" })
        let long = Self.line("1", (0..<12).map { _ in "0.12345678901234567" })
        let spaced = short.replacingOccurrences(of: ",", with: ", ")
        #expect(Self.taken(short, by: fast, fields: Self.schema))
        #expect(Self.taken(long, by: fast, fields: Self.schema), "taken, one field at a time")
        #expect(!Self.taken(short, by: fast, fields: Self.schema) && !Self.taken(short, by: fast, fields: Self.schema))
        #expect(Self.taken(short, by: fast, fields: Self.schema))
        #expect(!Self.taken(spaced, by: fast, fields: Self.schema))
        #expect(!Self.taken(short, by: fast, fields: Self.schema) && !Self.taken(short, by: fast, fields: Self.schema))
        #expect(Self.taken(short, by: fast, fields: Self.schema))
    }

    /// Clean records, as machines write them (compact, or as json.dumps does): the fast path
    /// takes them, and the frames match.
    @Test(arguments: [false, true])
    func cleanRecords(spaced: Bool) throws {
        var rng = SplitMix64(seed: 11)
        var lines: [[UInt8]] = []
        for id in 0..<300 {
            let compact = Self.line("\(id)", (0..<12).map { _ in Self.plainValue(&rng) })
            let text = spaced ? Self.spaced(compact) : compact
            #expect(Self.taken(text, fields: Self.schema), "\(text)")
            lines.append(Array(text.utf8))
        }
        let (fast, general) = try Self.outputs(lines, fields: Self.schema)
        #expect(Self.firstDifference(fast, general) == nil)
    }

    static let adversarial: [String] = [
        "0", "-0", "0.0", "-0.0", "00", "01", "-01", "0.", "1.", ".5", "-.5", "-", "+1", "1e", "1e+", "1e-", "1E5", "1e-5",
        "1.5e3", "9", "99999999", "999999999", "12345678.9", "1234567.8", "-9999999.9", "0.0000001", "0.00000001",
        "9007199254740993", "9007199254740992.5", "18446744073709551616", "123456789012345678901234567890",
        "1.00000000000000011102230246251565404236316680908203125", "0.1000000000000000055511151231257827021181583404541015625",
        "2.2250738585072011e-308", "2.2250738585072014e-308", "4.9e-324", "2.4703282292062327e-324",
        "2.4703282292062328e-324", "1e-400", "1.7976931348623157e308", "1.7976931348623159e308", "1e309", "-1e309",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.9999999",
        "NaN", "Infinity", "-Infinity", "true", "false", "null", "\"1\"", "[1]", "{}", "1,", "1 ", " 1", "1x", "0x10",
        "1..2", "1.2.3", "--1", "1-", "١", "1é", "\"a,b\"", "\"\\\"\"", "1\t",
    ]

    /// Each adversarial text in each position of a record (float and int fields), alone in its
    /// chunk and among clean records.
    @Test func adversarialNumbers() throws {
        var rng = SplitMix64(seed: 12)
        var lines: [[UInt8]] = []
        for (k, text) in Self.adversarial.enumerated() {
            let position = k % 13
            var values = (0..<12).map { _ in Self.plainValue(&rng) }
            var id = "\(k)"
            if position == 0 { id = text } else { values[position - 1] = text }
            let record = Array(Self.line(id, values).utf8)
            let (fast, general) = try Self.outputs([record], fields: Self.schema)
            #expect(Self.firstDifference(fast, general) == nil, "\(text) at \(position)")
            lines.append(record)
            lines.append(Array(Self.line("\(k)", (0..<12).map { _ in Self.plainValue(&rng) }).utf8))
        }
        let (fast, general) = try Self.outputs(lines, fields: Self.schema)
        #expect(Self.firstDifference(fast, general) == nil)
    }

    /// Clean records with one to three bytes replaced, inserted or removed (structural bytes,
    /// digits, signs, whitespace, non-ASCII): whatever becomes of them, the same.
    @Test func mutatedRecords() throws {
        var rng = SplitMix64(seed: 13)
        let pieces: [[UInt8]] = ["{", "}", "[", "]", ",", ":", "\"", " ", "\\", "e", "E", ".", "-", "+", "0", "5", "9", "n", "é", "\t"]
            .map { Array($0.utf8) }
        for _ in 0..<30 {
            var lines: [[UInt8]] = []
            for id in 0..<60 {
                var record = Array(Self.line("\(id)", (0..<12).map { _ in Self.plainValue(&rng) }).utf8)
                Self.mutate(&record, times: Int(rng.next() % 4), with: pieces, &rng)
                lines.append(record)
            }
            let (fast, general) = try Self.outputs(lines, fields: Self.schema)
            #expect(Self.firstDifference(fast, general) == nil)
        }
    }

    /// Every short shape a SIMD lane takes or must refuse (up to 9 bytes after the sign, the '.'
    /// anywhere, leading zeros, signs), in groups of eight float fields: the same as the general path.
    @Test func shortNumbersInGroups() throws {
        var rng = SplitMix64(seed: 14)
        let fields = [FieldSpec(name: "id", type: .int)] + (0..<64).map { FieldSpec(name: "f\($0)", type: .float) }
        func shortNumber() -> String {
            let length = Int(rng.next() % 10)  // 0...9 characters after the sign
            var text = (0..<length).map { _ in String(rng.next() % 10) }.joined()
            if length > 0 && rng.next() % 3 != 0 {
                let at = Int(rng.next() % UInt64(length + 1))
                text.insert(".", at: text.index(text.startIndex, offsetBy: at))
            }
            switch rng.next() % 6 {
            case 0: text = "-" + text
            case 1: text = "-0" + text
            case 2: text = "0" + text
            default: break
            }
            return text.isEmpty ? "7" : text
        }
        var lines: [[UInt8]] = []
        var taken = 0
        for id in 0..<400 {
            let text = Self.line("\(id)", (0..<64).map { _ in id % 4 == 0 ? shortNumber() : "\(Int(rng.next() % 2000) - 1000).\(rng.next() % 10)" })
            if Self.taken(text, fields: fields) { taken += 1 }
            lines.append(Array(text.utf8))
        }
        #expect(taken >= 300, "the clean three quarters at least")
        let (fast, general) = try Self.outputs(lines, fields: fields)
        #expect(Self.firstDifference(fast, general) == nil)
    }

    /// Names at the key compare's word boundaries, an optional field, and ints only.
    @Test(arguments: [1, 4, 5, 12, 13, 20, 21, 28])
    func nameLengths(_ length: Int) throws {
        var rng = SplitMix64(seed: UInt64(length))
        let names = (0..<5).map { i in String(repeating: "k", count: length - 1) + "\(i)" }
        let fields = [FieldSpec(name: names[0], type: .int)] + names.dropFirst().map { FieldSpec(name: $0, type: .float, required: false) }
        var lines: [[UInt8]] = []
        for id in 0..<50 {
            var text = "{" + names.enumerated().map { i, name in
                "\"\(name)\":\(i == 0 ? "\(id)" : Self.plainValue(&rng))"
            }.joined(separator: ",") + "}"
            #expect(Self.taken(text, fields: fields))
            if id % 7 == 3 {
                // A near miss of a name: the general path's (no field takes it).
                text = text.replacingOccurrences(of: names[2], with: String(names[2].dropLast()) + "x")
                #expect(!Self.taken(text, fields: fields))
            }
            lines.append(Array(text.utf8))
        }
        let (fast, general) = try Self.outputs(lines, fields: fields)
        #expect(Self.firstDifference(fast, general) == nil)
    }

    /// An output frame's kind, its columns' (missing, value bits) row by row, and its rejects.
    static func decoded(_ bytes: [UInt8]) throws -> (kind: FrameKind, columns: [[(Bool, UInt64)]], rejects: [Reject]) {
        try bytes.withUnsafeBytes { raw in
            guard let (frame, _) = try FrameDecoder().decode(raw) else { throw FrameError.truncated(field: "test output") }
            if frame.header.kind != .records {
                return (frame.header.kind, [], try ErrorBatchView.decode(frame).envelope.rejects())
            }
            let batch = try RecordBatchView.decode(frame)
            let columns = batch.columns.map { column in
                (0..<column.count).map { row in (column.isMissing(row), column.double(row).bitPattern) }
            }
            return (frame.header.kind, columns, try batch.envelope.rejects())
        }
    }

    /// Random chunks of records, compact or spaced, with random numbers (short, long, odd and
    /// invalid ones), some mutated (structural bytes, whitespace, invalid UTF-8): the fast path's
    /// output decoded column by column and row by row, and reject by reject (line, offset, code,
    /// field, message, input), against the general path's.
    @Test func randomRecordsColumnByColumn() throws {
        var rng = SplitMix64(seed: 21)
        let fields = [FieldSpec(name: "id", type: .int)] + (0..<20).map { FieldSpec(name: "f\($0)", type: .float) }
            + [FieldSpec(name: "n", type: .int, required: false)]
        let pieces: [[UInt8]] = [[0x20], [0x2C], [0x3A], [0x22], [0x7B], [0x7D], [0x2D], [0x2E], [0x30], [0x65], [0x09],
                                 [0xFF], [0xC3], [0xC3, 0xA9], [0xE2, 0x82], [0x80]]
        func number() -> String {
            switch rng.next() % 8 {
            case 0: Self.adversarial[Int(rng.next() % UInt64(Self.adversarial.count))]
            case 1: "\(Int(rng.next() % 200_000_000) - 100_000_000)"
            case 2, 3: "\(Double(Int(rng.next() % 2_000_000) - 1_000_000) / 10_000)"
            default: Self.plainValue(&rng)
            }
        }
        for round in 0..<40 {
            var lines: [[UInt8]] = []
            for id in 0..<Int(1 + rng.next() % 80) {
                var values = (0..<20).map { _ in rng.next() % 4 == 0 ? number() : "\(Double(Int(rng.next() % 2_000_000) - 1_000_000) / 10_000)" }
                values.append(rng.next() % 5 == 0 ? "null" : "\(rng.next() % 100)")
                var text = Self.line("\(id)", values, names: (0..<20).map { "f\($0)" } + ["n"])
                if rng.next() % 2 == 0 { text = Self.spaced(text) }
                var record = Array(text.utf8)
                if rng.next() % 3 == 0 {
                    Self.mutate(&record, times: Int(1 + rng.next() % 3), with: pieces, &rng)
                    record.removeAll { $0 == 0x0A }
                }
                lines.append(record)
            }
            let (fast, general) = try Self.outputs(lines, fields: fields)
            let (x, y) = (try Self.decoded(fast), try Self.decoded(general))
            #expect(x.kind == y.kind, "round \(round)")
            #expect(x.columns.count == y.columns.count, "round \(round)")
            for (c, (valuesA, valuesB)) in zip(x.columns, y.columns).enumerated() {
                #expect(valuesA.count == valuesB.count, "round \(round), column \(c)")
                for (row, (u, v)) in zip(valuesA, valuesB).enumerated() where u != v {
                    Issue.record("round \(round), column \(c), row \(row): \(u) / \(v)")
                }
            }
            #expect(x.rejects.count == y.rejects.count, "round \(round)")
            for (u, v) in zip(x.rejects, y.rejects) {
                #expect(u == v, "round \(round): \(u.message) / \(v.message)")
            }
            #expect(Self.firstDifference(fast, general) == nil, "round \(round)")
        }
    }

    /// Replaces, inserts or removes a random piece at a random place of `record`, `times` times.
    static func mutate(_ record: inout [UInt8], times: Int, with pieces: [[UInt8]], _ rng: inout SplitMix64) {
        for _ in 0..<times {
            let at = Int(rng.next() % UInt64(record.count))
            let piece = pieces[Int(rng.next() % UInt64(pieces.count))]
            switch rng.next() % 3 {
            case 0: record.replaceSubrange(at..<at + 1, with: piece)
            case 1: record.insert(contentsOf: piece, at: at)
            default: record.remove(at: at)
            }
        }
    }
}
