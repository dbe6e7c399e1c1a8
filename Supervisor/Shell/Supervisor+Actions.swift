import Config
import ControlCore
import Glibc
import Messages
import PipelineSink
import PipelineSource
import Runtime

/// Carrying out what the control core decides, and reporting what comes of it.
extension Supervisor {
    func perform(_ action: Core.Action) {
        switch action {
        case .spawn(let id):
            spawn(id)
        case .signal(let pid, let signal):
            Sys.kill(pid, signal == .kill ? SIGKILL : SIGTERM)
        case .configure(let id):
            guard let r = processes[id], let c = r.control else { return }
            do {
                try c.send(using: scratch) {
                    var message = ConfigMessage(configPath: configPath, configText: configText, listenPath: r.socketPath,
                                                statePath: r.statePath, credits: credits, heartbeatMillis: heartbeatMillis,
                                                classLabels: config.output.labels ?? [], drift: config.driftPlan)
                    message.versions = versionSet()
                    message.encode(into: $0)
                }
            } catch {
                Log.error("control connection of \(id): \(error)")
                c.close()
            }
            // What came with the hello (a replica can be ready very quickly).
            handleControlFrames(of: r)
        case .shutdown(let id):
            guard let r = processes[id] else { return }
            if let c = r.control, !c.isClosed {
                try? c.send(using: scratch) { $0.frame(.shutdown) }
            } else {
                Sys.kill(r.pid, SIGTERM)
            }
        case .drain(let id):
            try? processes[id]?.control?.send(using: scratch) { $0.frame(.drain) }
        case .membership(let members, let recipient):
            let m = membership(members)
            switch recipient {
            case .source: source.downstream.apply(m)
            case .replica(let id): try? processes[id]?.control?.send(using: scratch) { m.encode(into: $0) }
            }
        case .refuse(let pid, let reason):
            // The connection was attached to the process running as `pid` for the core to judge.
            Log.error("closing a control connection: \(reason)")
            if let id = byPid[pid], let r = processes[id] {
                r.control?.close()
                r.control = nil
            }
        case .send(let sequence, let unit, let replay):
            source.send(sequence, unit: unit, replay: replay)
            metrics.sent(sequence, now: Sys.monotonicNanos())
        case .split(let sequence):
            let found = source.split(sequence)
            dispatch(.batch(.split(sequence, records: found?.records,
                            refused: found.flatMap { $0.refused.isEmpty ? nil : Sink.Piece(rejects: $0.refused) })))
        case .poison(let sequence, let part, let line, let byteOffset, let crashes, let stage, let termination):
            let reject = Reject(line: line, byteOffset: byteOffset, stage: stage.node, code: .replicaCrash,
                                message: "this record crashed \(stage.rawValue) replicas \(counted(crashes, "time")) (last one \(termination)); skipped",
                                input: source.recordText(sequence, unit: part ?? 0))
            dispatch(.batch(.received(sequence, part: part, Sink.Piece(rejects: [reject]))))
        case .write(let sequence, let pieces, _):
            sink.write(sequence, pieces)
        case .stopReading:
            source.stopReading()
        case .endDataPath:
            // Ingest replicas close their end as they exit: expected now, not a loss.
            source.downstream.retireAll()
            sink.upstream.expectClosing = true
        case .reply(let client, let status, let text, let withStatus):
            guard let session = clients.first(where: { $0.id == client }) else { return }
            let reply = Reply(status: UInt8(status.rawValue), text: withStatus ? text + " " + StatusTable.text(self) : text)
            try? session.connection.send(using: scratch) { reply.encode(into: $0) }
            session.waitingForScale = false
        case .event(let event):
            eventLog.record(event)
        case .versions:
            sendVersions()
        case .retag(let sequences, let model):
            for sequence in sequences { source.retag(sequence, model: model) }
        case .log(let level, let message, let logOf):
            let tail = logOf.map { LogTail.excerpt(runDir.logPath(node: $0.stage.rawValue, replica: $0.index)) } ?? ""
            switch level {
            case .info: Log.info(message + tail)
            case .error: Log.error(message + tail)
            }
        }
    }

    /// The wire form of a membership: each member's socket.
    func membership(_ members: Reconciler.Members) -> Membership {
        guard members.stage != nil else {
            return Membership(generation: members.generation, members: [.init(node: .sink, replica: 0, path: runDir.sinkPath)])
        }
        return Membership(generation: members.generation, members: members.replicas.compactMap { processes[$0]?.member })
    }

    private func spawn(_ id: ReplicaID) {
        let socket = runDir.socketPath(node: id.stage.rawValue, replica: id.index)
        let log = runDir.logPath(node: id.stage.rawValue, replica: id.index)
        let now = Sys.monotonicNanos()
        do {
            try StatePage.create(path: String(socket.dropLast(".sock".count)) + ".state")
            let pid = try Spawn.start(path: binaries.path(id.stage),
                                      arguments: [binaries.path(id.stage), "--control", runDir.controlPath, "--replica", "\(id.index)"],
                                      environment: environment, logPath: log)
            let r = ReplicaProcess(id: id, pid: pid, socketPath: socket, logPath: log, now: now)
            processes[id] = r
            byPid[pid] = id
            dispatch(.replica(.spawned(id, pid: pid)))
        } catch {
            // EAGAIN, ENOMEM, ETXTBSY: try again after a backoff, like a replica that died at start.
            let transient = [EAGAIN, ENOMEM, ETXTBSY, EINTR].contains(error.errno)
            dispatch(.replica(.spawnFailed(id, message: "\(error)", transient: transient, jitter: Double.random(in: 0...1, using: &rng))))
        }
    }

    /// Collects exited children and tells the core, with what each was processing.
    func reap() {
        while let (pid, termination, usage) = Spawn.reap() {
            guard let id = byPid.removeValue(forKey: pid), let r = processes.removeValue(forKey: id) else { continue }
            // Its last words (a final heartbeat, a failure) may still wait on the control socket.
            if let c = r.control {
                _ = try? c.readAvailable()
                handleControlFrames(of: r)
                c.close()
                r.control = nil
            }
            stageUsage[id.stage, default: StageUsage()].add(usage, peakRSS: Int(r.heartbeat.peakRSSBytes))
            metrics.retire(id.stage, last: r.heartbeat)
            let work = StatePage.read(path: r.statePath)
            try? Sys.unlink(r.socketPath)
            try? Sys.unlink(r.statePath)
            dispatch(.replica(.exited(pid: pid, Termination(termination), work: work.map(ReplicaWork.init),
                             jitter: Double.random(in: 0...1, using: &rng))))
        }
    }
}

extension Termination {
    init(_ t: Spawn.Termination) {
        switch t {
        case .exited(let code): self = .exited(code)
        case .signaled(let signal): self = .signaled(signal, selfInflicted: t.isSelfInflicted, name: String(cString: strsignal(signal)))
        }
    }
}

extension ReplicaWork {
    /// What a replica's state page says it was processing.
    init(_ work: StatePage.Work) {
        self.init(sequence: work.sequence, part: work.flags.contains(.part) ? Int(work.stream) : nil, model: work.model)
    }
}
