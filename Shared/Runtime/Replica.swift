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

    init(node: NodeKind, options: ReplicaOptions) throws {
        self.node = node
        self.options = options
        let fd = try UnixSocket.connect(path: options.controlPath)
        control = Connection(fd: fd, name: "control")
        try control.send(using: scratch) {
            Hello(purpose: .control, node: node, replica: options.replica, pid: getpid(), cookie: options.cookie).encode(into: $0)
        }
    }

    func run(makeProcessor: (ConfigMessage) throws -> any StageProcessor) -> ReplicaHost.Exit {
        let config: ConfigMessage
        var processor: any StageProcessor
        let upstream: UpstreamSet
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
            processor = try makeProcessor(config)
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
            Log.info("ready (pid \(getpid())), listening at \(config.listenPath)")
            let state = config.statePath.isEmpty ? nil : try StatePage(path: config.statePath)
            let exit = try loop(processor: &processor, upstream: upstream, downstream: downstream, state: state)
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

    private func loop(processor: inout any StageProcessor, upstream: UpstreamSet, downstream: DownstreamSet,
                      state: StatePage?) throws -> ReplicaHost.Exit {
        let inputKind = type(of: processor).inputKind
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
                        try processor.process(frame, into: output)
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
                FrameHeader.restamp(output.base, stream: frame.header.stream, flags: frame.header.flags)
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
