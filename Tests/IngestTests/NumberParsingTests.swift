import Testing
@testable import IngestStage

@Suite struct NumberParsingTests {
    /// Scans `text` as JSON (all of it) and converts it.
    func json(_ text: String) throws -> (Double?, IntegralResult) {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { b in
            var n = DecimalNumber()
            let end = try NumberParsing.scanJSON(b.baseAddress!, 0, b.count, into: &n)
            #expect(end == b.count, "\(text) not fully scanned")
            return (NumberParsing.double(n, b.baseAddress!, 0, b.count), NumberParsing.integral(n))
        }
    }

    func csv(_ text: String) -> (Double?, IntegralResult)? {
        let bytes = Array(text.utf8) + [0]
        return bytes.withUnsafeBufferPointer { b in
            guard let n = NumberParsing.scanCSV(b.baseAddress!, 0, b.count - 1) else { return nil }
            return (NumberParsing.double(n, b.baseAddress!, 0, b.count - 1), NumberParsing.integral(n))
        }
    }

    @Test(arguments: [
        "0", "-0", "1", "-1", "0.5", "1e5", "1E5", "1e+5", "1e-5", "123.456e-7", "9007199254740991", "9007199254740993",
        "4.9406564584124654e-324", "2.2250738585072009e-308", "2.2250738585072014e-308", "1.7976931348623157e308",
        "1.7976931348623158e308", "0.1", "0.2", "0.3", "3.14159265358979323846264338327950288", "1e22", "1e23",
        "8.988465674311579e307", "123456789012345678", "1234567890123456789012", "0.000001", "1e-22", "1e-23",
        "6.02214076e23", "299792458", "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124", "7.2057594037927933e16", "1e37", "12e36", "1e38",
    ])
    func doublesMatchTheStandardLibrary(_ text: String) throws {
        let (value, _) = try json(text)
        let expected = try #require(Double(text))
        #expect(value?.bitPattern == expected.bitPattern, "\(text): \(String(describing: value)) vs \(expected)")
    }

    @Test func overflowIsNilUnderflowIsZero() throws {
        #expect(try json("1e309").0 == nil)
        #expect(try json("-1.8e308").0 == nil)
        #expect(try json("1e99999999999999999999").0 == nil)
        #expect(try json("1e-99999999999999999999").0 == 0)
        #expect(try json("-1e-400").0?.sign == .minus)
        #expect(try json("0e99999").0 == 0)
    }

    @Test(arguments: [
        ("0", IntegralResult.value(0)), ("-0", .value(0)), ("42", .value(42)), ("1.0", .value(1)), ("1e3", .value(1000)),
        ("1.5", .notIntegral), ("0.1", .notIntegral), ("1e-1", .notIntegral), ("10e-1", .value(1)),
        ("9223372036854775807", .value(.max)), ("9223372036854775808", .outOfRange),
        ("-9223372036854775808", .value(.min)), ("-9223372036854775809", .outOfRange),
        ("1e19", .outOfRange), ("1e18", .value(1_000_000_000_000_000_000)), ("1e400", .outOfRange), ("1e-400", .notIntegral),
        ("12345678901234567890123", .outOfRange), ("1234567890123456789.5", .notIntegral),
        ("1234567890123456789.0000000001", .notIntegral), ("0.00000000000000000000000000001e29", .value(1)),
        ("100000000000000000000000e-5", .value(1_000_000_000_000_000_000)),
        ("0.12345678901234567891", .notIntegral), ("99999999999999999999e-2", .notIntegral), ("99999999999999999999e1", .outOfRange),
    ])
    func integral(_ text: String, _ expected: IntegralResult) throws {
        #expect(try json(text).1 == expected, "\(text)")
    }

    @Test func jsonGrammarErrors() {
        for bad in ["-", "-a", "01", "-01", "1.", "1.e5", "1e", "1e+", "1E-"] {
            let bytes = Array(bad.utf8)
            let threw = bytes.withUnsafeBufferPointer { b in
                var n = DecimalNumber()
                do throws(RecordError) {
                    _ = try NumberParsing.scanJSON(b.baseAddress!, 0, b.count, into: &n)
                    return false
                } catch {
                    return error.code == .jsonSyntax
                }
            }
            #expect(threw, "\(bad) must be a syntax error")
        }
    }

    @Test func csvGrammarIsLenientAboutSignsAndPoints() {
        #expect(csv("+1")?.0 == 1)
        #expect(csv(".5")?.0 == 0.5)
        #expect(csv("5.")?.0 == 5)
        #expect(csv("-.5e1")?.0 == -5)
        #expect(csv("007")?.1 == .value(7))
        #expect(csv("00000000000000000000001")?.1 == .value(1))
        for bad in ["", ".", "+", "-", "e5", "1e", "1.2.3", "nan", "inf", "Infinity", "0x10", "1,5", " 1"] {
            #expect(csv(bad) == nil, "\(bad) must not be a number")
        }
    }

