import Testing
import Messages

/// A count and its noun agree: "1 batch", "2 batches", "0 entries".
@Suite struct CountedTests {
    static let cases: [(Int, String, String)] = [
        (0, "batch", "0 batches"), (1, "batch", "1 batch"), (2, "batch", "2 batches"),
        (1, "record", "1 record"), (1000, "record", "1000 records"),
        (1, "class", "1 class"), (3, "class", "3 classes"), (2, "box", "2 boxes"), (2, "wish", "2 wishes"),
        (1, "entry", "1 entry"), (0, "entry", "0 entries"), (2, "day", "2 days"),
        (2, "failed accept", "2 failed accepts"), (1, "time", "1 time"),
    ]

    @Test func regularPlurals() {
        for (count, noun, text) in Self.cases {
            #expect(counted(count, noun) == text)
        }
    }

    @Test func anIrregularPluralIsGiven() {
        #expect(counted(1, "child", "children") == "1 child")
        #expect(counted(2, "child", "children") == "2 children")
        #expect(counted(UInt32(1), "row") == "1 row")
        #expect(counted(Int64(-1), "degree") == "-1 degrees")
    }
}
