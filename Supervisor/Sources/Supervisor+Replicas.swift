import Config
import Glibc
import Messages
import Runtime

/// Replica lifecycle: spawning, membership, draining, crashes and restarts.
extension Supervisor {
    func replicas(of stage: StageKind) -> [ReplicaRecord] { replicas.filter { $0.stage == stage } }

    /// Starts or drains replicas until each stage has its desired count.
    func reconcile(now: UInt64) {
        for stage in StageKind.allCases where phase == .running {
            let active = replicas(of: stage).filter(\.isActive)
            let want = desired[stage] ?? 1
            if active.count < want && now >= restarts[stage]!.notBefore {
                for _ in active.count..<want where phase == .running { spawn(stage, now: now) }
            } else if active.count > want {
                // Leave newest first; a replica still starting holds nothing and just stops.
                let leaving = active.sorted { ($0.state == .starting ? 1 : 0, $0.index) > ($1.state == .starting ? 1 : 0, $1.index) }
                for r in leaving.prefix(active.count - want) { drain(r) }
            }
        }
        replicas.removeAll { $0.state == .exited && $0.termination != nil && now - $0.startedNanos > 60_000_000_000 }
    }

    func spawn(_ stage: StageKind, now: UInt64) {
        let index = nextIndex[stage]!
        nextIndex[stage] = index + 1
        let socket = runDir.socketPath(node: stage.rawValue, replica: index)
        let log = runDir.logPath(node: stage.rawValue, replica: index)
        do {
            try StatePage.create(path: String(socket.dropLast(".sock".count)) + ".state")
            let pid = try Spawn.start(path: binaries.path(stage),
                                      arguments: [binaries.path(stage), "--control", runDir.controlPath, "--replica", "\(index)"],
                                      environment: environment, logPath: log)
            replicas.append(ReplicaRecord(stage: stage, index: index, pid: pid, socketPath: socket, logPath: log, now: now))
        } catch where [EAGAIN, ENOMEM, ETXTBSY, EINTR].contains(error.errno) {
            // Transient: try again after a backoff, like a replica that died at start.
            Log.error("cannot start \(stage.rawValue).\(index) now: \(error); retrying")
            let jitter = Double.random(in: 0...1, using: &rng)
            if !restarts[stage]!.crashed(now: now, spec: config.stage(stage), jitter: jitter, quick: true) {
                fail(.environment, "cannot start \(stage.rawValue).\(index): \(error)")
            }
        } catch {
            fail(.environment, "cannot start \(stage.rawValue).\(index): \(error)")
        }
    }

    /// Takes `r` out of its stage: upstream stops sending to it, it finishes and exits 0.
    func drain(_ r: ReplicaRecord) {
        switch r.state {
        case .starting:
            r.state = .stopping
            Sys.kill(r.pid, SIGTERM)
        case .ready:
            r.state = .draining
            broadcastMembership(of: r.stage)
            try? r.control?.send(using: scratch) { $0.frame(.drain) }
        default: break
        }
    }

    /// The membership message listing `stage`'s ready replicas.
    func membership(of stage: StageKind?) -> Membership {
        guard let stage else {
            return Membership(generation: generation, members: [.init(node: .sink, replica: 0, path: runDir.sinkPath)])
        }
        return Membership(generation: generation, members: replicas(of: stage).filter { $0.state == .ready }.map(\.member))
    }

    /// Tells everyone sending to `stage` its current replicas.
    func broadcastMembership(of stage: StageKind) {
        generation += 1
        let m = membership(of: stage)
        guard let previous = stage.previous else {
            source.downstream.apply(m)
            return
        }
        for r in replicas(of: previous) where r.state == .ready || r.state == .draining {
            try? r.control?.send(using: scratch) { m.encode(into: $0) }
        }
    }

    /// A replica reported ready: give it its downstream, and make it a member.
    func becameReady(_ r: ReplicaRecord) {
        guard r.state == .starting else { return }
        r.state = .ready
        r.wasReady = true
                generation += 1
        let downstream = membership(of: r.stage.next)
        try? r.control?.send(using: scratch) { downstream.encode(into: $0) }
        broadcastMembership(of: r.stage)
    }

    /// Collects exited children and decides what each exit means.
    func reap(now: UInt64) {
        while let (pid, termination, usage) = Spawn.reap() {
            guard let r = replicas.first(where: { $0.pid == pid && $0.state != .exited }) else { continue }
            let was = r.state
            reconcileNeeded = true
            // Its last words (a final heartbeat, a failure) may still wait on the control socket.
            if let c = r.control {
                _ = try? c.readAvailable()
                handleControlFrames(of: r)
            }
            r.state = .exited
            r.termination = termination
            stageUsage[r.stage, default: StageUsage()].add(usage, peakRSS: Int(r.heartbeat.peakRSSBytes))
            r.control?.close()
            r.control = nil
            let work = StatePage.read(path: r.statePath)
            try? Sys.unlink(r.socketPath)
            try? Sys.unlink(r.statePath)
            if was == .ready || was == .draining { broadcastMembership(of: r.stage) }
            guard phase == .running else { continue }
            switch (was, termination) {
            case (.stopping, _) where !r.startFailed, (.draining, .exited(0)):
                continue
            case (.starting, .exited(let status)) where status != 0:
                // It could not start (bad model, bad config): restarting will not help.
                fail(.stageFailed, "\(r.name) failed to start (\(termination)): \(r.failure ?? "no message")\(LogTail.excerpt(r.logPath))")
            case (.draining, _):
                // It was leaving anyway: nothing to restart, but what it held must be sent again.
                Log.info("\(r.name) (pid \(r.pid)) \(termination) while draining; re-sending the batches in flight")
                source.replay { self.sink.covers($0, offset: $1, count: $2) }
            default:
                crashed(r, termination: termination, work: work, now: now)
            }
        }
    }

