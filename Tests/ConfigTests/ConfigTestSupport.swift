import Config
import Testing

/// Parses a configuration, failing the test on error.
func parseConfig(_ text: String, path: String = testFile,
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> PipelineConfig
{
    do throws(ConfigError) {
        return try PipelineConfig.parse(text: text, path: path)
    } catch {
        Issue.record("unexpected error: \(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// The error parsing a configuration throws, or nil (and a recorded issue) if it parses.
func configError(_ text: String, path: String = testFile,
                 sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError?
{
    do throws(ConfigError) {
        _ = try PipelineConfig.parse(text: text, path: path)
        Issue.record("expected an error, but the configuration parsed",
                     sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// The smallest valid configuration; tests append to or replace parts of it.
let minimalSchema = """
    [[input.field]]
    name = "amount"
    type = "float"

    [[feature]]
    field = "amount"
    kind = "identity"

    [model]
    path = "model.onnx"

    """
