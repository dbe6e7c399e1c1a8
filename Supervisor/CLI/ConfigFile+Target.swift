import PipelineSupervisor
import Runtime

extension ConfigFile {
    /// The run directory a command about `target` uses: `--run-dir`, else the one of the config's
    /// name. Without `-f`, when the default config is not in this directory, the only pipeline
    /// running under the default roots (so `ps`, `logs`, `down` work from anywhere).
    /// - Throws: `.notRunning` when none runs, `.usage` (naming them) when several do.
    static func runDirectory(for target: Target) throws(PipelineError) -> RunDirectory {
        if let dir = target.runDirectory { return RunDirectory(path: absolutePath(dir)) }
        if !target.configGiven, !mayExist(target.configPath) {
            return try onlyRunning(missing: target.configPath)
        }
        do {
            return RunDirectory(path: RunDirectory.defaultPath(name: try load(target.configPath).config.pipeline.name))
        } catch {
            throw PipelineError(error.code, "\(error.message) (give -f FILE or --run-dir DIR to name the pipeline)")
        }
    }

    /// False only when `path` surely does not exist (a path that cannot be looked at is left for loading to report).
    private static func mayExist(_ path: String) -> Bool {
        do { return try Sys.stat(path) != nil } catch { return true }
    }

    private static func onlyRunning(missing config: String) throws(PipelineError) -> RunDirectory {
        let running = RunningPipeline.all()
        switch running.count {
        case 1:
            return running[0].runDirectory
        case 0:
            let roots = RunDirectory.defaultRoots().joined(separator: " or ")
            throw PipelineError(.notRunning, "no pipeline is running under \(roots), and there is no \(config) here to name "
                                + "one (give -f FILE or --run-dir DIR)")
        default:
            throw PipelineError(.usage, "\(running.count) pipelines are running; say which with --run-dir DIR (or -f FILE):\n"
                                + running.map { "  " + $0.summary }.joined(separator: "\n"))
        }
    }
}
