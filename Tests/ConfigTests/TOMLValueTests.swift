import Config
import Testing

/// Each TOML value kind the parser supports, one `v = <source>` line at a time.
@Suite struct TOMLValueTests {
    @Test(arguments: [
        // Basic strings and every escape.
        (#""hello""#, "hello"),
        (#""""#, ""),
        (#""a\"b\\c""#, "a\"b\\c"),
        (#""\b\t\n\f\r""#, "\u{8}\t\n\u{C}\r"),
        (#""\u00e9\U0001F600""#, "é😀"),
        ("\"tab\tinside\"", "tab\tinside"),
        (#""ünïcödé 日本""#, "ünïcödé 日本"),
        // Literal strings: no escapes.
        (#"'C:\path\no\escape'"#, #"C:\path\no\escape"#),
        (#"'say "hi"'"#, #"say "hi""#),
        // Multi-line basic: first newline trimmed, line-ending backslash, up to two quotes.
        ("\"\"\"\nline 1\nline 2\"\"\"", "line 1\nline 2"),
        ("\"\"\"\r\nCRLF\r\nkept as LF\"\"\"", "CRLF\nkept as LF"),
        ("\"\"\"one \\\n    two\"\"\"", "one two"),
        ("\"\"\"a \\   \n\n  b\"\"\"", "a b"),
        ("\"\"\"quote \"\" inside\"\"\"", "quote \"\" inside"),
        ("\"\"\"ends with two quotes\"\"\"\"\"", "ends with two quotes\"\""),
        ("\"\"\"esc \\u0041\\t\"\"\"", "esc A\t"),
        // Multi-line literal.
        ("'''\nraw \\n 'quoted' ''\n'''", "raw \\n 'quoted' ''\n"),
        ("'''x''''", "x'"),
    ])
    func strings(source: String, expected: String) throws {
        #expect(try parseValue(source).kind == .string(expected))
    }

    @Test(arguments: [
        ("0", 0), ("+17", 17), ("-17", -17), ("1_000_000", 1_000_000), ("-0", 0),
        ("0xDEAD_beef", 0xDEAD_BEEF), ("0o755", 0o755), ("0b1101_0101", 0b1101_0101),
        ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min),
        ("0x7FFFFFFFFFFFFFFF", Int.max),
    ])
    func integers(source: String, expected: Int) throws {
        #expect(try parseValue(source).kind == .integer(expected))
    }

    @Test(arguments: [
        ("1.5", 1.5), ("-0.25", -0.25), ("+3.0", 3.0), ("1e3", 1000), ("1E-2", 0.01),
        ("6.626e-34", 6.626e-34), ("2.5e+3", 2500), ("1_000.000_1", 1000.0001), ("0.0", 0),
        ("-0.0", -0.0), ("1e06", 1e6), ("inf", .infinity), ("+inf", .infinity),
        ("-inf", -.infinity),
    ])
    func floats(source: String, expected: Double) throws {
        #expect(try parseValue(source).kind == .float(expected))
    }

    @Test(arguments: ["nan", "+nan", "-nan"])
    func notANumber(source: String) throws {
        let number = try #require(try parseValue(source).number)
        #expect(number.isNaN)
    }

    @Test func booleans() throws {
        #expect(try parseValue("true").kind == .boolean(true))
        #expect(try parseValue("false").kind == .boolean(false))
    }

    @Test func arraysMixNestAndSpanLines() throws {
        let value = try parseValue("""
            [ # comment after the bracket
              1, "two", [3.0, true],
              { x = 4 },   # comment after an element

              [],  # trailing comma next
            ]
            """)
        let items = try #require(value.array)
        #expect(items.count == 5)
        #expect(items[0].kind == .integer(1))
        #expect(items[1].kind == .string("two"))
        #expect(items[2].array?.map(\.kind) == [.float(3.0), .boolean(true)])
        #expect(items[3].table?["x"]?.kind == .integer(4))
        #expect(items[4].kind == .array([]))
        #expect(items[3].position == at(3, 3))
        #expect(items[3].table?.origin == .inline)
    }

    @Test func emptyArraysAndInlineTables() throws {
        #expect(try parseValue("[]").kind == .array([]))
        #expect(try parseValue("[\n]").kind == .array([]))
        let empty = try #require(try parseValue("{}").table)
        #expect(empty.entries.isEmpty)
    }

    @Test func inlineTablesAcceptDottedKeys() throws {
        let table = try #require(try parseValue(#"{ max = 5, within_s = 30.5, a.b = "c" }"#).table)
        #expect(table.keys == ["max", "within_s", "a"])
        #expect(table["max"]?.kind == .integer(5))
        #expect(table["within_s"]?.kind == .float(30.5))
        #expect(table["a"]?.table?["b"]?.kind == .string("c"))
        #expect(table.entry("within_s")?.keyPosition == at(1, 16))
        #expect(table["within_s"]?.position == at(1, 27))
    }

    @Test func typeNames() throws {
        #expect(try parseValue("1").typeName == "integer")
        #expect(try parseValue("1.0").typeName == "float")
        #expect(try parseValue("'s'").typeName == "string")
        #expect(try parseValue("false").typeName == "boolean")
        #expect(try parseValue("[1]").typeName == "array")
        #expect(try parseValue("{}").typeName == "table")
        #expect(try parseTOML("[[a]]\n[[a]]")["a"]?.typeName == "array of tables")
        #expect(try parseValue("[{}]").isArrayOfTables == false)
    }

    @Test func integersAreNumbersButFloatsAreNotIntegers() throws {
        #expect(try parseValue("3").number == 3.0)
        #expect(try parseValue("3.0").integer == nil)
        #expect(try parseValue("'3'").number == nil)
    }
}
