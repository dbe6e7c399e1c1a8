import Config
import Runtime

/// A config file read and parsed, with its absolute path and text (sent to every replica).
public struct ConfigFile {
    public let path: String
    public let text: String
    public let config: PipelineConfig

    /// Reads and parses the config file at `given` (relative to the current directory).
    ///
    /// - Throws: `PipelineError` with code `.config` when the file cannot be read or is invalid.
    public static func load(_ given: String) throws(PipelineError) -> ConfigFile {
        let path = absolutePath(given)
        let bytes: [UInt8]
        do {
            bytes = try Sys.readFile(path, limit: 16 << 20)
        } catch {
            throw PipelineError(.config, "cannot read config file \(given): \(error.reason)")
        }
        do {
            // Parsed from bytes, so invalid UTF-8 is reported at its line and column.
            let config = try PipelineConfig.parse(bytes: bytes, path: path)
            return ConfigFile(path: path, text: String(decoding: bytes, as: UTF8.self), config: config)
        } catch {
            throw PipelineError(.config, error.description)
        }
    }

    /// The config parsed again now that the model's output is known: without `labels`, the
    /// output names the model's classes; and the checks that need the model (the names of the
    /// CSV probability columns) point into the file too.
    ///
    /// - Throws: `PipelineError` with code `.config` at the first problem.
    public func checked(against report: Preflight.Report) throws(PipelineError) -> PipelineConfig {
        do {
            return try PipelineConfig.parse(text: text, path: path, model: report.modelOutput)
        } catch {
            throw PipelineError(.config, error.description)
        }
    }

    /// `path` made absolute against the current directory.
    public static func absolutePath(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        guard let cwd = try? Sys.currentDirectory() else { return path }
        return cwd == "/" ? "/" + path : cwd + "/" + path
    }
}