    /// The fast paths (whole-word, digit runs) against the general path, on every shape of
    /// short number, followed by every kind of byte, near the end of the buffer and far from it.
    @Test(arguments: [true, false])
    func fastPathsAgreeWithTheGeneralPath(_ json: Bool) throws {
        var rng = SeededRandom(seed: json ? 5 : 6)
        let tails = [",", "}", "]", " ", "e5", "E-2", ".", "x", "0", "", ",\"f1\":2", "        "]
        for _ in 0..<50_000 {
            let sign = ["", "-", "+"].randomElement(using: &rng)!
            let intDigits = Int.random(in: 0...9, using: &rng)
            let fracDigits = Bool.random(using: &rng) ? -1 : Int.random(in: 0...9, using: &rng)
            var number = sign
            for k in 0..<intDigits { number += String(k == 0 && Int.random(in: 0..<4, using: &rng) == 0 ? 0 : Int.random(in: 0...9, using: &rng)) }
            if fracDigits >= 0 {
                number += "."
                for _ in 0..<fracDigits { number += String(Int.random(in: 0...9, using: &rng)) }
            }
            let text = Array((number + tails.randomElement(using: &rng)!).utf8)
            text.withUnsafeBufferPointer { b in
                let p = b.baseAddress!
                let fast = NumberParsing.fastDouble(p, 0, b.count, json: json)
                // What the general path says about the same bytes.
                var expected: (Int, Double)?
                if json {
                    var n = DecimalNumber()
                    if p[0] != UInt8(ascii: "+"), let end = try? NumberParsing.scanJSON(p, 0, b.count, into: &n) {
                        expected = NumberParsing.double(n, p, 0, end).map { (end, $0) }
                    }
                } else if let (next, _) = fast {
                    // CSV callers take the fast result only when it spans the whole field.
                    expected = NumberParsing.scanCSV(p, 0, next).flatMap { NumberParsing.double($0, p, 0, next) }.map { (next, $0) }
                }
                if let (next, value) = fast {
                    #expect(next == expected?.0 && value.bitPattern == expected?.1.bitPattern,
                            "\(String(decoding: text, as: UTF8.self)): fast \(next) \(value), general \(String(describing: expected))")
                }
            }
        }
    }

    /// The 128-bit path against the standard library, where it matters: 16 to 19 digits, near
    /// halfway points too (…5 and …50000 endings), every exponent it covers.
    @Test func wideMantissasMatchTheStandardLibrary() {
        var rng = SeededRandom(seed: 99)
        for _ in 0..<100_000 {
            let digits = Int.random(in: 16...19, using: &rng)
            var m = UInt64.random(in: 1...9, using: &rng)
            for k in 1..<digits {
                let tail = digits - k <= 3 && Bool.random(using: &rng)
                m = m * 10 + (tail ? (k == digits - 3 ? 5 : 0) : UInt64.random(in: 0...9, using: &rng))
            }
            let e = Int.random(in: -22...19, using: &rng)
            let expected = Double("\(m)e\(e)")!
            let got = NumberParsing.wideDouble(m, e)
            #expect(got.bitPattern == expected.bitPattern, "\(m)e\(e): \(got) vs \(expected)")
        }
        // Halfway cases exactly: 2^53 + 1 and friends, times powers of ten.
        for base: UInt64 in [9_007_199_254_740_993, 9_007_199_254_740_995, 18_014_398_509_481_990] {
            for e in -22...1 {
                #expect(NumberParsing.wideDouble(base, e).bitPattern == Double("\(base)e\(e)")!.bitPattern, "\(base)e\(e)")
            }
        }
    }

    /// Random decimal strings, fast path or not, must give what the standard library gives.
    @Test func randomDecimalsMatchTheStandardLibrary() throws {
        var rng = SeededRandom(seed: 42)
        for _ in 0..<20_000 {
            var text = Bool.random(using: &rng) ? "-" : ""
            let digits = Int.random(in: 1...(Bool.random(using: &rng) ? 15 : 25), using: &rng)
            let point = Int.random(in: 0...digits, using: &rng)
            for k in 0..<digits {
                if k == point && k > 0 { text += "." }
                text += String(Int.random(in: (k == 0 ? 1 : 0)...9, using: &rng))
            }
            if Bool.random(using: &rng) { text += "e\(Int.random(in: -340...310, using: &rng))" }
            let (value, _) = try json(text)
            let expected = Double(text)!
            if expected.isFinite {
                #expect(value?.bitPattern == expected.bitPattern, "\(text)")
            } else {
                #expect(value == nil, "\(text)")
            }
        }
    }
}
