import Config
import Testing

/// Path normalization (pure string logic) and the "did you mean" rule.
@Suite struct ConfigPathAndSuggestionTests {
    @Test(arguments: [
        ("/a/b/c", "/a/b/c"),
        ("/a/./b/../c/", "/a/c"),
        ("//a///b", "/a/b"),
        ("/..", "/"),
        ("/../../a", "/a"),
        ("/", "/"),
        ("a/b/..", "a"),
        ("a/../..", ".."),
        ("../a/../../b", "../../b"),
        ("./", "."),
        ("", "."),
        ("a/b/../../..", ".."),
        ("/a/b/../c/./d/..", "/a/c"),
    ])
    func normalize(path: String, expected: String) {
        #expect(ConfigPath.normalize(path) == expected)
    }

    @Test func directoryResolveAndLastComponent() {
        #expect(ConfigPath.directory(of: "/srv/demo/pipeline.toml") == "/srv/demo")
        #expect(ConfigPath.directory(of: "/pipeline.toml") == "/")
        #expect(ConfigPath.directory(of: "pipeline.toml") == ".")
        #expect(ConfigPath.resolve("m.onnx", against: "/srv/demo") == "/srv/demo/m.onnx")
        #expect(ConfigPath.resolve("../m.onnx", against: "/") == "/m.onnx")
        #expect(ConfigPath.resolve("/x/./m.onnx", against: "/srv") == "/x/m.onnx")
        #expect(ConfigPath.resolve("m.onnx", against: "rel/dir") == "rel/dir/m.onnx")
        #expect(ConfigPath.lastComponent("/srv/demo") == "demo")
        #expect(ConfigPath.lastComponent("/") == "")
    }

    /// Unknown keys of `[pipeline]` and the suggestion each gets (nil: none is close).
    @Test(arguments: [
        ("batch-rows", "batch_rows"),      // `-` for `_`
        ("BATCH_ROWS", "batch_rows"),      // case
        ("batchRows", "batch_rows"),       // both
        ("btach_rows", "batch_rows"),      // a swap counts 1
        ("bach_row", "batch_rows"),        // distance 2
        ("lingerms", "linger_ms"),
        ("nam", "name"),
        ("windo", "window"),
        ("batch", "batch_rows"),           // a prefix of 4 or more characters
        ("wdw", nil),                      // distance 3
        ("rows", nil),
        ("x", nil),
    ] as [(String, String?)])
    func didYouMean(typo: String, suggestion: String?) throws {
        let error = try #require(configError("[pipeline]\n\(typo) = 1\n" + minimalSchema))
        #expect(error.kind == .unknownKey)
        #expect(error.position == at(2, 1))
        if let suggestion {
            #expect(error.message == "unknown key `pipeline.\(typo)`; did you mean `\(suggestion)`?")
        } else {
            #expect(error.message == "unknown key `pipeline.\(typo)` (expected one of: name, "
                    + "batch_rows, linger_ms, window)")
        }
    }

    @Test func quotedUnknownKeysAreShownQuoted() throws {
        let error = try #require(configError("[pipeline]\n\"batch rows\" = 1\n" + minimalSchema))
        #expect(error.message == "unknown key `pipeline.\"batch rows\"`; did you mean `batch_rows`?")
    }
}
