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
    /// Routes new control connections, whose hello passed `controlGate` (the run's cookie, and
    /// the pid of the process that connected as the kernel gives it): a replica's to its
    /// process, for the core to accept or refuse; a client's to a session.
    func handlePending(_ admitted: [Connection]) {
        for connection in admitted {
            guard let hello = connection.hello, let pid = connection.peerPID else { continue }
            do {
                switch hello.purpose {
                case .control:
                    guard let stage = StageKind(rawValue: hello.node.name), let id = byPid[pid], let r = processes[id], r.control == nil else {
                        throw FrameError.invalid(field: "hello", reason: "pid \(pid) is not a starting replica \(hello.node.name).\(hello.replica)")
                    }
                    connection.name = id.description
                    r.control = connection
                    dispatch(.replica(.connected(pid: pid, claimed: ReplicaID(stage, Int(hello.replica)))))
                case .client:
                    connection.name = "client"
                    nextClient += 1
                    let session = ClientSession(id: nextClient, connection: connection)
                    clients.append(session)
                    handleRequests(session)
                case .data:
                    throw FrameError.invalid(field: "hello.purpose", reason: "data connections do not belong on the control socket")
                }
            } catch {
                Log.error("closing a control connection from pid \(pid): \(error)")
                connection.close()
            }
        }
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
                    dispatch(.replica(.ready(pid: r.pid)))
                case .heartbeat:
                    let beat = try Heartbeat.decode(frame)
                    r.record(beat, now: Sys.monotonicNanos())
                    dispatch(.replica(.heartbeat(pid: r.pid)))
                    if beat.invalidFramePeer != 0 { dispatch(.replica(.invalidFrame(fromPid: beat.invalidFramePeer, receiver: r.id.description))) }
                case .failure:
                    dispatch(.replica(.failureReported(pid: r.pid, message: try Failure.decode(frame).message)))
                case .versionsAck:
                    let ack = try VersionsAck.decode(frame)
                    dispatch(.versionsAck(pid: r.pid, generation: ack.generation, failures: ack.failures))
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
        dispatch(.replica(.disconnected(pid: r.pid)))
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
                case .drift:
                    guard c.queuedOutputBytes < 1 << 20 else {
                        throw FrameError.invalid(field: "request", reason: "the client does not read its replies")
                    }
                    let reply: Reply
                    if let drift = core.drift {
                        reply = Reply(status: 0, text: request.json ? DriftTable.json(drift) : DriftTable.text(drift))
                    } else {
                        reply = Reply(status: UInt8(ExitCode.usage.rawValue),
                                      text: "this pipeline watches no drift: its config has no [drift] table (see README, \"Watching for drift\")")
                    }
                    try c.send(using: scratch) { reply.encode(into: $0) }
                case .scale:
                    var targets: [Core.Target] = []
                    for (node, count) in request.scales {
                        guard let stage = StageKind(rawValue: node.name), count <= 64 else {
                            throw FrameError.invalid(field: "request.scales", reason: "bad stage or count")
                        }
                        targets.append(.init(stage, Int(count)))
                    }
                    client.waitingForScale = true
                    if autoscaler != nil {
                        // Autoscaled: the count asked for becomes the stage's floor (and the
                        // ceiling's floor), so the autoscaler never takes the stage below it.
                        for t in targets {
                            autoscaler!.settings.minReplicas[t.stage] = t.replicas
                            if let high = autoscaler!.settings.maxReplicas[t.stage], high < t.replicas {
                                autoscaler!.settings.maxReplicas[t.stage] = t.replicas
                            }
                        }
                        Log.info("autoscale: `pipeline scale` set the minimum of "
                                 + targets.map { "\($0.stage.rawValue) to \($0.replicas)" }.joined(separator: ", "))
                    }
                    dispatch(.scale(client: client.id, targets))
                case .down:
                    client.waitingForDown = true
                    dispatch(.down)
                case .rollout:
                    guard let rollout = request.rollout else {
                        throw FrameError.invalid(field: "request.rollout", reason: "missing")
                    }
                    handleRollout(client, rollout)
                case .status:
                    guard c.queuedOutputBytes < 1 << 20 else {
                        throw FrameError.invalid(field: "request", reason: "the client does not read its replies")
                    }
                    let snapshot = snapshot()
                    try c.send(using: scratch) { snapshot.encode(into: $0) }
                }
            }
        } catch {
            Log.error("client request: \(error)")
            c.close()
        }
    }
}
