// libFuzzer target `jsonl`: JSON lines through the source's InputSplitter and ingest's JSON
// parser, typed by a schema with every field type (see SplitDriver.swift for the layout of raw
// inputs and the invariants checked on every batch).
//
// With bit 7 of the options byte set, the rest of the input is not JSON but the choices of a
// generator that writes valid JSON objects for the `short` schema (every field type, a required
// int): values in several spellings (escaped and raw strings, surrogate pairs, numbers as Swift
// prints them or with other exponents and fractions), escaped keys, keys in any order, unknown
// keys with nested values, duplicate keys whose last value wins, nulls, absent fields, blank
// lines. Ingest must give back exactly the values written (floats bit for bit), reject exactly
// the records that miss the required field, on the right line, and nothing else.

import Config
import Messages

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let options = input.byte(), seed = input.byte()
    if options & 0x80 != 0 {
        roundTrip(&input, options: options, seed: seed)
    } else {
        let result = splitAndIngest(input.rest, SplitOptions(format: .jsonl, options: options, seed: seed))
        consume(UInt64(result.rows &+ result.rejects.count))
    }
    return 0
}

/// A typed value as written, and as ingest must return it.
enum Value: Equatable {
    case int(Int64)
    case float(UInt64)  // bit pattern
    case string([UInt8])
    case bool(Bool)
}

/// A generated record: accepted with these values (nil: absent or null, an optional field), or
/// rejected because the required field is absent or null.
struct ExpectedRecord {
    var line: UInt64
    var values: [Value?]
    var missingRequired: Int?
}

func roundTrip(_ input: inout FuzzInput, options: UInt8, seed: UInt8) {
    var split = SplitOptions(format: .jsonl, options: options, seed: seed)
    split.schema = Schemas.short
    split.maxRecordBytes = 1 << 20
    var g = Generator(input: input)
    var line: UInt64 = 1
    var expected: [ExpectedRecord] = []
    while g.input.remaining > 0 && expected.count < 200 {
        if g.byte() % 16 == 0 {
            g.text += g.pick([" ", "\t", "", " \r"]).utf8
            g.text.append(0x0A)
            line += 1
            continue
        }
        expected.append(g.record(split.schema, line: line))
        g.text.append(0x0A)
        line += 1
    }
    let text = g.text
    let result = text.withUnsafeBytes { splitAndIngest($0, split) }
    let rejectedLines = expected.filter { $0.missingRequired != nil }.map(\.line)
    let accepted = expected.filter { $0.missingRequired == nil }
    guard result.rejects.map(\.line) == rejectedLines, result.rows == accepted.count else {
        violated("wrote \(accepted.count) valid records and rejects on lines \(rejectedLines); ingest accepted "
            + "\(result.rows), rejected \(result.rejects.map { "\($0.line):\($0.code.name) \($0.message)" })\n"
            + String(decoding: text, as: UTF8.self))
    }
    for r in result.rejects where r.code != .missingField || r.field != split.schema[0].name {
        violated("unexpected reject \(r)")
    }
    for (f, field) in split.schema.enumerated() {
        var got: [Value?] = []
        for batch in result.batches { got += values(batch[f]) }
        let want = accepted.map { $0.values[f] }
        guard got == want else {
            let bad = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }
            violated("field '\(field.name)': row \(bad?.offset ?? -1) came out \(String(describing: bad?.element.0)), "
                + "written \(String(describing: bad?.element.1))\n" + String(decoding: text, as: UTF8.self))
        }
    }
}

/// The values of a column, nil where missing (checking the placeholder a missing value gets).
func values(_ c: Column) -> [Value?] {
    func missing(_ i: Int) -> Bool { !c.missing.isEmpty && c.missing[i] }
    switch c.values {
    case .int(let v):
        return v.indices.map { i in
            if missing(i) { guard v[i] == 0 else { violated("missing int holds \(v[i])") }; return nil }
            return .int(v[i])
        }
    case .float(let v):
        return v.indices.map { i in
            if missing(i) { guard v[i].isNaN else { violated("missing float holds \(v[i])") }; return nil }
            return .float(v[i].bitPattern)
        }
    case .bool(let v):
        return v.indices.map { i in
            if missing(i) { guard !v[i] else { violated("missing bool holds true") }; return nil }
            return .bool(v[i])
        }
    case .string(let offsets, let bytes):
        return (0..<(offsets.count - 1)).map { i in
            let s = Array(bytes[Int(offsets[i])..<Int(offsets[i + 1])])
            if missing(i) { guard s.isEmpty else { violated("missing string holds \(s)") }; return nil }
            return .string(s)
        }
    }
}

