import Config
import Glibc
import Messages
import Runtime

/// `pipeline up`: starts the replicas, runs the source and the sink, answers the control
/// socket, reconciles replica counts, restarts crashed replicas, and stops everything at the end.
final class Supervisor {
    enum Phase: Equatable {
        /// Streaming.
        case running
        /// Every replica has been told to exit; waiting for them.
        case stopping
    }

    let config: PipelineConfig
    let configPath: String
    let configText: String
    let runDir: RunDirectory
    let binaries: StageBinaries
    let cookie: String
    let environment: [String]

    /// Data frames each downstream grants each upstream connection.
    let credits: UInt32 = getenv("PIPELINE_CREDITS").flatMap { UInt32(String(cString: $0)) } ?? 4
    let heartbeatMillis: UInt32 = 250
    /// A ready replica silent this long is considered hung.
    let hangNanos: UInt64
    /// A unit sent this long ago and still not at the sink is sent again.
    let resendNanos: UInt64
    /// A replica not ready this long after it was started is killed.
    let startTimeoutNanos: UInt64

    var desired: [StageKind: Int] = [:]
    var replicas: [ReplicaRecord] = []
    var nextIndex: [StageKind: Int] = [:]
    var restarts: [StageKind: RestartHistory] = [:]
    var generation: UInt64 = 0
    var phase = Phase.running
    var exitCode = ExitCode.ok
    var rng = SystemRandomNumberGenerator()

    /// The control socket: replicas and clients get in with a hello from their own pid.
    let controlGate: HandshakeGate
    var clients: [ClientSession] = []
    let source: Source
    let sink: Sink
    let writer: OutputWriter
    let wakeup: Wakeup
    let signalFD: Int32
    let scratch = FrameBuffer(capacity: 64 << 10)
    let startNanos = Sys.monotonicNanos()
    var interrupts = 0
    var outputClosed = false
    /// When replicas still running after a stop are killed.
    var stopDeadline: UInt64 = .max
    /// A second signal: end without waiting for anything, the output writer included.
    var forced = false
    /// When the periodic checks (re-sends, heartbeats, replica counts) run next.
    var nextHousekeeping: UInt64 = 0
    /// A replica exited or the desired counts changed: reconcile without waiting.
    var reconcileNeeded = true
    /// CPU time and peak memory of every replica that has exited, per stage.
    var stageUsage: [StageKind: StageUsage] = [:]
    /// Where to write the run's statistics at the end (`up --stats FILE`).
    var statsPath: String?

    init(config: PipelineConfig, configPath: String, configText: String, runDir: RunDirectory, options: UpOptions,
         binaries: StageBinaries, cookie: String, signalFD: Int32, errorsFD: Int32, csvHeader: String?) throws {
        self.config = config
        self.configPath = configPath
        self.configText = configText
        self.runDir = runDir
        self.binaries = binaries
        self.cookie = cookie
        self.signalFD = signalFD
        let hangSeconds = getenv("PIPELINE_HANG_SECONDS").flatMap { Double(String(cString: $0)) } ?? 5
        hangNanos = UInt64(hangSeconds * 1e9)
        let resendSeconds = getenv("PIPELINE_RESEND_SECONDS").flatMap { Double(String(cString: $0)) } ?? 10
        resendNanos = UInt64(resendSeconds * 1e9)
        let startSeconds = getenv("PIPELINE_START_SECONDS").flatMap { Double(String(cString: $0)) } ?? 30
        startTimeoutNanos = UInt64(startSeconds * 1e9)
        environment = Spawn.currentEnvironment().filter { !$0.hasPrefix("PIPELINE_COOKIE=") } + ["PIPELINE_COOKIE=\(cookie)"]
        for stage in StageKind.allCases {
            desired[stage] = options.scales[stage.rawValue] ?? config.stage(stage).replicas
            nextIndex[stage] = 1
            restarts[stage] = RestartHistory()
        }
        controlGate = try HandshakeGate(path: runDir.controlPath, cookie: cookie)
        wakeup = try Wakeup()
        writer = OutputWriter(wakeup: wakeup)
        let sinkSet = try UpstreamSet(path: runDir.sinkPath, cookie: cookie, expected: .aggregate, initialCredits: UInt32(config.pipeline.window))
        sink = Sink(upstream: sinkSet, writer: writer, outputFD: 1, errorsFD: errorsFD,
                    preamble: csvHeader)
        let downstream = DownstreamSet(hello: Hello(purpose: .data, node: .source, replica: 0, pid: getpid(), cookie: cookie))
        source = Source(format: config.input.format, batchRows: config.pipeline.batchRows, lingerMillis: config.pipeline.lingerMs,
                        window: config.pipeline.window, maxRecordBytes: config.input.maxLineBytes, downstream: downstream)
        // A link to ingest lost without its replica dying (it closed the connection) took the
        // batches it held along: send them again.
        downstream.onLinkLost = { [unowned self] _ in
            self.source.replay { self.sink.covers($0, offset: $1, count: $2) }
        }
    }

