import PipelineSupervisor
import Runtime

extension ConfigFile {
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
