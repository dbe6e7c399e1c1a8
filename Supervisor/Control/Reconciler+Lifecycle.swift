import Config

/// How each event changes the replicas: hellos, readiness, exits, deadlines, counts, stops.
extension Reconciler {

    func index(pid: Int32) -> Int? { replicas.firstIndex { $0.pid == pid && $0.isAlive } }

    mutating func update(_ id: ReplicaID, _ change: (inout Replica) -> Void) {
        if let i = replicas.firstIndex(where: { $0.id == id }) { change(&replicas[i]) }
    }

    mutating func connected(pid: Int32, claimed: ReplicaID, into out: inout [Action]) {
        guard let i = index(pid: pid), replicas[i].state == .starting || replicas[i].state == .stopping,
              !replicas[i].connected else {
            out.append(.refuse(pid: pid, reason: "no starting replica runs as pid \(pid)"))
            return
        }
        guard replicas[i].id == claimed else {
            out.append(.refuse(pid: pid, reason: "pid \(pid) is \(replicas[i].id), not \(claimed) as its hello says"))
            return
        }
        replicas[i].connected = true
        // Started just before the run began to stop, or scaled away while starting: nothing to do.
        out.append(stopping || replicas[i].state == .stopping ? .shutdown(replicas[i].id) : .configure(replicas[i].id))
    }

    mutating func becameReady(pid: Int32, into out: inout [Action]) {
        guard let i = index(pid: pid), replicas[i].state == .starting else { return }
        replicas[i].state = .ready
        replicas[i].wasReady = true
        let id = replicas[i].id
        out.append(.event(.replicaReady(id, pid: pid)))
        generation += 1
        out.append(.membership(members(of: id.stage.next), to: .replica(id)))
        broadcast(id.stage, into: &out)
    }

    /// Tells everyone who sends to `stage` its current ready replicas.
    mutating func broadcast(_ stage: StageKind, into out: inout [Action]) {
        generation += 1
        let m = members(of: stage)
        announced[stage] = m.replicas
        guard let previous = stage.previous else {
            out.append(.membership(m, to: .source))
            return
        }
        for r in replicas(of: previous) where r.state == .ready || r.state == .draining {
            out.append(.membership(m, to: .replica(r.id)))
        }
    }

    mutating func exited(pid: Int32, _ termination: Termination, work: ReplicaWork?, jitter: Double, now: UInt64,
                                 into out: inout [Action]) {
        guard let i = index(pid: pid) else { return }
        let was = replicas[i].state
        replicas[i].state = .dead
        replicas[i].diedAt = now
        let r = replicas[i]
        if announced[r.id.stage]?.contains(r.id) == true { broadcast(r.id.stage, into: &out) }
        let expected = stopping || (was == .stopping && !r.startFailed) || (was == .draining && termination == .exited(0))
        out.append(.event(.replicaExited(r.id, pid: pid, termination, expected: expected)))
        guard !stopping else { return }
        switch (was, termination) {
        case (.stopping, _) where !r.startFailed, (.draining, .exited(0)):
            break
        case (.starting, .exited(let status)) where status != 0:
            out.append(.startFailed(r.id, termination, message: r.failure))
        case (.draining, _):
            out.append(.lostWhileDraining(r.id, pid: pid, termination))
        default:
            out.append(.crashed(r.id, pid: pid, termination, work: work, blameable: r.killedAsHung || termination.isSelfInflicted,
                                jitter: jitter))
        }
    }

