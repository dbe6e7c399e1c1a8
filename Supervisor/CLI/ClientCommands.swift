import PipelineSupervisor
import ControlCore
import Config
import Messages
import Runtime

/// `pipeline scale`, `ps`, `down`: one request to the running supervisor, one reply.
enum ClientCommands {
    static func request(_ target: Target, _ request: Request) throws(PipelineError) -> ExitCode {
        let runDir = try ConfigFile.runDirectory(for: target)
        guard runDir.runningPid() != nil,
              let cookieBytes = try? Sys.readFile(runDir.cookiePath, limit: 256),
              let cookie = String(validating: cookieBytes, as: UTF8.self) else {
            throw PipelineError(.notRunning, "no pipeline is running in \(runDir.path)")
        }
        let reply: Reply
        do {
            let fd = try UnixSocket.connect(path: runDir.controlPath)
            let connection = Connection(fd: fd, name: "control")
            let scratch = FrameBuffer(capacity: 4096)
            try connection.send(using: scratch) {
                Hello(purpose: .client, node: .client, replica: 0, pid: Sys.processID(), cookie: cookie).encode(into: $0)
                request.encode(into: $0)
            }
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
