import Config
import ControlCore
import Glibc
import IngestStage
import Messages
import PipelineSink
import PipelineSource
import Runtime

/// `pipeline up`'s loop: the thin shell around the `ControlCore`. It polls stdin, the control
/// socket, the replicas' control connections, the source's links to ingest and the sink's links
/// from aggregate; turns what happens into events for the core; and carries out the actions the
/// core returns (spawning, signalling, sending frames, writing output). Every decision is the
/// core's.
public final class Supervisor {
    typealias Core = ControlCore<Sink.Piece>

    let config: PipelineConfig
    let configPath: String
    let configText: String
    let runDir: RunDirectory
    let binaries: StageBinaries
    let cookie: String
    let environment: [String]
    /// Data frames each downstream grants each upstream connection (`PIPELINE_CREDITS`).
    let credits: UInt32
    /// `PIPELINE_SHARED_MEMORY_MB`: each data connection's ring (0: everything over the sockets).
    let sharedMemoryMiB: Int
    let heartbeatMillis: UInt32 = 250

    var core: Core
    /// Live replica processes, by id and by pid.
    var processes: [ReplicaID: ReplicaProcess] = [:]
    var byPid: [pid_t: ReplicaID] = [:]
    let source: Source
    let sink: Sink
    let wakeup: Wakeup
    let signalFD: Int32
    /// The control socket: replicas and clients get in with a hello from their own pid.
    let controlGate: HandshakeGate
    var clients: [ClientSession] = []
    var nextClient = 0
    let scratch = FrameBuffer(capacity: 64 << 10)
    let startNanos = Sys.monotonicNanos()

    /// The run as `pipeline top` and `/metrics` show it, now.
    func snapshot() -> StatusSnapshot {
        let now = Sys.monotonicNanos()
        var s = metrics.snapshot(now: now, startedAt: startNanos, core: core, live: Array(processes.values), sink: sink,
                                 bytesIn: source.bytesRead, inputSize: inputSize ?? 0, model: config.model.path,
                                 metricsAddress: metricsServer?.boundAddress ?? "")
        s.precision = config.model.precision.rawValue
        s.sharedMemoryMiB = UInt32(sharedMemoryMiB)
        s.sourceSent = source.downstream.sent
        s.models = RolloutTable.snapshot(core.rollout)
        if let scaler = autoscaler {
            s.autoscaleCores = scaler.settings.cores
            for i in s.stages.indices {
                guard let stage = StageKind(rawValue: s.stages[i].name) else { continue }
                s.stages[i].scaledUp = UInt64(scaler.grown[stage] ?? 0)
                s.stages[i].scaledDown = UInt64(scaler.shrunk[stage] ?? 0)
            }
            if let (c, at) = scaler.lastChange {
                s.autoscaleLast = "\(c.stage.rawValue) \(c.from) -> \(c.to) at \(StatusTable.format1(Double(at - min(at, startNanos)) / 1e9)) s: \(c.reason)"
            }
        }
        return s
    }
    var rng = SystemRandomNumberGenerator()
    /// Events waiting for the core (actions can cause events: a spawn's pid, a split's records).
    private var events: [Core.Event] = []
    private var dispatching = false
    private var inputEnded = false
    private var headerChecked = false
    private var digestChecked = false
    private var writtenThrough: UInt64?
    /// When the core's periodic checks (deadlines, counts, re-sends) run next.
    private var nextTick: UInt64 = 0
    /// CPU time and peak memory of every replica that has exited, per stage.
    var stageUsage: [StageKind: StageUsage] = [:]
    /// Where to write the run's statistics at the end (`up --stats FILE`).
    let statsPath: String?
    /// One JSON line per decision of the core (`logs events`, `--events FILE`).
    let eventLog: EventLog
    /// Rotates events.log (and a detached run's pipeline.log) by size.
    let logRotator: LogRotator
    /// How the errors stream is named in messages: "stderr" or the `--errors` path.
    let errorsName: String
    /// How messages name the input: "stdin" or the `--input` path.
    let inputName: String
    /// What the run counts, for `/metrics`, `top` and progress.
    var metrics = RunMetrics()
    /// The size of stdin when it is a regular file (of the split, with `--split`).
    let inputSize: UInt64?
    /// `--split I/N`: the part of the input file this run scores.
    let split: (split: InputSplit, range: InputSplit.Range)?
    /// Whether the progress line is shown, and when it is redrawn next.
    let showsProgress: Bool
    private var nextProgress: UInt64 = 0
    /// Sizes the stages to the load (`--autoscale`, `[autoscale]`), fed every interval.
    var autoscaler: Autoscaler?
    private var autoscaleInterval: UInt64 = 0
    private var nextAutoscale: UInt64 = 0
    /// Each stage's totals at the autoscaler's last look.
    private var autoscaleBase: (at: UInt64, totals: [StageKind: RunMetrics.StageTotals], admission: Histogram)?
    /// `/metrics` and `/healthz`, when asked for (`--metrics`, `[metrics] listen`).
    let metricsServer: HTTPServer?
    /// The model file's sha256, for `pipeline_model_info`, computed on its own thread.
    let modelDigest: FileDigest?
    /// Called once, the first time every stage has a ready replica (`up -d` returns then).
    public var onReady: (() -> Void)?
    /// The model versions the replicas may be asked to hold, by slot (the live ones, and one being checked).
    var versionConfigs: [UInt16: ModelVersion] = [:]
    /// Their weight caches' file names in the run directory.
    var versionCaches: [UInt16: String] = [:]
    /// When the run directory is next swept of weight caches no live version uses.
    var nextWeightSweep: UInt64 = 0
    /// The CSV header the output starts with (a rollout must keep it).
    let csvHeader: String?
    /// A `pipeline rollout` whose version is being checked on its own thread.
    var versionCheck: VersionCheck?

