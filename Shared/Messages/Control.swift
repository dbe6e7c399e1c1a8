/// What a connection is for, said in its `Hello`.
public enum ConnectionPurpose: UInt8, Sendable {
    /// replica ⇄ supervisor control plane.
    case control = 1
    /// upstream → downstream data path (batches one way, credits the other).
    case data = 2
    /// CLI client → supervisor (`pipeline scale`, `ps`, `down`).
    case client = 3
}

/// First frame on every connection: who is speaking, and the run's secret cookie.
public struct Hello: Sendable, Equatable {
    public var purpose: ConnectionPurpose
    public var node: NodeKind
    public var replica: UInt32
    public var pid: Int32
    public var cookie: String

    public init(purpose: ConnectionPurpose, node: NodeKind, replica: UInt32, pid: Int32, cookie: String) {
        self.purpose = purpose
        self.node = node
        self.replica = replica
        self.pid = pid
        self.cookie = cookie
    }

    public func encode(into out: FrameBuffer) {
        out.frame(FrameHeader(kind: .hello)) { out in
            out.append(purpose.rawValue)
            out.append(node.rawValue)
            out.append(UInt16(0))
            out.append(replica)
            out.append(pid)
            out.append(string: cookie)
        }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> Hello {
        var r = try reader(frame, .hello)
        guard let purpose = ConnectionPurpose(rawValue: try r.read(UInt8.self, "hello.purpose")) else {
            throw .invalid(field: "hello.purpose", reason: "unknown purpose")
        }
        guard let node = NodeKind(rawValue: try r.read(UInt8.self, "hello.node")) else {
            throw .invalid(field: "hello.node", reason: "unknown node kind")
        }
        _ = try r.read(UInt16.self, "hello.reserved")
        let replica = try r.read(UInt32.self, "hello.replica")
        let pid = try r.read(Int32.self, "hello.pid")
        let cookie = try r.string("hello.cookie")
        return Hello(purpose: purpose, node: node, replica: replica, pid: pid, cookie: cookie)
    }
}

/// supervisor → replica: what to run and where to listen.
public struct ConfigMessage: Sendable, Equatable {
    /// Absolute path of the config file (relative paths inside were relative to its directory).
    public var configPath: String
    /// The config file's text, as the supervisor validated it.
    public var configText: String
    /// Where this replica listens for its upstream (empty for none).
    public var listenPath: String
    /// The replica's state page (see `StatePage`), empty for none.
    public var statePath: String
    /// Data frames each upstream connection may have outstanding.
    public var credits: UInt32
    public var heartbeatMillis: UInt32
    /// The class labels the output is written with, as the supervisor settled them once it had
    /// loaded the model: the config's `labels`, else the model's own classes. Empty: none (the
    /// output writes class indices).
    public var classLabels: [ClassLabel]
    /// What the drift watch counts (the `[drift]` reference's bins), nil when it is off.
    public var drift: DriftPlan?
    /// The live model versions (featurize, infer and aggregate build each one): at least the
    /// run's own; the first is the version batches are scored by unless they say otherwise.
    public var versions = VersionSet(generation: 0, versions: [])

    public init(configPath: String, configText: String, listenPath: String, statePath: String = "", credits: UInt32,
                heartbeatMillis: UInt32, classLabels: [ClassLabel] = [], drift: DriftPlan? = nil) {
        self.configPath = configPath
        self.configText = configText
        self.listenPath = listenPath
        self.statePath = statePath
        self.credits = credits
        self.heartbeatMillis = heartbeatMillis
        self.classLabels = classLabels
        self.drift = drift
    }

    public func encode(into out: FrameBuffer) {
        out.frame(FrameHeader(kind: .config)) { out in
            out.append(string: configPath)
            out.append(string: configText)
            out.append(string: listenPath)
            out.append(string: statePath)
            out.append(credits)
            out.append(heartbeatMillis)
            out.append(UInt32(classLabels.count))
            for label in classLabels { label.encode(into: out) }
            out.append(UInt8(drift == nil ? 0 : 1))
            drift?.encode(into: out)
            versions.encodeBody(into: out)
        }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> ConfigMessage {
        var r = try reader(frame, .config)
        var message = ConfigMessage(configPath: try r.string("config.path"), configText: try r.string("config.text"),
                                    listenPath: try r.string("config.listen"), statePath: try r.string("config.state"),
                                    credits: try r.read(UInt32.self, "config.credits"),
                                    heartbeatMillis: try r.read(UInt32.self, "config.heartbeat"))
        // Each label takes at least 5 bytes (a tag and an empty string's length).
        let count = try r.readCount("config.labels", elementSize: 5)
        for _ in 0..<count { message.classLabels.append(try ClassLabel.decode(&r)) }
        if try r.read(UInt8.self, "config.hasDrift") != 0 { message.drift = try DriftPlan.decode(&r) }
        message.versions = try VersionSet.decodeBody(&r)
        return message
    }
}

/// supervisor → replica: the replicas of the next stage (the whole current set, not a delta).
public struct Membership: Sendable, Equatable {
    public struct Member: Sendable, Equatable, Hashable {
        public var node: NodeKind
        public var replica: UInt32
        public var path: String
        public init(node: NodeKind, replica: UInt32, path: String) {
            self.node = node
            self.replica = replica
            self.path = path
        }
    }

