import Config
import Foundation
import Messages
import Testing
@testable import IngestStage

/// Random records written by Foundation's JSONSerialization (and by a small CSV writer) must come
/// out of ingest with every typed value exactly as generated.
@Suite struct DifferentialTests {
    static let floatCount = 8
    static let fields: [FieldSpec] = [
        FieldSpec(name: "id", type: .int), FieldSpec(name: "s", type: .string, required: false),
        FieldSpec(name: "b", type: .bool, required: false), FieldSpec(name: "n", type: .int, required: false),
    ] + (0..<floatCount).map { FieldSpec(name: "f\($0)", type: .float, required: false) }

    /// One generated record: what each schema field should read back as (nil: missing).
    struct Expected {
        var id: Int64
        var s: String?
        var b: Bool?
        var n: Int64?
        var f: [Double?]
    }

    static func randomDouble(_ rng: inout SeededRandom) -> Double {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0:
            while true {
                let d = Double(bitPattern: rng.next())
                if d.isFinite { return d }
            }
        case 1: return Double(Int.random(in: -1_000_000...1_000_000, using: &rng)) / 10_000
        case 2: return Double.random(in: -1...1, using: &rng)
        default: return Double(Int64.random(in: .min ... .max, using: &rng))
        }
    }

    static func randomString(_ rng: inout SeededRandom) -> String {
        let specials: [Unicode.Scalar] = ["\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "中", "😀",
                                          "\u{2028}", "\u{FFFF}", "\u{10FFFF}", ",", " "]
        var s = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...12, using: &rng) {
            if Bool.random(using: &rng) {
                s.append(specials.randomElement(using: &rng)!)
            } else {
                s.append(Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &rng)))
            }
        }
        return String(s)
    }

    static func randomIgnored(_ rng: inout SeededRandom, depth: Int = 0) -> Any {
        switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &rng) {
        case 0: return randomString(&rng)
        case 1: return randomDouble(&rng)
        case 2: return Bool.random(using: &rng)
        case 3: return NSNull()
        case 4: return (0..<Int.random(in: 0...3, using: &rng)).map { _ in randomIgnored(&rng, depth: depth + 1) }
        default:
            var d: [String: Any] = [:]
            for k in 0..<Int.random(in: 0...3, using: &rng) { d["k\(k)"] = randomIgnored(&rng, depth: depth + 1) }
            return d
        }
    }

    static func randomRecord(_ rng: inout SeededRandom) -> ([String: Any], Expected) {
        var object: [String: Any] = [:]
        var e = Expected(id: Int64.random(in: .min ... .max, using: &rng), f: [])
        object["id"] = e.id
        if Bool.random(using: &rng) { e.s = randomString(&rng); object["s"] = e.s } else if Bool.random(using: &rng) { object["s"] = NSNull() }
        if Bool.random(using: &rng) { e.b = Bool.random(using: &rng); object["b"] = e.b }
        if Bool.random(using: &rng) { e.n = Int64.random(in: -1000...1000, using: &rng); object["n"] = e.n }
        for k in 0..<floatCount {
            let v: Double? = Int.random(in: 0..<5, using: &rng) == 0 ? nil : randomDouble(&rng)
            e.f.append(v)
            if let v { object["f\(k)"] = v } else if Bool.random(using: &rng) { object["f\(k)"] = NSNull() }
        }
        for k in 0..<Int.random(in: 0...2, using: &rng) { object["extra\(k)"] = randomIgnored(&rng) }
        return (object, e)
    }

    static func check(_ result: Ingested, _ expected: [Expected]) {
        #expect(result.rejects.isEmpty, "\(result.rejects.prefix(3).map(\.message))")
        guard result.rows == expected.count else {
            Issue.record("\(result.rows) rows for \(expected.count) records")
            return
        }
        #expect(result.ints(0) == expected.map(\.id))
        #expect(result.texts(1) == expected.map { $0.s ?? "" } && result.missing(1) == expected.map { $0.s == nil })
        #expect(result.bools(2) == expected.map { $0.b ?? false } && result.missing(2) == expected.map { $0.b == nil })
        #expect(result.ints(3) == expected.map { $0.n ?? 0 } && result.missing(3) == expected.map { $0.n == nil })
        for k in 0..<floatCount {
            let got = result.doubles(4 + k)
            for (row, e) in expected.enumerated() {
                if let v = e.f[k] {
                    #expect(got[row].bitPattern == v.bitPattern, "f\(k) row \(row): \(got[row]) != \(v)")
                } else {
                    #expect(got[row].isNaN && result.missing(4 + k)[row])
                }
            }
        }
    }

    @Test func jsonSerializationRoundTrips() throws {
        var rng = SeededRandom(seed: 2024)
        var processor = try IngestProcessor(config: makeConfig(Self.fields))
        for _ in 0..<40 {
            var body: [UInt8] = []
            var expected: [Expected] = []
            for _ in 0..<Int.random(in: 1...100, using: &rng) {
                let (object, e) = Self.randomRecord(&rng)
                body += try JSONSerialization.data(withJSONObject: object)
                body.append(0x0A)
                expected.append(e)
            }
            Self.check(try ingest(&processor, body: body, format: .jsonl), expected)
        }
    }

    static func csvField(_ text: String, _ rng: inout SeededRandom) -> String {
        // By scalars: "\r\n" is one Character.
        let mustQuote = text.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" } || text.isEmpty
        guard mustQuote || Int.random(in: 0..<4, using: &rng) == 0 else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    @Test func csvRoundTrips() throws {
        var rng = SeededRandom(seed: 77)
        var processor = try IngestProcessor(config: makeConfig(Self.fields, format: .csv))
        // Another column order than the schema's, and a column no field takes.
        let columns = ["extra", "f3", "id", "s", "b", "n"] + (0..<Self.floatCount).filter { $0 != 3 }.map { "f\($0)" }
        for _ in 0..<40 {
            var body = ""
            var expected: [Expected] = []
            for _ in 0..<Int.random(in: 1...100, using: &rng) {
                var (_, e) = Self.randomRecord(&rng)
                let cells = columns.map { name -> String in
                    switch name {
                    case "extra": return Self.csvField(Self.randomString(&rng), &rng)
                    case "id": return "\(e.id)"
                    case "s": return e.s.map { Self.csvField($0, &rng) } ?? ""
                    case "b": return e.b.map { Bool.random(using: &rng) ? ($0 ? "TRUE" : "0") : ($0 ? "1" : "false") } ?? ""
                    case "n": return e.n.map { "\($0)" } ?? ""
                    default: return e.f[Int(name.dropFirst())!].map { "\($0)" } ?? ""
                    }
                }
                body += cells.joined(separator: ",") + (Bool.random(using: &rng) ? "\r\n" : "\n")
                e.s = e.s ?? ""  // an empty CSV field is an empty string, and present
                expected.append(e)
            }
            let result = try ingest(&processor, body: Array(body.utf8), header: Array(columns.joined(separator: ",").utf8),
                                    format: .csv, firstLine: 2)
            Self.check(result, expected)
        }
    }
}
