import Bench
import PipelineSupervisor
import ControlCore
import Runtime

/// The `pipeline` executable's main: parse, run, map errors to one line and an exit code.
public enum PipelineMain {
    public static func main(_ arguments: [String]) -> Int32 {
        // A closed standard descriptor would be taken by the next file we open (the lock file
        // would receive the output): park /dev/null on it, and remember stdout was closed.
        let closed = Sys.openNullOnClosedStandardDescriptors()
        do throws(PipelineError) {
            switch try parseCommandLine(arguments) {
            case .help(let text):
                try? Sys.writeAll(1, text.hasSuffix("\n") ? text : text + "\n")
                return ExitCode.ok.rawValue
            case .version:
                try? Sys.writeAll(1, "pipeline \(pipelineVersion)\n")
                return ExitCode.ok.rawValue
            case .up(let options):
                if closed.contains(1) && options.outputPath == nil {
                    throw PipelineError(.io, "stdout is closed: `pipeline up` writes its results there (or to --output FILE)")
                }
                return try (options.detach ? DetachCommand.run(options) : UpCommand.run(options)).rawValue
            case .scale(let target, let scales):
                var request = Request(operation: .scale)
                for (name, n) in scales { request.scales.append((try StageKind.parse(name).node, UInt32(n))) }
                return try ClientCommands.request(target, request).rawValue
            case .ps(let target, let json):
                return try ClientCommands.request(target, Request(operation: .ps, json: json)).rawValue
            case .top(let options):
                return try TopCommand.run(options).rawValue
            case .down(let target):
                return try ClientCommands.request(target, Request(operation: .down)).rawValue
            case .logs(let target, let options):
                return try LogsCommand.run(target, options).rawValue
            case .ls(let json):
                return ListCommand.run(json: json).rawValue
            case .check(let target, let data):
                return try CheckCommand.run(target, data: data).rawValue
            case .profile(let options):
                return try ProfileCommand.run(options).rawValue
            case .drift(let target, let json):
                return try ClientCommands.request(target, Request(operation: .drift, json: json)).rawValue
            case .rollout(let target, let rollout):
                return try ClientCommands.request(target, Request(operation: .rollout, rollout: rollout)).rawValue
            case .export(let options):
                return try ExportCommand.run(options).rawValue
            case .bench(let options):
                return try BenchCommand.run(options).rawValue
            }
        } catch {
            try? Sys.writeAll(2, "pipeline: error: \(error.message)\n")
            return error.code.rawValue
        }
    }
}

import Config
import Messages