    public init(config: PipelineConfig, configPath: String, configText: String, runDir: RunDirectory, options: RunOptions,
                binaries: StageBinaries, cookie: String, signalFD: Int32, errorsFD: Int32, csvHeader: String?,
                metricsServer: HTTPServer? = nil, driftProfile: DriftProfile? = nil) throws {
        self.config = config
        self.configPath = configPath
        self.configText = configText
        self.runDir = runDir
        self.binaries = binaries
        self.cookie = cookie
        self.signalFD = signalFD
        errorsName = options.errorsName
        inputName = options.inputName
        split = options.split
        inputSize = options.split.map { $0.range.end - $0.range.start } ?? Sys.regularFileSize(0)
        // Not when stdout is the same screen: the records would scroll through the line.
        showsProgress = options.progress == .on || (options.progress == .auto && Sys.isTerminal(2) && !Sys.isTerminal(1))
        statsPath = options.statsPath
        let tunables = options.tunables
        func nanos(_ seconds: Double) -> UInt64 { UInt64(seconds * 1e9) }
        credits = UInt32(tunables.credits)
        sharedMemoryMiB = tunables.sharedMemoryMiB
        var stages: [StageKind: StageSpec] = [:]
        for stage in StageKind.allCases {
            var spec = config.stage(stage)
            if let n = options.scales[stage.rawValue] { spec.replicas = n }
            stages[stage] = spec
        }
        var replicas = Reconciler.Settings(stages: stages)
        replicas.hangNanos = nanos(tunables.hangSeconds)
        replicas.startTimeoutNanos = nanos(tunables.startSeconds)
        replicas.stopTimeoutNanos = nanos(tunables.stopSeconds)
        var batches = BatchLedger<Sink.Piece>.Settings(window: config.pipeline.window)
        batches.resendNanos = nanos(tunables.resendSeconds)
        var settings = Core.Settings(reconciler: replicas, ledger: batches, maxErrors: config.input.maxErrors)
        settings.failWhenEverythingRejected = !config.input.maxErrorsSet
        settings.inputFormat = config.input.format
        let versionID = try Self.versionID(of: config)
        settings.initialVersion = Rollout.Version(slot: 0, id: versionID)
        settings.watchNanos = nanos(tunables.rolloutWatchSeconds)
        versionConfigs[0] = ModelVersion(slot: 0, id: versionID, configPath: configPath, configText: configText,
                                         classLabels: config.output.labels ?? [],
                                         modelIdentity: FileIdentity.current(config.model.path)?.text ?? "")
        versionCaches[0] = Self.weightCacheName(config)
        self.csvHeader = csvHeader
        if let driftProfile, let spec = config.drift { settings.drift = DriftWatch(profile: driftProfile, spec: spec) }
        core = Core(settings: settings)

        environment = Spawn.currentEnvironment().filter { !$0.hasPrefix("PIPELINE_COOKIE=") } + ["PIPELINE_COOKIE=\(cookie)"]
        controlGate = try HandshakeGate(path: runDir.controlPath, cookie: cookie)
        wakeup = try Wakeup()
        self.metricsServer = metricsServer
        if options.autoscale || config.autoscale != nil {
            let spec = config.autoscale ?? AutoscaleSpec()
            var settings = Autoscaler.Settings(cores: spec.cores ?? Double(Sys.processorCount()))
            settings.target = spec.target
            settings.intervalNanos = UInt64(spec.intervalSeconds * 1e9)
            settings.scaleUpAfterNanos = UInt64(spec.scaleUpAfterSeconds * 1e9)
            settings.scaleDownAfterNanos = UInt64(spec.scaleDownAfterSeconds * 1e9)
            for stage in StageKind.allCases {
                let spec = config.stage(stage)
                settings.minReplicas[stage] = spec.minReplicas
                settings.maxReplicas[stage] = spec.maxReplicas
            }
            autoscaler = Autoscaler(settings: settings)
            autoscaleInterval = settings.intervalNanos
        }
        modelDigest = metricsServer == nil ? nil : FileDigest(path: config.model.path, wakeup: wakeup)
        let runLog = runDir.logDirectory + "/events.log"
        eventLog = try EventLog(paths: [runLog] + (options.eventsPath.map { $0 == runLog ? [] : [$0] } ?? []),
                                wakeup: wakeup, startNanos: startNanos)
        logRotator = LogRotator(runDir: runDir, eventsFD: eventLog.runLogFD, tunables: tunables)
        let sinkSet = try UpstreamSet(path: runDir.sinkPath, cookie: cookie, expected: .aggregate, initialCredits: UInt32(config.pipeline.window))
        let format = config.output.format
        // Split I > 0 of a file: the CSV header is split 0's to write (the parts concatenate to one output).
        let splitIndex = options.split?.split.index ?? 0
        sink = Sink(upstream: sinkSet, wakeup: wakeup, outputFD: 1, errorsFD: errorsFD, preamble: splitIndex == 0 ? csvHeader : nil,
                    countRecords: { OutputRecords.count(in: $0, format: format) })
        let downstream = DownstreamSet(hello: Hello(purpose: .data, node: .source, replica: 0, pid: Sys.processID(), cookie: cookie),
                                       ringBytes: tunables.sharedMemoryMiB << 20)
        source = Source(format: config.input.format, batchRows: config.pipeline.batchRows, lingerMillis: config.pipeline.lingerMs,
                        maxRecordBytes: config.input.maxLineBytes, downstream: downstream,
                        boundaryRecords: driftProfile == nil ? 0 : config.drift?.window ?? 0, split: options.split?.range)
        // A link to ingest lost without its replica dying (it closed the connection) took the
        // batches it held along.
        downstream.onLinkLost = { [unowned self] _ in self.dispatch(.linkLost) }
    }

