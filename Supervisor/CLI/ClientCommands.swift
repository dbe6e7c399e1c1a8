import PipelineSupervisor
import ControlCore
import Config
import Messages
import Runtime

/// `pipeline scale`, `ps`, `down` (and `ls`): one request to the running supervisor, one reply.
enum ClientCommands {
    static func request(_ target: Target, _ request: Request) throws(PipelineError) -> ExitCode {
        let runDir = try ConfigFile.runDirectory(for: target)
        let reply = try exchange(runDir, request) { try Reply.decode($0) }
        let out = reply.status == 0 ? 1 : 2 as Int32
        try? Sys.writeAll(out, reply.text.hasSuffix("\n") ? reply.text : reply.text + "\n")
        return ExitCode(rawValue: Int32(reply.status)) ?? .internalError
    }

    /// Sends `request` to the pipeline running in `runDir` and decodes its one answer.
    static func exchange<Answer>(_ runDir: RunDirectory, _ request: Request,
                                 decode: (Frame) throws -> Answer) throws(PipelineError) -> Answer {
        guard runDir.runningPid() != nil,
              let cookieBytes = try? Sys.readFile(runDir.cookiePath, limit: 256),
              let cookie = String(validating: cookieBytes, as: UTF8.self) else {
            throw PipelineError(.notRunning, "no pipeline is running in \(runDir.path)")
        }
        do {
            let fd = try UnixSocket.connect(path: runDir.controlPath)
            let connection = Connection(fd: fd, name: "control")
            defer { connection.close() }
            let scratch = FrameBuffer(capacity: 4096)
            try connection.send(using: scratch) {
                Hello(purpose: .client, node: .client, replica: 0, pid: Sys.processID(), cookie: cookie).encode(into: $0)
                request.encode(into: $0)
            }
            guard let frame = try connection.awaitFrame() else {
                throw PipelineError(.notRunning, "the pipeline closed the connection without answering")
            }
            return try decode(frame)
        } catch let e as PipelineError {
            throw e
        } catch {
            throw PipelineError(.notRunning, "cannot reach the pipeline in \(runDir.path): \(error)")
        }
    }
}
