import PipelineSupervisor
import ControlCore
import Config
import Messages
import Runtime

/// `pipeline scale`, `ps`, `down` (and `ls`, `top`): requests to the running supervisor on its
/// control socket.
enum ClientCommands {
    /// Connects to the supervisor of the pipeline running in `runDir` and says hello with the
    /// run's cookie.
    /// - Throws: `PipelineError` with `.notRunning` when no pipeline runs there.
    static func connect(_ runDir: RunDirectory, scratch: FrameBuffer) throws(PipelineError) -> Connection {
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
            return connection
        } catch {
            throw PipelineError(.notRunning, "cannot reach the pipeline in \(runDir.path): \(error)")
        }
    }

    /// The same for the pipeline `target` names.
    static func connect(_ target: Target, scratch: FrameBuffer) throws(PipelineError) -> (RunDirectory, Connection) {
        let runDir = try ConfigFile.runDirectory(for: target)
        return (runDir, try connect(runDir, scratch: scratch))
    }

    static func request(_ target: Target, _ request: Request) throws(PipelineError) -> ExitCode {
        let runDir = try ConfigFile.runDirectory(for: target)
        let reply = try exchange(runDir, request) { try Reply.decode($0) }
        let (fd, text) = output(of: reply)
        try? Sys.writeAll(fd, text)
        return ExitCode(rawValue: Int32(reply.status)) ?? .internalError
    }

    /// Sends `request` to the pipeline running in `runDir` and decodes its one answer.
    static func exchange<Answer>(_ runDir: RunDirectory, _ request: Request,
                                 decode: (Frame) throws -> Answer) throws(PipelineError) -> Answer {
        let scratch = FrameBuffer(capacity: 4096)
        let connection = try connect(runDir, scratch: scratch)
        defer { connection.close() }
        do {
            try connection.send(using: scratch) { request.encode(into: $0) }
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

    /// Where a reply goes and how it reads: stdout as sent when it is a success; else stderr,
    /// said as every refused command says it (`pipeline: error: …`).
    static func output(of reply: Reply) -> (fd: Int32, text: String) {
        let text = reply.text.hasSuffix("\n") ? reply.text : reply.text + "\n"
        return reply.status == 0 ? (1, text) : (2, "pipeline: error: " + text)
    }
}
