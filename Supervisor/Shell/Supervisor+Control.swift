import Config
import ControlCore
import Glibc
import Messages
import Runtime

/// A `pipeline scale|ps|down` connection.
final class ClientSession {
    let id: Int
    let connection: Connection
    /// A `scale` waits for the core's reply; a `down` for the end of the run.
    var waitingForScale = false
    var waitingForDown = false

    init(id: Int, connection: Connection) {
        self.id = id
        self.connection = connection
    }
}

/// The control socket: replicas' hellos, readiness, heartbeats and failures; CLI requests.
extension Supervisor {
    func acceptControl() {
        while true {
            let fd: Int32
            do {
                guard let accepted = try UnixSocket.acceptSameUser(controlListener, at: runDir.controlPath) else { return }
                fd = accepted
            } catch {
                Log.error("accept on the control socket: \(error)")
                return
            }
            pendingControl.append((Connection(fd: fd, name: "control connection"), Sys.monotonicNanos()))
        }
    }

    /// Reads the first frame (hello) of new control connections and routes them: a replica's to
    /// its process (the kernel says which, SO_PEERCRED), for the core to accept or refuse; a
    /// client's to a session.
    func handlePending(_ poll: PollSet, slots: [Int]) {
        var routed: [Connection] = []
        let now = Sys.monotonicNanos()
        for ((connection, since), slot) in zip(pendingControl, slots) {
            guard poll.readable(slot) else {
                // Nothing said within 5 s: not one of ours, or stuck; do not keep it forever.
                if now > since + 5_000_000_000 {
                    Log.error("closing a control connection that sent no hello within 5 s")
                    connection.close()
                }
                continue
            }
            do {
                let open = try connection.readAvailable()
                guard let frame = try connection.peekFrame() else {
                    if !open { connection.close() }
                    continue
                }
                let hello = try Hello.decode(frame)
                connection.consume(frame)
                guard hello.cookie == cookie else { throw FrameError.invalid(field: "hello.cookie", reason: "wrong run cookie") }
                switch hello.purpose {
                case .control:
                    let pid = try UnixSocket.peerCredentials(connection.fd).pid
                    guard let stage = StageKind(rawValue: hello.node.name), let id = byPid[pid], let r = processes[id], r.control == nil else {
                        throw FrameError.invalid(field: "hello", reason: "no starting replica runs as pid \(pid) (it says it is \(hello.node.name).\(hello.replica))")
                    }
                    connection.name = id.description
                    r.control = connection
                    routed.append(connection)
                    dispatch(.connected(pid: pid, claimed: ReplicaID(stage, Int(hello.replica))))
                case .client:
                    connection.name = "client"
                    nextClient += 1
                    let session = ClientSession(id: nextClient, connection: connection)
                    clients.append(session)
                    routed.append(connection)
                    handleRequests(session)
                case .data:
                    throw FrameError.invalid(field: "hello.purpose", reason: "data connections do not belong on the control socket")
                }
            } catch {
                Log.error("closing a control connection: \(error)")
                connection.close()
            }
        }
        pendingControl.removeAll { pending in pending.connection.isClosed || routed.contains { $0 === pending.connection } }
    }

    func handleControl(of r: ReplicaProcess, poll: PollSet, slot: Int) {
        guard let c = r.control else { return }
        do {
            if poll.writable(slot) && c.wantsWrite { try c.flush() }
            if poll.readable(slot) {
                let open = try c.readAvailable()
                handleControlFrames(of: r)
                if !open { disconnect(r, because: nil) }
            }
        } catch {
            disconnect(r, because: "\(error)")
        }
    }

    func handleControlFrames(of r: ReplicaProcess) {
        guard let c = r.control else { return }
        do {
            while let frame = try c.peekFrame() {
                switch frame.header.kind {
                case .ready:
                    dispatch(.ready(pid: r.pid))
                case .heartbeat:
                    let beat = try Heartbeat.decode(frame)
                    r.record(beat, now: Sys.monotonicNanos())
                    dispatch(.heartbeat(pid: r.pid))
                    if beat.invalidFramePeer != 0 { dispatch(.invalidFrame(fromPid: beat.invalidFramePeer, receiver: r.id.description)) }
                case .failure:
                    dispatch(.failureReported(pid: r.pid, message: try Failure.decode(frame).message))
                default:
                    throw FrameError.unexpected(kind: frame.header.kind, context: "from replica \(r.id)")
                }
                c.consume(frame)
            }
        } catch {
            disconnect(r, because: "\(error)")
        }
    }

    /// Closes a replica's control connection. An error is worth a line only while the replica
    /// is meant to be running: one being stopped (scaled away while starting, the run ending)
    /// may well reset its connection as it goes.
    private func disconnect(_ r: ReplicaProcess, because error: String?) {
        if let error, !core.stopping, core.reconciler.replica(r.id)?.state != .stopping {
            Log.error("control connection of \(r.id): \(error)")
        }
        r.control?.close()
        r.control = nil
        dispatch(.disconnected(pid: r.pid))
    }

    func handleClients(_ poll: PollSet, slots: [Int]) {
        for (client, slot) in zip(clients, slots) {
            let c = client.connection
            if poll.writable(slot) && c.wantsWrite { _ = try? c.flush() }
            if poll.readable(slot) {
                do {
                    try c.readAvailable()
                    handleRequests(client)
                } catch {
                    c.close()
                }
            }
            if c.peerClosed && !client.waitingForScale && !client.waitingForDown && !c.wantsWrite { c.close() }
        }
        clients.removeAll { $0.connection.isClosed }
    }

    private func handleRequests(_ client: ClientSession) {
        let c = client.connection
        do {
            while let frame = try c.peekFrame() {
                let request = try Request.decode(frame)
                c.consume(frame)
                switch request.operation {
                case .ps:
                    // A client that asks without reading the answers is not allowed to grow our memory.
                    guard c.queuedOutputBytes < 1 << 20 else {
                        throw FrameError.invalid(field: "request", reason: "the client does not read its replies")
                    }
                    let text = request.json ? StatusTable.json(self) : StatusTable.text(self)
                    try c.send(using: scratch) { Reply(status: 0, text: text).encode(into: $0) }
                case .scale:
                    var targets: [Core.Target] = []
                    for (node, count) in request.scales {
                        guard let stage = StageKind(rawValue: node.name), count <= 64 else {
                            throw FrameError.invalid(field: "request.scales", reason: "bad stage or count")
                        }
                        targets.append(.init(stage, Int(count)))
                    }
                    client.waitingForScale = true
                    dispatch(.scale(client: client.id, targets))
                case .down:
                    client.waitingForDown = true
                    dispatch(.down)
                }
            }
        } catch {
            Log.error("client request: \(error)")
            c.close()
        }
    }
}
