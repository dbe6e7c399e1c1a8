import Glibc
import Messages

/// State of one running replica; `ReplicaHost.main` drives it.
final class Replica {
    let node: NodeKind
    let options: ReplicaOptions
    let control: Connection
    let scratch = FrameBuffer(capacity: 4096)
    /// Output buffers, reused: one is lent to a connection until the socket has taken it all,
    /// and the next batch is written into another (fresh memory costs a page fault per 4 KiB).
    var outputs = [FrameBuffer(capacity: 1 << 20)]
    var current = 0
    var stats = Heartbeat()
    var draining = false
    var heartbeatNanos: UInt64 = 250_000_000
    /// Ingest's processor (every model version shares it).
    var shared: (any StageProcessor)?
    /// Featurize's, infer's and aggregate's: one per live model version.
    let versions = StageVersions()

    init(node: NodeKind, options: ReplicaOptions) throws {
        self.node = node
        self.options = options
        let fd = try UnixSocket.connect(path: options.controlPath)
        control = Connection(fd: fd, name: "control")
        try control.send(using: scratch) {
            Hello(purpose: .control, node: node, replica: options.replica, pid: getpid(), cookie: options.cookie).encode(into: $0)
        }
    }

    /// Builds a stage processor from the run's config and, for featurize, infer and aggregate,
    /// one model version (nil for ingest, which every version shares).
    typealias MakeProcessor = (ConfigMessage, ModelVersion?) throws -> any StageProcessor

    func run(makeProcessor: @escaping MakeProcessor) -> ReplicaHost.Exit {
        let config: ConfigMessage
        let upstream: UpstreamSet
        var startFailures: [VersionsAck.Failure] = []
        do {
            guard let frame = try control.awaitFrame() else {
                Log.error("the supervisor closed the control connection before sending a config")
                return .supervisorGone
            }
            config = try ConfigMessage.decode(frame)
            control.consume(frame)
            heartbeatNanos = UInt64(max(config.heartbeatMillis, 10)) * 1_000_000
        } catch {
            Log.error("bad config message: \(error)")
            return .startFailed
        }
        do {
            if node == .ingest {
                shared = try makeProcessor(config, nil)
            } else {
                // The first version is the one batches go to by default: without it the replica
                // cannot start. Another that fails is reported after ready, and the run goes on.
                guard let first = config.versions.versions.first else {
                    throw FrameError.invalid(field: "config.versions", reason: "no model version")
                }
                // PIPELINE_TEST_FAIL_VERSION=<stage>:<id>[@start] (debug builds): that version
                // cannot be built here (with @start: only while the replica starts).
                let failSpec = FaultInjection.failVersion(for: node)
                let atStartOnly = failSpec?.hasSuffix("@start") == true
                let failID = atStartOnly ? String(failSpec!.dropLast("@start".count)) : failSpec
                let build: (ModelVersion) throws -> any StageProcessor = { [config] version in try makeProcessor(config, version) }
                let slow = FaultInjection.slowVersion(for: node)
                versions.make = { version in
                    if version.id == failID { throw VersionError.testFailure(version.id) }
                    if let slow, slow.id == version.id { Sys.sleep(seconds: slow.seconds) }
                    return try build(version)
                }
                versions.crashVersion = FaultInjection.crashVersion(for: node)
                versions.generation = config.versions.generation
                versions.boxes[first.slot] = ProcessorBox(try versions.make!(first), id: first.id)
                startFailures = versions.build(config.versions.versions.dropFirst())
                if atStartOnly {
                    versions.make = { version in try build(version) }
                }
            }
            let upstreamNode = node.upstream!
            upstream = try UpstreamSet(path: config.listenPath, cookie: options.cookie, expected: upstreamNode,
                                       initialCredits: config.credits)
        } catch {
            Log.error("\(error)")
            try? control.send(using: scratch) { Failure(message: "\(error)").encode(into: $0) }
            _ = try? control.flush()
            return .startFailed
        }
        let downstream = DownstreamSet(hello: Hello(purpose: .data, node: node, replica: options.replica,
                                                    pid: getpid(), cookie: options.cookie))
        if FaultInjection.holdsReady(node, replica: options.replica) {
            Log.info("holding back its ready (PIPELINE_TEST_HOLD_READY)")
            // Stuck for good: it reads nothing more (what the supervisor sends stays unread, so
            // its death resets the connection) until a signal ends it.
            while true { Glibc.pause() }
        }
        do {
            try control.send(using: scratch) { $0.frame(.ready) }
            if !startFailures.isEmpty {
                try control.send(using: scratch) { VersionsAck(generation: versions.generation, failures: startFailures).encode(into: $0) }
            }
            Log.info("ready (pid \(getpid())), listening at \(config.listenPath)"
                     + (node == .ingest ? "" : "; model versions " + config.versions.versions.map { "\($0.id) (slot \($0.slot))" }.joined(separator: ", ")))
            let state = config.statePath.isEmpty ? nil : try StatePage(path: config.statePath)
            let exit = try loop(upstream: upstream, downstream: downstream, state: state)
            Log.info("stopped after \(counted(stats.batches, "batch")), \(counted(stats.rows, "row"))\(draining ? " (drained)" : "")")
            return exit
        } catch {
            Log.error("\(error)")
            try? control.send(using: scratch) { Failure(message: "\(error)").encode(into: $0) }
            _ = try? control.flush()
            return .processingFailed
        }
    }