    /// Increases with every change; a replica ignores an older one.
    public var generation: UInt64
    public var members: [Member]

    public init(generation: UInt64, members: [Member]) {
        self.generation = generation
        self.members = members
    }

    public func encode(into out: FrameBuffer) {
        out.frame(FrameHeader(kind: .membership)) { out in
            out.append(generation)
            out.append(UInt32(members.count))
            for m in members {
                out.append(m.node.rawValue)
                out.append(m.replica)
                out.append(string: m.path)
            }
        }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> Membership {
        var r = try reader(frame, .membership)
        let generation = try r.read(UInt64.self, "membership.generation")
        let n = try r.readCount("membership.count", elementSize: 9)
        var members: [Member] = []
        for _ in 0..<n {
            guard let node = NodeKind(rawValue: try r.read(UInt8.self, "membership.node")) else {
                throw .invalid(field: "membership.node", reason: "unknown node kind")
            }
            members.append(Member(node: node, replica: try r.read(UInt32.self, "membership.replica"),
                                  path: try r.string("membership.path")))
        }
        return Membership(generation: generation, members: members)
    }
}

/// downstream → upstream: `count` more data frames may be sent.
public struct Credit: Sendable, Equatable {
    public var count: UInt32
    /// How many frames this receiver has copied out of the sender's shared ring so far (all of
    /// them, since the connection began): the sender may reuse their space.
    public var released: UInt64
    /// The receiver took the ring the sender offered: frames may now go through it.
    public var ringTaken: Bool

    public init(count: UInt32, released: UInt64 = 0, ringTaken: Bool = false) {
        self.count = count
        self.released = released
        self.ringTaken = ringTaken
    }

    public func encode(into out: FrameBuffer) {
        out.frame(FrameHeader(kind: .credit)) { out in
            out.append(count)
            out.append(UInt32(ringTaken ? 1 : 0))
            out.append(released)
        }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> Credit {
        var r = try reader(frame, .credit)
        let count = try r.read(UInt32.self, "credit.count")
        let flags = try r.read(UInt32.self, "credit.flags")
        guard flags <= 1 else { throw .invalid(field: "credit.flags", reason: "unknown flags \(flags)") }
        return Credit(count: count, released: try r.read(UInt64.self, "credit.released"), ringTaken: flags == 1)
    }
}

/// replica → supervisor, every heartbeat interval, from the processing loop.
public struct Heartbeat: Sendable, Equatable {
    public var batches: UInt64 = 0
    public var rows: UInt64 = 0
    /// Time spent processing batches since start.
    public var busyNanos: UInt64 = 0
    /// Complete input frames waiting.
    public var queued: UInt32 = 0
    /// Open downstream connections.
    public var downstream: UInt32 = 0
    public var rssBytes: UInt64 = 0
    /// Peak resident set size since the replica started.
    public var peakRSSBytes: UInt64 = 0
    /// The pid (from its hello) of a peer whose frame failed validation, or 0.
    public var invalidFramePeer: Int32 = 0
    /// How long frames waited in this replica before their processing began.
    public var queue = Histogram()
    /// What it sent downstream, through shared rings and over the sockets.
    public var sent = TransportCounts()

    public init() {}

    public func encode(into out: FrameBuffer) {
        out.frame(FrameHeader(kind: .heartbeat)) { out in
            out.append(batches)
            out.append(rows)
            out.append(busyNanos)
            out.append(queued)
            out.append(downstream)
            out.append(rssBytes)
            out.append(peakRSSBytes)
            out.append(invalidFramePeer)
            queue.encode(into: out)
            sent.encode(into: out)
        }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> Heartbeat {
        var r = try reader(frame, .heartbeat)
        var h = Heartbeat()
        h.batches = try r.read(UInt64.self, "heartbeat.batches")
        h.rows = try r.read(UInt64.self, "heartbeat.rows")
        h.busyNanos = try r.read(UInt64.self, "heartbeat.busy")
        h.queued = try r.read(UInt32.self, "heartbeat.queued")
        h.downstream = try r.read(UInt32.self, "heartbeat.downstream")
        h.rssBytes = try r.read(UInt64.self, "heartbeat.rss")
        h.peakRSSBytes = try r.read(UInt64.self, "heartbeat.peakRSS")
        h.invalidFramePeer = try r.read(Int32.self, "heartbeat.invalidFramePeer")
        h.queue = try Histogram.decode(&r, "heartbeat.queue")
        h.sent = try TransportCounts.decode(&r, "heartbeat.sent")
        return h
    }
}

/// replica → supervisor: it cannot run (bad model, bad config) or hit an internal error.
public struct Failure: Sendable, Equatable {
    public var message: String
    public init(message: String) { self.message = message }

    public func encode(into out: FrameBuffer) {
        out.frame(FrameHeader(kind: .failure)) { out in out.append(string: message) }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> Failure {
        var r = try reader(frame, .failure)
        return Failure(message: try r.string("failure.message"))
    }
}

/// A reader over `frame`'s payload after checking its kind.
func reader(_ frame: Frame, _ kind: FrameKind) throws(FrameError) -> ByteReader {
    guard frame.header.kind == kind else { throw .unexpected(kind: frame.header.kind, context: "where \(kind) belongs") }
    return ByteReader(payload: frame.payload)
}