    /// Hands `event` to the core and carries out what it decides, including the decisions on
    /// the events that carrying out causes.
    func dispatch(_ event: Core.Event) {
        events.append(event)
        // An action's follow-up event (a spawn's pid) queues behind the one being handled.
        guard !dispatching else { return }
        dispatching = true
        defer { dispatching = false }
        while !events.isEmpty {
            let next = events.removeFirst()
            for action in core.handle(next, now: Sys.monotonicNanos()) { perform(action) }
        }
    }

    /// Runs until the input is done and every replica has stopped; returns the exit code.
    public func run() -> ExitCode {
        eventLog.started(config: configPath, model: config.model.path, modelVersion: core.rollout.primary.id, precision: config.model.precision.rawValue,
                         sharedMemoryMiB: sharedMemoryMiB, metrics: metricsServer?.boundAddress,
                         replicas: Dictionary(uniqueKeysWithValues: StageKind.allCases.map { ($0, core.reconciler.desired[$0] ?? 0) }),
                         drift: core.drift?.spec,
                         split: split.map { (index: $0.split.index, count: $0.split.count, start: $0.range.start, end: $0.range.end, firstLine: $0.range.firstLine) },
                         binaries: binaries)
        if let (s, r) = split {
            Log.info("split \(s) of \(inputName): bytes \(r.start)–\(r.end) (\(r.end - r.start) bytes), from input line \(r.firstLine)")
        }
        var poll = PollSet()
        while true {
            let now = Sys.monotonicNanos()
            step(now: now)
            if core.isDone { break }

            poll.removeAll()
            let signalSlot = poll.add(signalFD)
            let wakeSlot = poll.add(wakeup.readEnd)
            let inputSlot = !core.stopping && source.reading && core.ledger.hasRoom ? poll.add(0) : nil
            let controlSlots = controlGate.register(in: &poll)
            let replicaList = Array(processes.values)
            let replicaSlots = replicaList.map { r in r.control.map { poll.add($0.fd, write: $0.wantsWrite) } }
            let clientSlots = clients.map { poll.add($0.connection.fd, read: !$0.connection.peerClosed, write: $0.connection.wantsWrite) }
            let sinkSlots = sink.upstream.register(in: &poll)
            let sourceSlots = source.downstream.register(in: &poll)
            let metricsSlots = metricsServer?.register(in: &poll, now: now)
            do {
                try poll.wait(timeoutMillis: timeout(now: now))
            } catch {
                dispatch(.fail(.internalError, "poll: \(error)"))
                continue
            }

            if poll.readable(signalSlot) { handleSignals() }
            if poll.readable(wakeSlot) { wakeup.clear() }
            if let slot = inputSlot, poll.readable(slot) {
                do { try source.readInput(fd: 0) } catch {
                    source.stopReading()
                    dispatch(.fail(.io, "reading stdin: \(error)"))
                }
                checkHeader()
            }
            handlePending(controlGate.handle(poll, slots: controlSlots))
            for (replica, slot) in zip(replicaList, replicaSlots) {
                if let slot { handleControl(of: replica, poll: poll, slot: slot) }
            }
            handleClients(poll, slots: clientSlots)
            sink.upstream.handle(poll, slots: sinkSlots)
            source.downstream.handle(poll, slots: sourceSlots)
            if let metricsServer, let metricsSlots {
                metricsServer.handle(poll, slots: metricsSlots, now: Sys.monotonicNanos(), respond: answer)
            }
        }
        return finish()
    }