    private func crashed(_ r: ReplicaRecord, termination: Spawn.Termination, work: StatePage.Work?, now: UInt64) {
        var counts = true
        // Only a death the replica brought on itself (a crash, an abort, a hang we ended) can be
        // the batch's fault; a kill from outside (kill -9, the OOM killer) never is.
        if let work, r.killedAsHung || termination.isSelfInflicted {
            switch source.blame(work, node: r.stage.node, termination: "\(termination)") {
            case .retry, .unknown:
                break
            case .isolating(let records, let refused):
                counts = false
                let lines = source.batch(work.sequence).map { "lines \($0.firstLine)–\($0.lastLine)" } ?? "a batch"
                Log.error("\(lines) crashed \(r.stage.rawValue) replicas again: re-sending its \(records) records one by one to find the one at fault")
                if let refused { deliverSettled(work.sequence, offset: refused.offset, rejects: refused.rejects) }
            case .poison(let sequence, let offset, let reject):
                counts = false
                Log.error("line \(reject.line) crashed \(r.stage.rawValue) replicas \(source.crashesBeforeIsolation) times: reported as REPLICA_CRASH and skipped")
                deliverSettled(sequence, offset: offset, rejects: [reject])
            }
        }
        let spec = config.stage(r.stage)
        let jitter = Double.random(in: 0...1, using: &rng)
        let quick = !r.wasReady || now - r.startedNanos < RestartHistory.quickNanos
        guard restarts[r.stage]!.crashed(now: now, spec: spec, jitter: jitter, counts: counts, quick: quick) else {
            fail(.stageFailed, "stage \(r.stage.rawValue) failed: \(r.name) (pid \(r.pid)) \(termination), more than \(spec.maxRestarts) restarts within \(spec.restartWindowSeconds) s (restart.max); last committed input line \(sink.lastCommittedLine)\(LogTail.excerpt(r.logPath))")
            return
        }
        Log.info("\(r.name) (pid \(r.pid)) \(termination); restarting it and re-sending the batches in flight")
        source.replay { self.sink.covers($0, offset: $1, count: $2) }
    }

    /// Hands the sink records settled without the stages (refused by the source, or poison).
    private func deliverSettled(_ sequence: UInt64, offset: Int, rejects: [Reject]) {
        let piece = Sink.Piece(text: [], rejects: rejects, summary: nil, rows: 0, records: rejects.count)
        sink.addPart(piece, sequence: sequence, offset: offset) { self.source.batch($0).map { ($0.recordCount, $0.lastLine) } }
    }

    /// `receiver` closed its connection from the replica `pid` because a frame from it failed
    /// validation: that replica is broken. Killing it makes it a crash like any other: what it
    /// held is sent again and it is restarted (within `restart.max`). A pid that is not one of
    /// ours (the source's own, or a stranger's) is left alone.
    func replaceReplica(pid: Int32, sentAnInvalidFrameTo receiver: String) {
        // Only a replica not yet reaped (its pid is still ours) and not already being killed.
        guard phase == .running, let bad = replicas.first(where: { $0.pid == pid && $0.isAlive && $0.state != .stopping }),
              !bad.killedForInvalidFrame else { return }
        Log.error("\(bad.name) (pid \(pid)) sent \(receiver) a frame that failed validation: killing it")
        bad.killedForInvalidFrame = true
        Sys.kill(pid, SIGKILL)
    }

    /// Kills replicas whose processing loop has gone quiet, and replicas that take too long to start.
    func checkHeartbeats(now: UInt64) {
        for r in replicas where (r.state == .ready || r.state == .draining) && now > r.lastBeatNanos + hangNanos {
            Log.error("\(r.name) (pid \(r.pid)) sent no heartbeat for \(Double(now - r.lastBeatNanos) / 1e9) s: killing it")
            Sys.kill(r.pid, SIGKILL)
            r.killedAsHung = true
            r.lastBeatNanos = now
        }
        for r in replicas where r.state == .starting && now > r.startedNanos + startTimeoutNanos {
            Log.error("\(r.name) (pid \(r.pid)) did not become ready within \(Double(startTimeoutNanos) / 1e9) s: killing it")
            Sys.kill(r.pid, SIGKILL)
            r.state = .stopping
            r.startFailed = true
        }
    }
}

/// The last lines of a replica's log, for error messages.
enum LogTail {
    static func excerpt(_ path: String, lines: Int = 5) -> String {
        guard let bytes = try? Sys.readFile(path, limit: 1 << 20) else { return "" }
        let text = String(decoding: bytes, as: UTF8.self)
        let tail = text.split(separator: "\n").suffix(lines)
        guard !tail.isEmpty else { return "" }
        return "\n  its log (\(path)):\n" + tail.map { "    " + $0 }.joined(separator: "\n")
    }
}