    /// Acts on every control frame received so far; returns the exit when told to stop.
    private func handleControlFrames(downstream: DownstreamSet) throws -> ReplicaHost.Exit? {
        while let frame = try control.peekFrame() {
            switch frame.header.kind {
            case .membership: downstream.apply(try Membership.decode(frame))
            case .versions:
                let set = try VersionSet.decode(frame)
                if node != .ingest, set.generation > versions.generation {
                    let failures = versions.replace(with: set)
                    Log.info("model versions now " + set.versions.map { "\($0.id) (slot \($0.slot))" }.joined(separator: ", ")
                             + failures.map { "; \($0.slot) failed: \($0.message)" }.joined())
                    try control.send(using: scratch) { VersionsAck(generation: set.generation, failures: failures).encode(into: $0) }
                }
            case .drain: draining = true
            case .shutdown:
                control.consume(frame)
                sendFinalHeartbeat(downstream: downstream)
                return .ok
            default: throw FrameError.unexpected(kind: frame.header.kind, context: "on the control connection")
            }
            control.consume(frame)
        }
        return nil
    }

    /// An output buffer no connection still holds.
    private func freeOutputBuffer() -> FrameBuffer {
        for _ in outputs.indices {
            current = (current + 1) % outputs.count
            if isKnownUniquelyReferenced(&outputs[current]) { return outputs[current] }
        }
        outputs.append(FrameBuffer(capacity: 1 << 20))
        current = outputs.count - 1
        return outputs[current]
    }

    /// The last counters, so the supervisor's statistics include everything this replica did.
    private func sendFinalHeartbeat(downstream: DownstreamSet) {
        stats.downstream = UInt32(downstream.liveCount)
        stats.sent = downstream.sent
        stats.rssBytes = Sys.residentBytes()
        stats.peakRSSBytes = Sys.peakResidentBytes()
        try? control.send(using: scratch) { stats.encode(into: $0) }
        // Blocking until written: a few dozen bytes, to a supervisor that is reading.
        while control.wantsWrite {
            guard (try? control.flush()) != nil else { return }
            var poll = PollSet()
            poll.add(control.fd, read: false, write: true)
            _ = try? poll.wait(timeoutMillis: 1000)
        }
    }

