import FeaturizeStage
import Foundation
import Testing

/// The Unicode behaviour of the text kinds measured against the Python that made the vectors
/// (PythonUnicodeTables.swift), over every code point: `\w`, `\s`, `str.lower()` and the
/// Final_Sigma context. The Swift standard library's Unicode data is newer than Python 3.11's
/// (14.0), so code points Python considers unassigned may differ; everything else must agree,
/// except the two known Final_Sigma scalars listed below.
@Suite struct PythonUnicodeTests {
    struct Tables {
        var python: String
        var unicode: String
        var word: [ClosedRange<UInt32>]
        var space: [ClosedRange<UInt32>]
        var assigned: [ClosedRange<UInt32>]
        var lower: [UInt32: [UInt32]]
        var ignorable: [ClosedRange<UInt32>]
        var cased: [ClosedRange<UInt32>]
    }

    static let tables: Tables = {
        let root = try! JSONSerialization.jsonObject(with: Data(PythonUnicodeTables.json.utf8)) as! [String: Any]
        func ranges(_ key: String) -> [ClosedRange<UInt32>] {
            (root[key] as! [[Int]]).map { UInt32($0[0])...UInt32($0[1]) }
        }
        var lower: [UInt32: [UInt32]] = [:]
        for entry in root["lower"] as! [[Int]] { lower[UInt32(entry[0])] = entry.dropFirst().map(UInt32.init) }
        return Tables(python: root["python"] as! String, unicode: root["unicode"] as! String, word: ranges("word"),
                      space: ranges("space"), assigned: ranges("assigned"), lower: lower,
                      ignorable: ranges("ignorable"), cased: ranges("cased"))
    }()

    /// Membership of every code point in a list of ascending ranges.
    static func members(_ ranges: [ClosedRange<UInt32>]) -> [Bool] {
        var out = [Bool](repeating: false, count: 0x110000)
        for r in ranges { for c in r { out[Int(c)] = true } }
        return out
    }

    static var allScalars: [Unicode.Scalar] { (0...0x10FFFF).compactMap(Unicode.Scalar.init) }

    @Test func wordCharactersMatchPythonOnEveryAssignedCodePoint() {
        let word = Self.members(Self.tables.word), assigned = Self.members(Self.tables.assigned)
        var differ = 0, differAssigned: [UInt32] = []
        for s in Self.allScalars where PythonText.isWordCharacter(s) != word[Int(s.value)] {
            differ += 1
            if assigned[Int(s.value)] { differAssigned.append(s.value) }
        }
        #expect(differAssigned.isEmpty, "\\w differs on assigned code points: \(differAssigned.prefix(20))")
        // Measured with Python 3.11 (Unicode 14.0): 14,049 code points assigned since then.
        print("\\w: \(differ) code points differ from Python \(Self.tables.python) (Unicode \(Self.tables.unicode)), all unassigned there")
    }

    @Test func whiteSpaceMatchesPythonEverywhere() {
        let space = Self.members(Self.tables.space)
        let differ = Self.allScalars.filter { PythonText.isWhiteSpace($0) != space[Int($0.value)] }
        #expect(differ.isEmpty, "\(differ.map { String($0.value, radix: 16) })")
        #expect(Self.tables.space.count > 5)
    }

    @Test func lowerMatchesPythonOnEveryAssignedCodePoint() {
        let assigned = Self.members(Self.tables.assigned)
        var differ = 0, differAssigned: [UInt32] = []
        for s in Self.allScalars {
            let expected = Self.tables.lower[s.value] ?? [s.value]
            let got = PythonText.lower(String(Character(s))).unicodeScalars.map(\.value)
            if got != expected {
                differ += 1
                if assigned[Int(s.value)] { differAssigned.append(s.value) }
            }
        }
        #expect(differAssigned.isEmpty, "lower() differs on assigned code points: \(differAssigned.prefix(20))")
        #expect(Self.tables.lower.count > 1000)
        print("lower(): \(differ) code points differ from Python \(Self.tables.python), all unassigned there")
    }

    /// "A" + c + "Σ" and "AΣ" + c: whether Σ is final depends on c being case-ignorable or cased.
    @Test func finalSigmaContextMatchesPython() {
        let assigned = Self.members(Self.tables.assigned)
        let ignorable = Self.members(Self.tables.ignorable), cased = Self.members(Self.tables.cased)
        var differAssigned: [UInt32] = []
        for s in Self.allScalars where assigned[Int(s.value)] {
            let c = String(Character(s))
            let after = PythonText.lower("A" + c + "Σ").unicodeScalars.last == "ς"
            let before = PythonText.lower("AΣ" + c).unicodeScalars.dropFirst().first == "ς"
            let i = ignorable[Int(s.value)], k = cased[Int(s.value)]
            let expectedAfter = i || k, expectedBefore = i || !k
            if after != expectedAfter || before != expectedBefore { differAssigned.append(s.value) }
        }
        // U+0295 and U+1171E changed Cased / Case_Ignorable after Unicode 14.
        #expect(differAssigned.allSatisfy { [0x295, 0x1171E].contains($0) }, "\(differAssigned.map { String($0, radix: 16) })")
        #expect(differAssigned.count <= 2)
    }

    @Test func lowerExamples() {
        #expect(PythonText.lower("ΟΔΟΣ ΟΔΟΣ. Σ ΣΑΣ") == "οδος οδος. σ σας")
        #expect(PythonText.lower("İstanbul") == "i\u{307}stanbul")
        #expect(PythonText.lower("ǅ Straße ẞ") == "ǆ straße ß")
        #expect(PythonText.lower("") == "")
    }
}
