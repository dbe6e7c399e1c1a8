import Config
import Testing

/// The file name every test document pretends to come from.
let testFile = "/cfg/demo/pipeline.toml"

/// Parses a TOML document, failing the test on error.
func parseTOML(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws
    -> TOMLTable
{
    do throws(ConfigError) {
        return try TOMLParser.parse(text, file: testFile)
    } catch {
        Issue.record("unexpected error: \(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// The error parsing `text` throws, or nil (and a recorded issue) if it parses.
func tomlError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
    tomlError(bytes: Array(text.utf8), sourceLocation: sourceLocation)
}

func tomlError(bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
    do throws(ConfigError) {
        let table = try TOMLParser.parse(bytes: bytes, file: testFile)
        Issue.record("expected an error, parsed \(table.keys)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// The value of `v` in the one-line document `v = <source>`.
func parseValue(_ source: String, sourceLocation: SourceLocation = #_sourceLocation) throws
    -> TOMLValue
{
    let table = try parseTOML("v = " + source, sourceLocation: sourceLocation)
    return try #require(table["v"], sourceLocation: sourceLocation)
}

/// Shorthand for a position.
func at(_ line: Int, _ column: Int) -> SourcePosition { SourcePosition(line: line, column: column) }
