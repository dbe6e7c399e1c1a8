@testable import AggregateStage
import Testing
import TestSupport

/// `DecimalDigits` against `String(x)`. Every x below 10^9 was compared once with a release build
/// (the throwaway loop in the commit that added this file); here: every x below 2·10^5, every
/// x near each power of ten and each digit count's ends, and random values of every length.
@Suite struct DecimalDigitsTests {
    /// `nine(x)` as text: the first digit, then the eight.
    static func nineText(_ x: UInt64) -> String {
        let (first, eight) = DecimalDigits.nine(x)
        var bytes = [UInt8(truncatingIfNeeded: first) + 0x30]
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: eight >> (8 * i))) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `write(x)`'s text, checking that it stores only within max(length, 9) bytes.
    static func text(_ x: UInt64) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
            buffer.initialize(repeating: 0xEE)
            let n = DecimalDigits.write(x, to: buffer.baseAddress!)
            precondition(buffer[max(n, 9)...].allSatisfy { $0 == 0xEE }, "stored past the text")
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<n]), as: UTF8.self)
        }
    }

    /// The values to compare: small ones, both sides of every power of ten and random ones of
    /// every length.
    static var values: [UInt64] {
        var values = Array(0..<200_000 as Range<UInt64>)
        var p: UInt64 = 1
        for _ in 0...19 {
            values += (0..<2000).map { p &+ $0 } + (1...2000).map { p &- $0 } + [p &* 5, p &* 9 &+ (p &- 1)]
            p = p &* 10
        }
        var random = SplitMix64(seed: 7)
        for digits in 1...20 {
            let bits = Int((Double(digits) * 3.3219).rounded(.up))
            values += (0..<2000).map { _ in random.next() >> UInt64(max(64 - bits, 0)) }
        }
        values += [UInt64(Int64.max), Int64.min.magnitude, UInt64.max, 999_999_999, 1_000_000_000]
        return values
    }

    @Test func nineDigits() {
        var mismatches: [String] = []
        for x in Self.values where x < 1_000_000_000 {
            let reference = String(repeating: "0", count: 9 - String(x).count) + String(x)
            let ours = Self.nineText(x)
            if ours != reference && mismatches.count < 10 { mismatches.append("\(x): \(ours)") }
        }
        #expect(mismatches == [])
    }

    @Test func integers() {
        var mismatches: [String] = []
        for x in Self.values {
            let ours = Self.text(x)
            if ours != String(x) && mismatches.count < 10 { mismatches.append("\(x): \(ours)") }
        }
        #expect(mismatches == [])
        #expect(Self.text(0) == "0" && Self.text(7) == "7" && Self.text(10) == "10")
    }

    /// Signed, through the cursor the writer uses.
    @Test func signedDecimals() {
        for x: Int64 in [0, 1, -1, 9, -9, 10, -10, 123_456_789, -123_456_789, 1_000_000_000, -1_000_000_000,
                         .max, .min, .min + 1] {
            let text = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
                var c = ByteCursor(buffer.baseAddress!)
                c.putDecimal(x)
                let n = c.position - buffer.baseAddress!
                precondition(n <= ByteCursor.maxDecimal)
                return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<n]), as: UTF8.self)
            }
            #expect(text == String(x))
        }
    }
}
