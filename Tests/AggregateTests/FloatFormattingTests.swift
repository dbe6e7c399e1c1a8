import AggregateStage
import Config
import Foundation
import Messages
import Testing

/// Scores are written in the shortest text that reads back as the same Float32, in
/// `Float.description`'s spelling (which is valid JSON), though without making a String per
/// value. Checked through the stage itself: a one-column CSV `prediction` output is one float per
/// line, and a JSON array of them must parse back to the same floats.
@Suite struct FloatFormattingTests {
    /// The stage's text for each of `values`, one per line.
    static func formatted(_ values: [Float]) throws -> [String] {
        var p = try AggregateProcessor(config: makeConfig(format: .csv, outputFields: [.prediction]))
        return try aggregate(&p, values, rows: values.count, cols: 1).lines
    }

    /// Checks every finite value: same text as `Float.description`, reads back bit for bit,
    /// and is a JSON number.
    static func check(_ values: [Float]) throws {
        let lines = try formatted(values)
        try #require(lines.count == values.count)
        for (x, text) in zip(values, lines) {
            guard x.isFinite else {
                #expect(text == "", "non-finite \(x) is an empty CSV field")
                continue
            }
            #expect(text == x.description, "bits 0x\(String(x.bitPattern, radix: 16))")
            #expect(Float(text)?.bitPattern == x.bitPattern, "\(text) does not read back as \(x)")
        }
    }

    @Test func specialValues() throws {
        let values: [Float] = [0, -0.0, 1, -1, 0.1, 0.5, 1e-4, Float(1e-4).nextDown, 1e-5, 16_777_216,
                               Float(16_777_216).nextUp, 1e8, 123_456_792, .leastNonzeroMagnitude,
                               .leastNormalMagnitude, Float.leastNormalMagnitude.nextDown, .greatestFiniteMagnitude,
                               -.greatestFiniteMagnitude, .ulpOfOne, 1 / 3, 2 / 3, 0.3, 3.4e38,
                               .nan, .infinity, -.infinity, 9.999999e-5, .leastNonzeroMagnitude * 5, 1e10, 1e-10]
        try Self.check(values)
        #expect(try Self.formatted([0.07, 1e-5, 1e8, -0.0, 16_777_216]) == ["0.07", "1e-05", "1e+08", "-0.0", "16777216.0"])
    }

    /// JSON number grammar, checked by a strict parser: every finite float in an array.
    @Test func jsonNumbersParse() throws {
        var random = SplitMix(seed: 99)
        var values: [Float] = [0, -0.0, 1e-5, .leastNonzeroMagnitude, 3.4028235e38, -1e8, 16_777_216, 0.1]
        values += (0..<2000).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: random.next())) }
        values = values.filter(\.isFinite)
        var p = try AggregateProcessor(config: makeConfig(outputFields: [.probabilities]))
        let line = try aggregate(&p, values, rows: 1, cols: values.count).lines[0]
        let parsed = try #require(try JSONLine.parse(line)["probabilities"] as? [NSNumber])
        #expect(parsed.count == values.count)
        for (x, n) in zip(values, parsed) {
            #expect(Float(n.doubleValue).bitPattern == x.bitPattern || (x == 0 && n.doubleValue == 0), "\(x)")
        }
    }

    @Test func randomBitPatterns() throws {
        var random = SplitMix(seed: 2026)
        try Self.check((0..<200_000).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: random.next())) })
    }

    /// A record that writes few of its row's values (here the first of ten) takes each value alone,
    /// not the batch's SIMD digits: same text.
    @Test func fewValuesOfWideRows() throws {
        var random = SplitMix(seed: 11)
        let cols = 10, rows = 20_000
        let values = (0..<rows * cols).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: random.next())) }
        var p = try AggregateProcessor(config: makeConfig(format: .csv, outputFields: [.prediction]))
        let lines = try aggregate(&p, values, rows: rows, cols: cols).lines
        try #require(lines.count == rows)
        for row in 0..<rows {
            let x = values[row * cols]
            #expect(lines[row] == (x.isFinite ? x.description : ""), "bits 0x\(String(x.bitPattern, radix: 16))")
        }
    }

    /// Probabilities: uniform in [0, 1], and near the ends.
    @Test func randomProbabilities() throws {
        var random = SplitMix(seed: 7)
        var values: [Float] = (0..<100_000).map { _ in Float.random(in: 0...1, using: &random) }
        values += (0..<20_000).map { _ in 1 - Float.random(in: 0...1e-3, using: &random) }
        values += (0..<20_000).map { _ in Float.random(in: 0...1e-6, using: &random) }
        try Self.check(values)
    }

    @Test func subnormalsAndPowers() throws {
        var values: [Float] = (1..<5000).map { Float(bitPattern: UInt32($0)) }
        values += (1..<20_000).map { Float(bitPattern: 0x0080_0000 - UInt32($0)) }
        for e in -149...127 {
            let p = Float(sign: .plus, exponent: e, significand: 1)
            values += [p, p.nextUp, p.nextDown]
        }
        for e in -45...38 {
            let p = Float("1e\(e)")!
            values += [p, p.nextUp, p.nextDown, -p]
        }
        // Integers around 2^24, where the decimal form stops, and above, where bounds are exact.
        values += (0..<4000).map { Float(16_777_216 - 2000 + 2 * $0) }
        values += (0..<4000).map { Float(bitPattern: Float(1e10).bitPattern &+ UInt32($0)) }
        try Self.check(values)
    }
}
