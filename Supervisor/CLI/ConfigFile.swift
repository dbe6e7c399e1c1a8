import PipelineSupervisor
import Config
import Runtime

/// A config file read and parsed, with its absolute path and text (sent to every replica).
struct ConfigFile {
    let path: String
    let text: String
    let config: PipelineConfig

    static func load(_ given: String) throws(PipelineError) -> ConfigFile {
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

    /// `path` made absolute against the current directory.
    static func absolutePath(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        guard let cwd = try? Sys.currentDirectory() else { return path }
        return cwd == "/" ? "/" + path : cwd + "/" + path
    }

    /// The run directory a command about `target` uses.
    static func runDirectory(for target: Target) throws(PipelineError) -> RunDirectory {
        if let dir = target.runDirectory { return RunDirectory(path: absolutePath(dir)) }
        do {
            return RunDirectory(path: RunDirectory.defaultPath(name: try load(target.configPath).config.pipeline.name))
        } catch {
            throw PipelineError(error.code, "\(error.message) (give -f FILE or --run-dir DIR to name the pipeline)")
        }
    }
}
