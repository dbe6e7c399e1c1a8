import PipelineSupervisor
import ControlCore
import Config
import Messages
import Runtime

/// `pipeline scale`, `ps`, `down`: one request to the running supervisor, one reply.
enum ClientCommands {
    /// Connects to the supervisor of the pipeline `target` names, on its control socket, and says
    /// hello with the run's cookie.
    /// - Throws: `PipelineError` with `.notRunning` when no pipeline runs there.
    static func connect(_ target: Target, scratch: FrameBuffer) throws(PipelineError) -> (RunDirectory, Connection) {
        let runDir = try ConfigFile.runDirectory(for: target)
        guard runDir.runningPid() != nil,
              let cookieBytes = try? Sys.readFile(runDir.cookiePath, limit: 256),
              let cookie = String(validating: cookieBytes, as: UTF8.self) else {
            throw PipelineError(.notRunning, "no pipeline is running in \(runDir.path)")
        }
        do {
            let connection = Connection(fd: try UnixSocket.connect(path: runDir.controlPath), name: "control")
            try connection.send(using: scratch) {
                Hello(purpose: .client, node: .client, replica: 0, pid: Sys.processID(), cookie: cookie).encode(into: $0)
            }
            return (runDir, connection)
        } catch {
            throw PipelineError(.notRunning, "cannot reach the pipeline in \(runDir.path): \(error)")
        }
    }

    static func request(_ target: Target, _ request: Request) throws(PipelineError) -> ExitCode {
        let scratch = FrameBuffer(capacity: 4096)
        let (runDir, connection) = try connect(target, scratch: scratch)
        let reply: Reply
        do {
            try connection.send(using: scratch) { request.encode(into: $0) }
            guard let frame = try connection.awaitFrame() else {
                throw PipelineError(.notRunning, "the pipeline closed the connection without answering")
            }
            reply = try Reply.decode(frame)
        } catch let e as PipelineError {
            throw e
        } catch {
            throw PipelineError(.notRunning, "cannot reach the pipeline in \(runDir.path): \(error)")
        }
        let out = reply.status == 0 ? 1 : 2 as Int32
        try? Sys.writeAll(out, reply.text.hasSuffix("\n") ? reply.text : reply.text + "\n")
        return ExitCode(rawValue: Int32(reply.status)) ?? .internalError
    }
}

/// `pipeline logs [STAGE]`: the replicas' stderr, read from the run directory.
enum LogsCommand {
    static func run(_ target: Target, stage: String?) throws(PipelineError) -> ExitCode {
        let runDir = try ConfigFile.runDirectory(for: target)
        if stage == "events" {
            // The run's event log, as written: JSON lines.
            guard let bytes = try? Sys.readFile(runDir.logDirectory + "/events.log", limit: 256 << 20) else {
                throw PipelineError(.notRunning, "no event log in \(runDir.logDirectory): has this pipeline run?")
            }
            try? Sys.writeAll(1, String(decoding: bytes, as: UTF8.self))
            return .ok
        }
        let only = try stage.map { (s) throws(PipelineError) in try StageKind.parse(s) }
        guard let names = try? Sys.listDirectory(runDir.logDirectory) else {
            throw PipelineError(.notRunning, "no logs in \(runDir.logDirectory): has this pipeline run?")
        }
        var files: [(StageKind, Int, String)] = []
        for name in names {
            let parts = name.split(separator: ".")
            guard parts.count == 3, parts[2] == "log", let s = StageKind(rawValue: String(parts[0])), let i = Int(parts[1]) else { continue }
            if let only, only != s { continue }
            files.append((s, i, name))
        }
        for (s, i, name) in files.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            guard let bytes = try? Sys.readFile("\(runDir.logDirectory)/\(name)", limit: 256 << 20) else { continue }
            let prefix = "\(s.rawValue).\(i) | "
            var out = ""
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                out += prefix + line + "\n"
            }
            try? Sys.writeAll(1, out)
        }
        return .ok
    }
}