    /// Kills replicas whose processing loop has gone quiet (for longer than a start may take
    /// while they build model versions), replicas that take too long to start, and replicas told
    /// to exit that are still there after `stopTimeoutNanos`.
    mutating func checkDeadlines(now: UInt64, into out: inout [Action]) {
        for i in replicas.indices {
            let r = replicas[i]
            guard let pid = r.pid else { continue }
            if r.state == .stopping, let by = r.stopBy, now >= by {
                out.append(.log(.error, "\(r.id) (pid \(pid)) did not stop within \(seconds(settings.stopTimeoutNanos)) s: killed"))
                out.append(.event(.replicaKilled(r.id, pid: pid, reason: .stopTimeout)))
                out.append(.signal(pid: pid, .kill))
                replicas[i].stopBy = nil
            } else if stopping {
                continue
            } else if (r.state == .ready || r.state == .draining)
                        && now > r.lastBeat + (r.loadingVersions ? max(settings.hangNanos, settings.startTimeoutNanos) : settings.hangNanos) {
                out.append(.log(.error, "\(r.id) (pid \(pid)) sent no heartbeat for \(seconds(now - r.lastBeat)) s"
                                + (r.loadingVersions ? " while loading model versions" : "") + ": killing it"))
                out.append(.event(.replicaKilled(r.id, pid: pid, reason: .hung)))
                out.append(.signal(pid: pid, .kill))
                replicas[i].killedAsHung = true
                replicas[i].lastBeat = now
            } else if r.state == .starting && now > r.startedAt + settings.startTimeoutNanos {
                out.append(.log(.error, "\(r.id) (pid \(pid)) did not become ready within \(seconds(settings.startTimeoutNanos)) s: killing it"))
                out.append(.event(.replicaKilled(r.id, pid: pid, reason: .startTimeout)))
                out.append(.signal(pid: pid, .kill))
                replicas[i].state = .stopping
                replicas[i].startFailed = true
            }
        }
    }

    /// Starts or drains replicas until each stage has its desired count.
    mutating func reconcile(now: UInt64, into out: inout [Action]) {
        guard !stopping else { return }
        for stage in StageKind.allCases {
            let active = replicas(of: stage).filter(\.isActive)
            let want = desired[stage] ?? 0
            if active.count < want && now >= restarts[stage]!.notBefore {
                for _ in active.count..<want {
                    let id = ReplicaID(stage, nextIndex[stage]!)
                    nextIndex[stage]! += 1
                    replicas.append(Replica(id: id, startedAt: now, lastBeat: now))
                    out.append(.spawn(id))
                }
            } else if active.count > want {
                // Leave newest first; a replica still starting holds nothing and just stops.
                let leaving = active.sorted { ($0.state == .starting ? 1 : 0, $0.id.index) > ($1.state == .starting ? 1 : 0, $1.id.index) }
                for r in leaving.prefix(active.count - want) { drain(r.id, now: now, into: &out) }
            }
        }
        // The dead are forgotten: their exit has been acted on, their pids may come back.
        replicas.removeAll { $0.state == .dead }
    }

    /// Takes a replica out of its stage: upstream stops sending to it, it finishes and exits 0.
    mutating func drain(_ id: ReplicaID, now: UInt64, into out: inout [Action]) {
        guard let i = replicas.firstIndex(where: { $0.id == id }) else { return }
        switch replicas[i].state {
        case .starting:
            // It holds nothing: it just stops.
            tellToExit(i, now: now, into: &out)
        case .ready:
            replicas[i].state = .draining
            out.append(.event(.replicaDraining(id, pid: replicas[i].pid)))
            broadcast(id.stage, into: &out)
            out.append(.drain(id))
        default:
            break
        }
    }

    mutating func stop(now: UInt64, into out: inout [Action]) {
        guard !stopping else { return }
        stopping = true
        for i in replicas.indices where replicas[i].isAlive && replicas[i].state != .stopping { tellToExit(i, now: now, into: &out) }
    }

    /// Tells replica `i` to exit now: on its control connection if it has one, else by SIGTERM
    /// (when its pid comes, if it is not known yet: see `.spawned`). It is killed if it is still
    /// there `stopTimeoutNanos` later.
    mutating func tellToExit(_ i: Int, now: UInt64, into out: inout [Action]) {
        replicas[i].state = .stopping
        replicas[i].stopBy = now + settings.stopTimeoutNanos
        out.append(.event(.replicaStopping(replicas[i].id, pid: replicas[i].pid)))
        if replicas[i].connected {
            out.append(.shutdown(replicas[i].id))
        } else if let pid = replicas[i].pid {
            out.append(.signal(pid: pid, .terminate))
        }
    }
}

extension Reconciler {
    /// Marks which replicas are building model versions they were sent (see `checkDeadlines`).
    mutating func markLoadingVersions(_ loading: (ReplicaID) -> Bool) {
        for i in replicas.indices { replicas[i].loadingVersions = loading(replicas[i].id) }
    }
}
