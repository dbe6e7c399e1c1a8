import Config
import Testing

/// Tables, arrays of tables, keys and the positions the tree keeps.
@Suite struct TOMLStructureTests {
    @Test func tablesAndPositions() throws {
        let root = try parseTOML("""
            # leading comment
            top = 1

            [pipeline]   # trailing comment
              name = "demo"
            [stage.infer]
            replicas = 2
            """)
        #expect(root.keys == ["top", "pipeline", "stage"])
        #expect(root.origin == .root)
        let pipeline = try #require(root["pipeline"]?.table)
        #expect(pipeline.origin == .header)
        #expect(pipeline.position == at(4, 1))
        #expect(pipeline.entry("name")?.keyPosition == at(5, 3))
        #expect(pipeline["name"]?.position == at(5, 10))
        let stage = try #require(root["stage"]?.table)
        #expect(stage.origin == .implicit)
        #expect(root.entry("stage")?.keyPosition == at(6, 2))
        let infer = try #require(stage["infer"]?.table)
        #expect(infer["replicas"]?.kind == .integer(2))
        #expect(stage.entry("infer")?.keyPosition == at(6, 8))
    }

    @Test func implicitTableCanBeDefinedLater() throws {
        let root = try parseTOML("[a.b]\nx = 1\n[a]\ny = 2")
        let a = try #require(root["a"]?.table)
        #expect(a.origin == .header)
        #expect(a.position == at(3, 1))
        #expect(a.keys == ["b", "y"])
    }

    @Test func arraysOfTables() throws {
        let root = try parseTOML("""
            [[feature]]
            field = "a"
            [[feature]]
            field = "b"
            [feature.extra]
            k = 1
            [[feature.sub]]
            n = 1
            """)
        let features = try #require(root["feature"]?.array)
        #expect(root["feature"]?.isArrayOfTables == true)
        #expect(features.count == 2)
        #expect(features[0].table?["field"]?.kind == .string("a"))
        #expect(features[1].position == at(3, 1))
        #expect(features[1].table?.origin == .arrayElement)
        #expect(features[1].table?["extra"]?.table?["k"]?.kind == .integer(1))
        #expect(features[1].table?["sub"]?.array?.count == 1)
    }

    @Test func dottedAndQuotedKeys() throws {
        let root = try parseTOML("""
            a.b.c = 1
            a . b . d = 2
            "quoted key" = 3
            'literal.key' = 4
            a."x.y" = 5
            1234 = 6
            bare-key_2 = 7
            "" = 8
            """)
        #expect(root.keys == ["a", "quoted key", "literal.key", "1234", "bare-key_2", ""])
        let b = try #require(root["a"]?.table?["b"]?.table)
        #expect(b.origin == .dotted)
        #expect(b.keys == ["c", "d"])
        #expect(root["a"]?.table?["x.y"]?.kind == .integer(5))
        #expect(root.entry("a")?.keyPosition == at(1, 1))
        #expect(b.entry("d")?.keyPosition == at(2, 9))
    }

    @Test func dottedKeysMayBeExtendedBySubTableHeaders() throws {
        let root = try parseTOML("""
            [fruit]
            apple.color = "red"
            [fruit.apple.texture]
            smooth = true
            """)
        let apple = try #require(root["fruit"]?.table?["apple"]?.table)
        #expect(apple.keys == ["color", "texture"])
    }

    @Test func crlfBomAndWhitespaceOnlyLines() throws {
        let root = try parseTOML("\u{FEFF}a = 1\r\n  \t\r\n[t]\r\nb = 'x' # c\r\n")
        #expect(root["a"]?.kind == .integer(1))
        #expect(root.entry("a")?.keyPosition == at(1, 1))
        #expect(root["t"]?.table?["b"]?.position == at(4, 5))
    }

    @Test func columnsCountUnicodeScalars() throws {
        let root = try parseTOML("s = \"日本語\"   # コメント\nt = 'é'\n\"ü\" = 1")
        #expect(root["t"]?.position == at(2, 5))
        #expect(root.entry("ü")?.keyPosition == at(3, 1))
        let error = try #require(tomlError("s = \"日本語\" x"))
        #expect(error.position == at(1, 11))
    }

    @Test func emptyDocuments() throws {
        #expect(try parseTOML("").entries.isEmpty)
        #expect(try parseTOML("\n\n# only a comment\n").entries.isEmpty)
    }

    @Test func headerWhitespaceAndQuotedNames() throws {
        let root = try parseTOML("[ a . \"b c\" ]\nk = 1\n[[ arr ]]")
        #expect(root["a"]?.table?["b c"]?.table?["k"]?.kind == .integer(1))
        #expect(root["arr"]?.array?.count == 1)
    }

    @Test func nestingUpToTheLimit() throws {
        let depth = TOMLParser.maxDepth - 1
        let text = "v = " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(try parseTOML(text)["v"] != nil)
    }

    @Test func errorDescriptionIsFileLineColumnMessage() throws {
        let error = try #require(tomlError("a = 1\nb = \"open\n"))
        #expect(error.description == "\(testFile):2:5: unterminated string")
        #expect(error.kind == .syntax)
        #expect(error.line == 2 && error.column == 5)
    }
}