    /// One round of bookkeeping between polls: what the children, the sink and the writer did,
    /// batches to cut, the core's periodic checks, and frames to send.
    private func step(now: UInt64) {
        reap()
        sink.receive { sequence, part, piece in dispatch(.batch(.received(sequence, part: part, piece))) }
        while let pid = sink.upstream.takeInvalidPeer() { dispatch(.replica(.invalidFrame(fromPid: pid, receiver: "the sink"))) }
        collectWritten()
        cutBatches(now: now)
        if now >= nextTick || core.nextDeadline.map({ now >= $0 }) == true {
            // Every 20 ms is plenty for deadlines and re-sends; the loop wakes thousands of
            // times a second while data flows.
            nextTick = now + 20_000_000
            dispatch(.tick)
        }
        if let onReady, StageKind.allCases.allSatisfy({ core.reconciler.replicas(of: $0).contains { $0.state == .ready } }) {
            self.onReady = nil
            onReady()
        }
        if autoscaler != nil && now >= nextAutoscale && !core.stopping {
            nextAutoscale = now + autoscaleInterval
            autoscale(now: now)
        }
        if metrics.wantsSample(now: now) {
            metrics.sample(now: now, recordsIn: UInt64(core.ledger.recordsRead), recordsOut: UInt64(sink.rows), live: Array(processes.values))
        }
        for failure in eventLog.failures() {
            dispatch(.outputFailed(.events(failure.name), closed: failure.error.errno == EPIPE, message: failure.error.reason))
        }
        rotateLogs(now: now)
        finishVersionCheck()
        if now >= nextWeightSweep {
            nextWeightSweep = now + 10_000_000_000
            sweepWeightCaches()
        }
        if !digestChecked, let digest = modelDigest, digest.isDone {
            digestChecked = true
            if let error = digest.error { Log.error("cannot hash \(digest.path) for pipeline_model_info (its sha256 stays empty): \(error)") }
        }
        if showsProgress && now >= nextProgress && !core.stopping {
            nextProgress = now + Progress.intervalNanos
            Log.setStatus(Progress.fitted(Progress.line(snapshot()), columns: Sys.terminalSize(2)?.columns))
        }
        let credit = source.downstream.availableCredit
        if credit > 0 && core.ledger.queued > 0 && !core.stopping { dispatch(.batch(.sendable(credit))) }
    }

