import Config
import Testing

/// Broken files of every kind: each must throw a well-formed `ConfigError`, never crash or hang.
@Suite struct MalformedInputTests {
    static let inputs: [String] = [
        "",
        "[",
        "[[",
        "]]",
        "=",
        "\"",
        "'''",
        "a = [",
        "a = {",
        "[a]]",
        "a = 1,",
        "a = [1,]]",
        "\u{0}",
        "a = \"\\u\"",
        "a = 0x",
        "a = 0b",
        "a = -",
        "a = 1e+",
        "a = --1",
        "[a.]",
        "[.a]",
        "[a..b]",
        "a..b = 1",
        "a = {b = {c = }}",
        "a = { b = 1 } }",
        "a = \"\"\"\"\"\"\"",
        "a = 'multi\nline'",
        "[[a]]\n[a.b]\n[[a]]\nb = 1\n[a.b]\nc = 2",
        "\u{FEFF}\u{FEFF}a = 1",
        "a = 1\r",
        "a = 99999999999999999999999",
        "a = 'x\u{7F}'",
        "[model]\npath = \"m\"\n[model]",
        "[[feature]]\n[[input.field]]\n[model]",
        "input = { field = [{ name = \"x\", type = \"int\" }] }\nfeature = [{}]\nmodel.path = \"m\"",
        "v = " + String(repeating: "[", count: 10_000),
        "v = " + String(repeating: "{a=", count: 10_000),
        String(repeating: "a.", count: 10_000) + "a = 1",
        "[" + String(repeating: "a.", count: 10_000) + "a]",
        String(repeating: "[[a]]\n", count: 1_000) + "[a]",
        String(repeating: "x", count: 100_000),
    ]

    @Test(arguments: inputs)
    func throwsAWellFormedError(_ text: String) throws {
        let error = try #require(configError(text))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
        #expect(error.line >= 1 && error.line <= lines + 1)
        #expect(error.column >= 1)
        #expect(!error.message.isEmpty)
        #expect(error.description.hasPrefix("\(testFile):\(error.line):\(error.column): "))
    }

    @Test(arguments: [
        [0xFF] as [UInt8],
        [0x61, 0x20, 0x3D, 0x20, 0x22, 0xF0, 0x9F, 0x98, 0x22],
        [0xEF, 0xBB],
        [0x00, 0x00, 0x00],
        Array(repeating: 0x5B, count: 5_000),
    ])
    func throwsOnHostileBytes(_ bytes: [UInt8]) throws {
        do throws(ConfigError) {
            _ = try PipelineConfig.parse(bytes: bytes, path: testFile)
            Issue.record("hostile bytes were accepted")
        } catch {
            #expect(error.line >= 1 && error.column >= 1)
        }
    }

    /// Every prefix of a valid file either parses or throws: cutting a file anywhere (an editor
    /// saving half-way) must never crash the parser.
    @Test func everyPrefixOfTheExampleParsesOrThrows() {
        let bytes = Array(ConfigLoaderTests.designExample.utf8)
        var thrown = 0
        for end in 0...bytes.count {
            do throws(ConfigError) {
                _ = try PipelineConfig.parse(bytes: Array(bytes[..<end]), path: testFile)
            } catch {
                thrown += 1
                #expect(error.line >= 1 && error.column >= 1)
            }
        }
        #expect(thrown > bytes.count / 2)
    }
}