    private func loop(upstream: UpstreamSet, downstream: DownstreamSet, state: StatePage?) throws -> ReplicaHost.Exit {
        let inputKind = node.inputKind
        let crashOn = FaultInjection.crashMarker(for: node)
        var garbleFile = FaultInjection.garbleFile(for: node)
        let outputLimit = FaultInjection.outputLimit(for: node) ?? FrameDecoder.defaultMaxPayload
        var nextBeat = Sys.monotonicNanos() + heartbeatNanos
        var poll = PollSet()
        // Frames that arrived with the config (a membership, or already a shutdown) come first.
        if let exit = try handleControlFrames(downstream: downstream) { return exit }
        while true {
            // Process every frame that has somewhere to go.
            while let target = downstream.pick(), let (link, frame) = upstream.next() {
                let started = Sys.monotonicNanos()
                stats.queue.observe(nanos: upstream.waited(on: link, now: started))
                let output = freeOutputBuffer()
                output.removeAll()
                state?.begin(frame.header)
                if let crashOn { FaultInjection.crashIfContains(frame.payload, crashOn) }
                do {
                    if frame.header.kind == .errors {
                        output.append(bytes: UnsafeRawBufferPointer(start: frame.payload.baseAddress! - FrameHeader.size,
                                                                    count: frame.header.frameLength))
                    } else if frame.header.kind == inputKind {
                        if node == .ingest {
                            try shared!.process(frame, into: output)
                        } else if !(try versions.process(frame, into: output)) {
                            // For a version no longer live (rolled back while the frame was on its
                            // way): the supervisor sends the batch again with the version it has now.
                            state?.end()
                            upstream.consumed(frame, from: link)
                            continue
                        }
                    } else {
                        throw FrameError.unexpected(kind: frame.header.kind, context: "at \(node.name), which takes \(inputKind)")
                    }
                } catch let error as FrameError {
                    state?.end()
                    upstream.reject(link, because: error)
                    continue
                }
                if output.count > FrameHeader.size + outputLimit {
                    // No receiver would take it. Failing here, with the batch on the state page,
                    // makes it the batch's fault: the supervisor re-sends it in pieces and the
                    // record whose output alone is too large becomes a REPLICA_CRASH error.
                    Log.error("the output of a batch of \(counted(frame.header.rowCount, "record")) is \(output.count) bytes, over the frame limit of \(outputLimit): failing the batch")
                    abort()
                }
                state?.end()
                // The batch keeps its identity (part offset, replay and part flags) stage to stage.
                FrameHeader.restamp(output.base, stream: frame.header.stream, flags: frame.header.flags, model: frame.header.model)
                if let path = garbleFile, FaultInjection.claim(path) {
                    output.base.storeBytes(of: 0x58, toByteOffset: 0, as: UInt8.self)  // breaks the magic
                    garbleFile = nil
                }
                stats.rows += UInt64(frame.header.rowCount)
                stats.batches += 1
                upstream.consumed(frame, from: link)
                downstream.send(frame: output, to: target)
                stats.busyNanos += Sys.monotonicNanos() - started
            }
            upstream.settle()

            let now = Sys.monotonicNanos()
            // A peer that sent a frame failing validation is reported at once: the supervisor
            // replaces it, and the batches it sent come again.
            var invalid = upstream.takeInvalidPeer()
            if now >= nextBeat || invalid != nil {
                stats.downstream = UInt32(downstream.liveCount)
                stats.sent = downstream.sent
                stats.rssBytes = Sys.residentBytes()
                stats.peakRSSBytes = Sys.peakResidentBytes()
                repeat {  // one heartbeat per peer to report
                    stats.invalidFramePeer = invalid ?? 0
                    try control.send(using: scratch) { stats.encode(into: $0) }
                    invalid = upstream.takeInvalidPeer()
                } while invalid != nil
                stats.invalidFramePeer = 0
                nextBeat = now + heartbeatNanos
            }
            if draining && upstream.openCount == 0 && downstream.allFlushed {
                downstream.retireAll()
                if downstream.isEmpty {
                    sendFinalHeartbeat(downstream: downstream)
                    return .ok
                }
            }

            poll.removeAll()
            let controlSlot = poll.add(control.fd, read: true, write: control.wantsWrite)
            let upstreamSlots = upstream.register(in: &poll)
            let downstreamSlots = downstream.register(in: &poll)
            let wait = Int32(min((nextBeat - min(nextBeat, Sys.monotonicNanos())) / 1_000_000 + 1, 1000))
            try poll.wait(timeoutMillis: wait)

            if poll.writable(controlSlot) && control.wantsWrite { try control.flush() }
            if poll.readable(controlSlot) {
                let open = try control.readAvailable()
                if let exit = try handleControlFrames(downstream: downstream) { return exit }
                if !open {
                    Log.error("the supervisor went away (control connection closed); exiting")
                    return .supervisorGone
                }
            }
            upstream.handle(poll, slots: upstreamSlots)
            downstream.handle(poll, slots: downstreamSlots)
            stats.queued = upstream.hasQueuedFrames ? 1 : 0
        }
    }
}