/// Writes JSON text from the fuzz input's choices.
struct Generator {
    var input: FuzzInput
    var text: [UInt8] = []

    mutating func byte() -> UInt8 { input.byte() }

    mutating func pick<T>(_ options: [T]) -> T { options[Int(byte()) % options.count] }

    mutating func space() {
        let b = byte()
        guard b & 3 == 3 else { return }
        text += pick([" ", "\t", "  ", " \r ", "\r"]).utf8
    }

    /// One object; the record's fields in an order the input chooses, with extras mixed in.
    mutating func record(_ schema: [FieldSpec], line: UInt64) -> ExpectedRecord {
        var expected = ExpectedRecord(line: line, values: Array(repeating: nil, count: schema.count))
        // Members as (key text, value text), grouped by key; a key's members keep their order.
        var groups: [[([UInt8], [UInt8])]] = []
        for (f, field) in schema.enumerated() {
            var group: [([UInt8], [UInt8])] = []
            let c = byte() % 10
            switch c {
            case 0...4, 8, 9:
                let (text, value) = self.value(field.type)
                if c == 9 {
                    // An earlier duplicate of another type: the last value wins.
                    group.append((key(field.name), wrongTyped(field.type)))
                }
                group.append((key(field.name), text))
                expected.values[f] = value
            case 5:
                group.append((key(field.name), Array("null".utf8)))
            case 6:
                break  // absent
            default:
                // A value, then null: null wins.
                let (text, _) = self.value(field.type)
                group.append((key(field.name), text))
                group.append((key(field.name), Array("null".utf8)))
            }
            if field.required && expected.values[f] == nil { expected.missingRequired = f }
            groups.append(group)
        }
        for n in 0..<Int(byte() % 4) { groups.append([(Array("\"zz\(n)\"".utf8), nested(depth: 0))]) }
        // Interleave the groups in an input-chosen order.
        var members: [([UInt8], [UInt8])] = []
        while case let open = groups.indices.filter({ !groups[$0].isEmpty }), !open.isEmpty {
            let g = open[Int(byte()) % open.count]
            members.append(groups[g].removeFirst())
        }
        space()
        text.append(UInt8(ascii: "{"))
        for (n, member) in members.enumerated() {
            if n > 0 { text.append(UInt8(ascii: ",")) }
            space()
            text += member.0
            space()
            text.append(UInt8(ascii: ":"))
            space()
            text += member.1
            space()
        }
        text.append(UInt8(ascii: "}"))
        space()
        return expected
    }

