import Testing
@testable import IngestStage

@Suite struct UTF8ValidationTests {
    func firstInvalid(_ bytes: [UInt8]) -> Int? {
        let padded = bytes + [0]
        return padded.withUnsafeBufferPointer { UTF8Validation.firstInvalid($0.baseAddress!, 0, bytes.count) }
    }

    @Test(arguments: [
        ([0xC0, 0x80], 0), ([0xC1, 0xBF], 0), ([0xE0, 0x80, 0x80], 0), ([0xED, 0xA0, 0x80], 0), ([0xF0, 0x80, 0x80, 0x80], 0),
        ([0xF4, 0x90, 0x80, 0x80], 0), ([0xF5, 0x80, 0x80, 0x80], 0), ([0xFF], 0), ([0x80], 0),
        ([0x61, 0xC3], 1), ([0x61, 0xE2, 0x82], 1), ([0x61, 0x62, 0xE2, 0x28, 0xA1], 2),
        (Array("abcdefghijklmnop".utf8) + [0xBF], 16), (Array("abcdefgh".utf8) + [0xC3, 0xA9, 0xC3], 10),
    ] as [([UInt8], Int)])
    func invalid(_ bytes: [UInt8], _ at: Int) {
        #expect(firstInvalid(bytes) == at)
    }

    @Test func validTextPasses() {
        for text in ["", "plain ascii, longer than eight bytes", "é", "中文", "😀", "\u{7F}\u{80}\u{7FF}\u{800}\u{FFFF}\u{10000}\u{10FFFF}",
                     "Zürich 東京 😀 mixed with ascii text that spans several words"] {
            #expect(firstInvalid(Array(text.utf8)) == nil, "\(text)")
        }
    }

    /// Every random byte string: valid for us exactly when the standard library decodes it
    /// without repairs.
    @Test func agreesWithTheStandardLibrary() {
        var rng = SeededRandom(seed: 7)
        let alphabet: [UInt8] = [0x41, 0x7F, 0x80, 0xBF, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xA0, 0x9F, 0x90, 0x8F]
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            let strict = String(validating: bytes, as: UTF8.self) != nil
            #expect((firstInvalid(bytes) == nil) == strict, "\(bytes)")
        }
    }
}