    /// Runs until the input is done and every replica has stopped; returns the exit code.
    func run() -> ExitCode {
        var poll = PollSet()
        while true {
            let now = Sys.monotonicNanos()
            do {
                try step(now: now)
            } catch {
                fail(.internalError, "supervisor: \(error)")
            }
            if phase == .stopping && !replicas.contains(where: \.isAlive) { break }
            if phase == .stopping && now > stopDeadline {
                // A replica that ignores the shutdown (stopped, stuck) must not hold the run open.
                for r in replicas where r.isAlive && Sys.kill(r.pid, SIGKILL) {
                    Log.error("\(r.name) (pid \(r.pid)) did not stop within 10 s: killed")
                }
                stopDeadline = .max
            }

            poll.removeAll()
            let signalSlot = poll.add(signalFD)
            let wakeSlot = poll.add(wakeup.readEnd)
            let inputSlot = phase == .running && source.wantsInput ? poll.add(0) : nil
            let controlSlots = controlGate.register(in: &poll)
            let replicaSlots = replicas.map { r in r.control.map { poll.add($0.fd, write: $0.wantsWrite) } }
            let clientSlots = clients.map { poll.add($0.connection.fd, read: !$0.connection.peerClosed, write: $0.connection.wantsWrite) }
            let sinkSlots = sink.upstream.register(in: &poll)
            let sourceSlots = source.downstream.register(in: &poll)
            do {
                try poll.wait(timeoutMillis: timeout(now: now))
            } catch {
                fail(.internalError, "poll: \(error)")
                continue
            }

            if poll.readable(signalSlot) { handleSignals() }
            if poll.readable(wakeSlot) { wakeup.clear() }
            if let slot = inputSlot, poll.readable(slot) {
                do { try source.readInput(fd: 0) } catch {
                    fail(.io, "reading stdin: \(error)")
                }
            }
            handlePending(controlGate.handle(poll, slots: controlSlots))
            for (replica, slot) in zip(replicas, replicaSlots) {
                if let slot { handleControl(of: replica, poll: poll, slot: slot) }
            }
            handleClients(poll, slots: clientSlots)
            sink.upstream.handle(poll, slots: sinkSlots)
            source.downstream.handle(poll, slots: sourceSlots)
        }
        return finish()
    }

    /// Commits what the sink has received, in order.
    func collectOutput() {
        sink.collect { self.source.batch($0).map { ($0.recordCount, $0.lastLine) } }
    }