    /// Cuts batches while the window has room; reports the end of the input once all is cut.
    private func cutBatches(now: UInt64) {
        while core.ledger.hasRoom && !core.stopping,
              let cut = source.cut(sequence: core.ledger.nextSequence, model: core.rollout.slots(for: core.ledger.nextSequence), now: now) {
            // Its own time, not the step's: the credit wait and the latency start at the cut.
            metrics.cut(core.ledger.nextSequence, records: cut.records, now: Sys.monotonicNanos())
            dispatch(.batch(.cut(cut)))
        }
        if source.isDrained && !inputEnded {
            inputEnded = true
            dispatch(.batch(.inputEnded))
        }
    }

    /// Counts what the writer finished; reports written batches and failed streams.
    private func collectWritten() {
        for outcome in sink.collectWritten() {
            let stream: Core.Stream = outcome.fd == sink.outputFD ? .stdout : .errors(errorsName)
            let closed = outcome.error.errno == EPIPE
            dispatch(.outputFailed(stream, closed: closed, message: stream == .stdout && !closed ? stoppedAt(outcome) : outcome.error.reason))
        }
        if let through = sink.writtenThrough, through != writtenThrough {
            writtenThrough = through
            source.written(through: through)
            metrics.written(through: through, now: Sys.monotonicNanos())
            dispatch(.batch(.written(through: through)))
        }
    }

    /// Once the CSV header is read: a header no record can satisfy stops the run before any
    /// record is cut, with one error (exit 11) instead of one reject per record.
    private func checkHeader() {
        guard !headerChecked, let header = source.splitter.header else { return }
        headerChecked = true
        if let problem = HeaderCheck.problem(header: header, input: config.input) {
            source.stopReading()
            dispatch(.fail(.inputMismatch, "\(inputName): \(problem)"))
        }
    }