    /// A key for `name`: plain, or with some characters as \u escapes.
    mutating func key(_ name: String) -> [UInt8] {
        var out = Array("\"".utf8)
        let escapeMask = byte()
        for (i, s) in name.unicodeScalars.enumerated() {
            if escapeMask & 0x80 != 0 && escapeMask & (1 << (i % 7)) != 0 {
                out += Array(escape(s.value, upper: escapeMask & 0x40 != 0).utf8)
            } else {
                out += Array(String(s).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }

    private func escape(_ v: UInt32, upper: Bool) -> String {
        let hex = String(v, radix: 16, uppercase: upper)
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }

    /// A value of `type` as JSON text, and what ingest must read from it.
    mutating func value(_ type: FieldType) -> ([UInt8], Value) {
        switch type {
        case .int:
            let form = byte()
            let v: Int64 = switch form & 3 {
            case 0: Int64(Int8(bitPattern: byte()))
            case 1: Int64(input.integer(Int16.self))
            case 2: Int64(input.integer(Int32.self))
            default: input.integer(Int64.self)
            }
            // Spellings of the same integer: 12, 12.0, 12e0, 1.2e1 (only where exact).
            var text = "\(v)"
            switch form >> 2 & 3 {
            case 1: text += ".0"
            case 2: text += form & 0x10 != 0 ? "e0" : "E+0"
            case 3 where v % 10 == 0 && v != 0: text = "\(v / 10)e1"
            default: break
            }
            return (Array(text.utf8), .int(v))
        case .float:
            let form = byte()
            var v: Double
            switch form & 3 {
            case 0: v = Double(bitPattern: input.integer(UInt64.self))
            case 1: v = Double(input.integer(Int32.self)) / [1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7][Int(form >> 2) & 7]
            case 2: v = Double(Float(bitPattern: input.integer(UInt32.self)))
            default: v = Double(input.integer(Int64.self)) / 1e9
            }
            if !v.isFinite { v = 0.5 }
            var text = "\(v)"
            if form & 0x20 != 0 { text = text.replacingOccurrences("e", "E") }
            if form & 0x40 != 0, v == v.rounded(), abs(v) < 1e15 { text = "\(Int64(v))" }
            if v == 0 && v.sign == .minus && form & 0x40 != 0 { text = "-0" }
            return (Array(text.utf8), .float(v.bitPattern))
        case .bool:
            let v = byte() & 1 == 1
            return (Array((v ? "true" : "false").utf8), .bool(v))
        case .string:
            return string()
        }
    }

    /// A JSON string of input-chosen scalars, each written raw or escaped.
    mutating func string() -> ([UInt8], Value) {
        let l = byte()
        let count = l & 0x80 != 0 ? 40 + Int(l & 0x7F) : Int(l % 12)
        var out = Array("\"".utf8)
        var decoded: [UInt8] = []
        for _ in 0..<count {
            guard input.remaining > 0 else { break }
            let kind = byte()
            let raw = kind & 8 == 0
            var v: UInt32
            switch kind % 8 {
            case 0, 1, 2, 3: v = 0x20 + UInt32(byte()) % 0x5F
            case 4: v = UInt32(byte()) % 0x20
            case 5: v = 0x80 + UInt32(input.integer(UInt16.self)) % 0xFF80
            case 6: v = 0x10000 + UInt32(input.integer(UInt32.self)) % 0x100000
            default: v = UInt32(byte()) % 0x80
            }
            if v >= 0xD800 && v <= 0xDFFF { v = 0xFFFD }
            let scalar = Unicode.Scalar(v)!
            decoded += Array(String(scalar).utf8)
            switch v {
            case 0x22: out += Array("\\\"".utf8)
            case 0x5C: out += Array("\\\\".utf8)
            case 0x2F where !raw: out += Array("\\/".utf8)
            case 0x08 where raw: out += Array("\\b".utf8)
            case 0x0C where raw: out += Array("\\f".utf8)
            case 0x0A where raw: out += Array("\\n".utf8)
            case 0x0D where raw: out += Array("\\r".utf8)
            case 0x09 where raw: out += Array("\\t".utf8)
            case 0..<0x20: out += Array(escape(v, upper: kind & 0x10 != 0).utf8)
            case 0x10000...:
                if raw {
                    out += Array(String(scalar).utf8)
                } else {
                    let u = v - 0x10000
                    out += Array((escape(0xD800 + (u >> 10), upper: kind & 0x10 != 0)
                        + escape(0xDC00 + (u & 0x3FF), upper: kind & 0x20 != 0)).utf8)
                }
            default:
                out += raw ? Array(String(scalar).utf8) : Array(escape(v, upper: kind & 0x10 != 0).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
        return (out, .string(decoded))
    }

    /// A value of a type other than `type`.
    mutating func wrongTyped(_ type: FieldType) -> [UInt8] {
        switch type {
        case .int, .float: pick([Array("\"7\"".utf8), Array("true".utf8), Array("[1]".utf8), Array("{}".utf8)])
        case .string: pick([Array("7".utf8), Array("false".utf8), Array("[\"x\"]".utf8), Array("{\"s\":1}".utf8)])
        case .bool: pick([Array("1".utf8), Array("\"true\"".utf8), Array("[]".utf8), Array("0.5".utf8)])
        }
    }

    /// Any JSON value, nested a few levels (for keys no field takes).
    mutating func nested(depth: Int) -> [UInt8] {
        let c = byte() % 8
        switch c {
        case 0: return value(.int).0
        case 1: return value(.float).0
        case 2: return string().0
        case 3: return Array(pick(["true", "false", "null"]).utf8)
        case 4...5 where depth < 6:
            var out = Array("[".utf8)
            for i in 0..<Int(byte() % 4) {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out += nested(depth: depth + 1)
            }
            return out + Array("]".utf8)
        case 6...7 where depth < 6:
            var out = Array("{".utf8)
            for i in 0..<Int(byte() % 4) {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out += string().0 + Array(":".utf8) + nested(depth: depth + 1)
            }
            return out + Array("}".utf8)
        default: return Array("0".utf8)
        }
    }
}

extension String {
    /// Foundation-free replacement of every `a` with `b` (single characters).
    func replacingOccurrences(_ a: Character, _ b: Character) -> String { String(map { $0 == a ? b : $0 }) }
}