    /// One round of bookkeeping between polls.
    private func step(now: UInt64) throws {
        reap(now: now)
        collectOutput()
        while let pid = sink.upstream.takeInvalidPeer() { replaceReplica(pid: pid, sentAnInvalidFrameTo: "the sink") }
        if let written = writer.writtenThrough { source.written(through: written) }
        if let failure = writer.failure, !outputClosed {
            outputClosed = true
            if failure.errno == EPIPE {
                // `| head` closed our stdout: stop quietly.
                stop(.ok)
            } else {
                fail(.io, "writing stdout: \(failure)")
            }
        }
        if phase == .running {
            let limit = config.input.maxErrors
            if limit >= 0 && sink.rejected > limit {
                fail(.inputErrors, "stopped: \(sink.rejected) records rejected, more than input.max_errors = \(limit); last committed input line \(sink.lastCommittedLine)")
            }
        }
        if phase == .running {
            source.tick(now: now)
            // Housekeeping scans every replica and batch: every 20 ms is plenty, and the loop
            // wakes thousands of times a second while data flows.
            if now >= nextHousekeeping || reconcileNeeded {
                source.resendOverdue(now: now, after: resendNanos) { self.sink.covers($0, offset: $1, count: $2) }
                checkHeartbeats(now: now)
                reconcile(now: now)
                answerClients(now: now)
                nextHousekeeping = now + 20_000_000
                reconcileNeeded = false
            }
            source.pump(now: now)
            if source.isFinished { stop(exitCode) }
        } else {
            answerClients(now: now)
        }
    }

    private func timeout(now: UInt64) -> Int32 {
        var deadline = now + 250_000_000
        if let linger = source.lingerDeadline { deadline = min(deadline, linger) }
        for stage in StageKind.allCases {
            let notBefore = restarts[stage]!.notBefore
            if notBefore > now { deadline = min(deadline, notBefore) }
        }
        return Int32(max(0, (deadline - min(deadline, now) + 999_999) / 1_000_000))
    }

    /// Ends the run: every replica is told to exit; `run` returns once all have.
    func stop(_ code: ExitCode) {
        guard phase == .running else { return }
        if exitCode == .ok { exitCode = code }
        phase = .stopping
        stopDeadline = Sys.monotonicNanos() + 10_000_000_000
        source.stopInput()
        // Ingest replicas close their end as they exit: expected now, not a loss.
        source.downstream.retireAll()
        sink.upstream.expectClosing = true
        for r in replicas where r.isAlive {
            r.state = .stopping
            if let c = r.control {
                try? c.send(using: scratch) { $0.frame(.shutdown) }
            } else {
                Sys.kill(r.pid, SIGTERM)
            }
        }
    }

    /// Ends the run with an error message on stderr.
    func fail(_ code: ExitCode, _ message: String) {
        guard phase == .running else { return }
        Log.error(message)
        exitCode = code
        stop(code)
    }

    private func handleSignals() {
        for signal in SignalPipe.drain() {
            switch signal {
            case SIGINT, SIGTERM, SIGHUP:
                interrupts += 1
                if interrupts == 1 {
                    Log.info("interrupted: finishing the batches already read (again to force)")
                    exitCode = .interrupted
                    source.stopInput()
                } else {
                    Log.info("forced stop")
                    exitCode = .interrupted
                    forced = true
                    phase = .stopping
                    source.downstream.retireAll()
                    sink.upstream.expectClosing = true
                    for r in replicas where r.isAlive {
                        r.state = .stopping
                        Sys.kill(r.pid, SIGKILL)
                    }
                }
            default: break  // SIGCHLD: reaped in step()
            }
        }
    }

    private func finish() -> ExitCode {
        reap(now: Sys.monotonicNanos())
        if forced {
            // The writer may be blocked on a stdout nobody reads: do not wait for it.
            Log.info("\(source.recordsRead) records read; stopped without writing what was still queued")
            return exitCode
        }
        collectOutput()
        sink.finish()
        writer.finish()
        let seconds = Double(Sys.monotonicNanos() - startNanos) / 1e9
        Log.info(RunSummary.line(sink: sink, recordsRead: source.recordsRead, seconds: seconds))
        if let statsPath {
            do {
                try Sys.writeFile(statsPath, RunStatistics.json(self, seconds: seconds))
            } catch {
                Log.error("cannot write --stats file \(statsPath): \(error)")
            }
        }
        for client in clients where client.waitingForDown {
            try? client.connection.send(using: scratch) { Reply(status: 0, text: "stopped").encode(into: $0) }
            _ = try? client.connection.flush()
        }
        try? Sys.unlink(runDir.sinkPath)
        return exitCode
    }
}