    /// Feeds the autoscaler what each stage did since its last look, and carries out its changes.
    private func autoscale(now: UInt64) {
        let live = Array(processes.values)
        let totals = Dictionary(uniqueKeysWithValues: StageKind.allCases.map { ($0, metrics.totals($0, live: live)) })
        let admission = metrics.admission
        defer { autoscaleBase = (now, totals, admission) }
        guard let base = autoscaleBase, now > base.at, var scaler = autoscaler else { return }
        let seconds = Double(now - base.at) / 1e9
        var loads: [StageKind: Autoscaler.StageLoad] = [:]
        for stage in StageKind.allCases {
            let t = totals[stage]!, b = base.totals[stage]!
            let queue = t.queue.since(b.queue)
            var wait = queue.count > 0 ? queue.sum / Double(queue.count) : 0
            if stage == .ingest {
                // A batch's wait for ingest starts in the supervisor, for an ingest credit: the two
                // parts' means add up to the mean of the whole.
                let before = admission.since(base.admission)
                if before.count > 0 { wait += before.sum / Double(before.count) }
            }
            loads[stage] = .init(ready: core.reconciler.replicas(of: stage).filter { $0.state == .ready }.count,
                                 demand: Double(t.busyNanos - min(t.busyNanos, b.busyNanos)) / 1e9 / seconds,
                                 queueWait: wait)
        }
        let changes = scaler.decide(loads, desired: core.reconciler.desired, now: now)
        autoscaler = scaler
        if !changes.isEmpty { dispatch(.autoscale(changes)) }
    }

    private func timeout(now: UInt64) -> Int32 {
        var deadline = now + 250_000_000
        if showsProgress { deadline = min(deadline, max(nextProgress, now)) }
        if core.ledger.hasRoom, let linger = source.lingerDeadline { deadline = min(deadline, linger) }
        if let due = core.nextDeadline, due > now { deadline = min(deadline, due) }
        if let due = metricsServer?.nextDeadline { deadline = min(deadline, max(due, now)) }
        return Int32(max(0, (deadline - min(deadline, now) + 999_999) / 1_000_000))
    }

    private func handleSignals() {
        for signal in SignalPipe.drain() where signal == SIGINT || signal == SIGTERM || signal == SIGHUP {
            dispatch(.interrupt)  // SIGCHLD: reaped in step()
        }
    }

    private func finish() -> ExitCode {
        if Log.statusLine != nil { Log.setStatus(nil) }
        reap()
        if core.forced {
            // The writer may be blocked on a stdout nobody reads: do not wait for it.
            Log.info("\(counted(core.ledger.recordsRead, "record")) read; stopped without writing what was still queued")
            return core.exitCode
        }
        // The CSV header alone is the output of an empty input, not of a run that failed.
        if core.exitCode == .ok { sink.finish() }
        // Wait for the writer with signals still heard: stdout may be stalled (an open pipe
        // nobody reads), and a second interrupt must still end the run at once.
        var poll = PollSet()
        while !sink.writer.isIdle && !core.forced {
            poll.removeAll()
            let signalSlot = poll.add(signalFD)
            let wakeSlot = poll.add(wakeup.readEnd)
            _ = try? poll.wait(timeoutMillis: 250)
            if poll.readable(signalSlot) { handleSignals() }
            if poll.readable(wakeSlot) { wakeup.clear() }
        }
        if core.forced {
            Log.info("\(counted(core.ledger.recordsRead, "record")) read; stopped without writing what was still queued")
            eventLog.finished(code: core.exitCode, recordsRead: core.ledger.recordsRead, written: sink.rows, rejected: sink.rejected)
            return core.exitCode
        }
        sink.writer.finish()
        collectWritten()
        let seconds = Double(Sys.monotonicNanos() - startNanos) / 1e9
        Log.info(RunSummary.line(sink: sink, recordsRead: core.ledger.recordsRead, seconds: seconds,
                                 labels: config.output.labels))
        if let drift = core.drift { Log.info(DriftTable.summary(drift)) }
        if let stats = core.rollout.shadowStats, let v = core.rollout.shadowVersion, core.rollout.candidate == v {
            Log.info("shadow \(v.id) against \(core.rollout.primary.id) (still running at the end): " + Core.describe(stats))
        }
        reportLostRejects()
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
        eventLog.finished(code: core.exitCode, recordsRead: core.ledger.recordsRead, written: sink.rows, rejected: sink.rejected)
        eventLog.finish()
        for failure in eventLog.failures() {
            dispatch(.outputFailed(.events(failure.name), closed: false, message: failure.error.reason))
        }
        try? Sys.unlink(runDir.sinkPath)
        return core.exitCode
    }
}