/// A processor, boxed so that two versions' can be used at once (a shadowed batch).
final class ProcessorBox {
    var processor: any StageProcessor
    let id: String
    init(_ processor: any StageProcessor, id: String) {
        self.processor = processor
        self.id = id
    }
}

/// The live model versions of a featurize, infer or aggregate replica, by slot: each batch is
/// processed by the version its header names (`ModelSlots`), and a shadowed batch by both.
final class StageVersions {
    var boxes: [UInt16: ProcessorBox] = [:]
    /// Slots this replica held and was told to drop: a frame naming one is stale.
    var retired: Set<UInt16> = []
    var generation: UInt64 = 0
    var make: ((ModelVersion) throws -> any StageProcessor)?
    /// `PIPELINE_TEST_CRASH_VERSION` (debug builds): abort on a batch of this version.
    var crashVersion: String?
    private let shadowScratch = FrameBuffer(capacity: 1 << 20)

    /// Builds `list`'s versions; returns the ones that failed.
    func build(_ list: some Sequence<ModelVersion>) -> [VersionsAck.Failure] {
        var failures: [VersionsAck.Failure] = []
        for v in list where boxes[v.slot] == nil {
            do {
                boxes[v.slot] = ProcessorBox(try make!(v), id: v.id)
            } catch {
                Log.error("model version \(v.id) (slot \(v.slot)) cannot run here: \(error)")
                failures.append(.init(slot: v.slot, message: "\(error)"))
            }
        }
        return failures
    }

    /// Keeps exactly the versions of `set` (building the new ones); returns the ones that failed.
    func replace(with set: VersionSet) -> [VersionsAck.Failure] {
        generation = set.generation
        let live = Set(set.versions.map(\.slot))
        for slot in boxes.keys where !live.contains(slot) {
            boxes[slot] = nil
            retired.insert(slot)
        }
        return build(set.versions)
    }

    /// Processes `frame` with the versions it names; false (nothing written) when this replica
    /// does not hold one of them: it was rolled back (or refused) while the frame was on its way,
    /// and the supervisor sends the batch again with the version it has now.
    func process(_ frame: Frame, into out: FrameBuffer) throws -> Bool {
        let slots = frame.header.model
        guard let primary = boxes[slots.primary], slots.shadow.map({ boxes[$0] != nil && $0 != slots.primary }) != false else {
            let held = boxes.keys.sorted().map(String.init).joined(separator: ", ")
            if retired.contains(slots.primary) || slots.shadow.map(retired.contains) == true {
                Log.info("dropped batch \(frame.header.sequence): it names model version slot \(slots), no longer live here")
            } else {
                Log.error("dropped batch \(frame.header.sequence): it names model version slot \(slots), which this replica does not hold (it holds \(held))")
            }
            return false
        }
        if let crashVersion, primary.id == crashVersion || slots.shadow.flatMap({ boxes[$0]?.id }) == crashVersion {
            Log.error("crashing on a batch of model version \(crashVersion) (PIPELINE_TEST_CRASH_VERSION)")
            abort()
        }
        guard let s = slots.shadow else {
            try primary.processor.process(frame, into: out)
            return true
        }
        let shadow = boxes[s]!
        try primary.processor.process(frame, shadow: &shadow.processor, scratch: shadowScratch, into: out)
        return true
    }
}

/// A model version made to fail in a test build.
enum VersionError: Error, CustomStringConvertible {
    case testFailure(String)

    var description: String {
        switch self {
        case .testFailure(let id): "model version \(id) made to fail (PIPELINE_TEST_FAIL_VERSION)"
        }
    }
}

extension NodeKind {
    /// The data frames a stage takes in.
    var inputKind: FrameKind {
        switch self {
        case .ingest: .rawChunk
        case .featurize: .records
        case .infer: .features
        case .aggregate: .scores
        default: preconditionFailure("\(name) is not a stage")
        }
    }
}
