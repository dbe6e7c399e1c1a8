import Config
import Glibc
import Messages
import Runtime

/// A `pipeline scale|ps|down` connection.
final class ClientSession {
    enum Wait {
        /// Reply once these stages have reached their counts (the requested ones, or those of a
        /// later request that changed them meanwhile).
        case scale(targets: [(stage: StageKind, replicas: Int)], deadline: UInt64, summary: String)
        /// Reply when the run has finished.
        case down
    }

    let connection: Connection
    var wait: Wait?
    init(connection: Connection) { self.connection = connection }

    var waitingForDown: Bool {
        if case .down = wait { return true }
        return false
    }
}

/// The control socket: replicas' hellos, readiness, heartbeats and failures; CLI requests.
extension Supervisor {
    /// Routes new control connections, whose hello passed `controlGate` (the run's cookie, and
    /// the pid of the process that connected as the kernel gives it).
    func handlePending(_ admitted: [Connection]) {
        for connection in admitted {
            guard let hello = connection.hello, let pid = connection.peerPID else { continue }
            do {
                switch hello.purpose {
                case .control:
                    // The replica is the one the kernel says connected; its hello must agree.
                    guard let r = replicas.first(where: { $0.pid == pid && ($0.state == .starting || $0.state == .stopping) }),
                          r.stage.node == hello.node, r.index == Int(hello.replica) else {
                        throw FrameError.invalid(field: "hello", reason: "pid \(pid) is not a starting replica \(hello.node.name).\(hello.replica)")
                    }
                    connection.name = r.name
                    r.control = connection
                    if phase != .running || r.state == .stopping {
                        // Started just before the run began to stop: it has nothing to do.
                        try connection.send(using: scratch) { $0.frame(.shutdown) }
                        continue
                    }
                    try connection.send(using: scratch) {
                        ConfigMessage(configPath: configPath, configText: configText, listenPath: r.socketPath,
                                      statePath: r.statePath, credits: credits, heartbeatMillis: heartbeatMillis).encode(into: $0)
                    }
                    handleControlFrames(of: r)
                case .client:
                    connection.name = "client"
                    let session = ClientSession(connection: connection)
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

    func handleControl(of r: ReplicaRecord, poll: PollSet, slot: Int) {
        guard let c = r.control else { return }
        do {
            if poll.writable(slot) && c.wantsWrite { try c.flush() }
            if poll.readable(slot) {
                let open = try c.readAvailable()
                handleControlFrames(of: r)
                if !open { r.control?.close() }
            }
        } catch {
            if phase == .running { Log.error("control connection of \(r.name): \(error)") }
            c.close()
        }
    }

    func handleControlFrames(of r: ReplicaRecord) {
        guard let c = r.control else { return }
        do {
            while let frame = try c.peekFrame() {
                switch frame.header.kind {
                case .ready: becameReady(r)
                case .heartbeat:
                    let beat = try Heartbeat.decode(frame)
                    r.record(beat, now: Sys.monotonicNanos())
                    if beat.invalidFramePeer != 0 { replaceReplica(pid: beat.invalidFramePeer, sentAnInvalidFrameTo: r.name) }
                case .failure:
                    let message = try Failure.decode(frame).message
                    r.failure = message
                    // While stopping, a replica losing a peer that has already gone is expected.
                    if phase == .running { Log.error("\(r.name) failed: \(message)") }
                default: throw FrameError.unexpected(kind: frame.header.kind, context: "from replica \(r.name)")
                }
                c.consume(frame)
            }
        } catch {
            if phase == .running { Log.error("control connection of \(r.name): \(error)") }
            c.close()
        }
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
            if c.peerClosed && client.wait == nil && !c.wantsWrite { c.close() }
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
                    try scale(request, client: client)
                case .down:
                    client.wait = .down
                    if phase == .running {
                        Log.info("`pipeline down`: finishing the batches already read, then stopping")
                        source.stopInput()
                    }
                }
            }
        } catch {
            Log.error("client request: \(error)")
            c.close()
        }
    }

    private func scale(_ request: Request, client: ClientSession) throws {
        guard phase == .running else {
            try client.connection.send(using: scratch) {
                Reply(status: UInt8(ExitCode.notRunning.rawValue), text: "the pipeline is stopping").encode(into: $0)
            }
            return
        }
        var targets: [(stage: StageKind, replicas: Int)] = []
        var parts: [String] = []
        for (node, count) in request.scales {
            guard let stage = StageKind.allCases.first(where: { $0.node == node }), count <= 64 else {
                throw FrameError.invalid(field: "request.scales", reason: "bad stage or count")
            }
            parts.append("\(stage.rawValue): \(replicas(of: stage).filter(\.isActive).count) → \(count)")
            desired[stage] = Int(count)
            targets.append((stage, Int(count)))
        }
        reconcileNeeded = true
        client.wait = .scale(targets: targets, deadline: Sys.monotonicNanos() + 60_000_000_000, summary: parts.joined(separator: ", "))
    }

    /// Sends the replies that were waiting for a scale to complete.
    func answerClients(now: UInt64) {
        for client in clients {
            guard case .scale(let targets, let deadline, let summary) = client.wait else { continue }
            let settled = targets.allSatisfy { target in
                let mine = replicas(of: target.stage)
                return mine.filter { $0.state == .ready }.count == desired[target.stage]
                    && !mine.contains { $0.state == .starting || $0.state == .draining || $0.state == .stopping }
            }
            var reply: Reply?
            if phase != .running {
                reply = Reply(status: UInt8(ExitCode.notRunning.rawValue), text: "the pipeline stopped before scaling \(summary) completed")
            } else if settled {
                let changed = targets.filter { desired[$0.stage] != $0.replicas }
                    .map { "\($0.stage.rawValue) is at \(desired[$0.stage] ?? 0)" }
                reply = Reply(status: 0, text: "scaled \(summary)"
                              + (changed.isEmpty ? "" : "; then a later request changed it: " + changed.joined(separator: ", ")))
            } else if now > deadline {
                reply = Reply(status: UInt8(ExitCode.stageFailed.rawValue), text: "scaling \(summary) did not complete: \(StatusTable.text(self))")
            }
            if let reply {
                client.wait = nil
                try? client.connection.send(using: scratch) { reply.encode(into: $0) }
            }
        }
    }
}
