import Messages
import PipelineSupervisor
import Runtime

/// One connection to a running pipeline's supervisor that asks it for `StatusSnapshot`s, again
/// and again (`pipeline top`). The supervisor answers the requests of a connection in order.
final class StatusClient {
    let runDirectory: RunDirectory
    private let connection: Connection
    private let scratch = FrameBuffer(capacity: 256)

    /// Connects to the pipeline `target` names and says hello.
    /// - Throws: `PipelineError` with `.notRunning` when no pipeline runs there (as `pipeline ps`).
    init(_ target: Target) throws(PipelineError) {
        (runDirectory, connection) = try ClientCommands.connect(target, scratch: scratch)
    }

    /// The descriptor to poll: readable when an answer (or the end) has come.
    var fd: Int32 { connection.fd }
    /// True while a request waits for the socket to take it.
    var wantsWrite: Bool { connection.wantsWrite }

    /// Sends one status request; its answer comes through `receive`.
    /// - Throws: `SystemError` when the connection is broken (the pipeline has gone).
    func request() throws(SystemError) {
        try connection.send(using: scratch) { Request(operation: .status).encode(into: $0) }
    }

    /// Writes what is queued.
    func flush() throws(SystemError) { try connection.flush() }

    /// Reads what has come: the snapshots answered since the last call, and whether the
    /// supervisor has closed the connection (the pipeline has stopped).
    /// - Throws: `PipelineError` (an internal error) when the answer is not a snapshot.
    func receive() throws(PipelineError) -> (snapshots: [StatusSnapshot], closed: Bool) {
        var open = true
        do {
            open = try connection.readAvailable()
        } catch let error as FrameError {
            throw malformed(error)
        } catch {
            // ECONNRESET and the like: the supervisor is gone.
            open = false
        }
        var snapshots: [StatusSnapshot] = []
        do throws(FrameError) {
            while let frame = try connection.peekFrame() {
                snapshots.append(try StatusSnapshot.decode(frame))
                connection.consume(frame)
            }
        } catch {
            throw malformed(error)
        }
        return (snapshots, !open)
    }

    /// Asks for a snapshot and waits up to `timeoutMillis` for it.
    /// - Throws: `PipelineError`: `.notRunning` when the pipeline does not answer.
    func fetch(timeoutMillis: Int32) throws(PipelineError) -> StatusSnapshot {
        let frame: Frame?
        do {
            try request()
            frame = try connection.awaitFrame(timeoutMillis: timeoutMillis)
        } catch let error as FrameError {
            throw malformed(error)
        } catch {
            throw PipelineError(.notRunning, "cannot reach the pipeline in \(runDirectory.path): \(error)")
        }
        guard let frame else {
            throw PipelineError(.notRunning, "the pipeline in \(runDirectory.path) did not answer")
        }
        do {
            defer { connection.consume(frame) }
            return try StatusSnapshot.decode(frame)
        } catch {
            throw malformed(error)
        }
    }

    private func malformed(_ error: FrameError) -> PipelineError {
        PipelineError(.internalError, "the pipeline in \(runDirectory.path) sent a malformed status: \(error)")
    }
}
