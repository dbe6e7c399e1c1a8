/// supervisor → CLI client: what `pipeline top` shows, and what `/metrics` exports — the run's
/// counters since it started, and rates over the last few seconds.
public struct StatusSnapshot: Sendable, Equatable {
    /// One stage: its replicas and what they did (counters include replicas that have exited).
    public struct Stage: Sendable, Equatable {
        public var name: String
        public var ready: UInt32 = 0
        public var desired: UInt32 = 0
        public var records: UInt64 = 0
        public var batches: UInt64 = 0
        /// Time its replicas spent processing batches.
        public var busyNanos: UInt64 = 0
        public var restarts: UInt64 = 0
        /// Resident memory of its live replicas.
        public var residentBytes: UInt64 = 0
        /// How long batches waited at the stage before processing began.
        public var queue = Histogram()
        /// Over the last few seconds: records per second, busy share of one replica's time
        /// summed over replicas (1 = one replica busy all the time), and queue waits.
        public var recentRecordsPerSecond: Double = 0
        public var recentBusy: Double = 0
        public var recentQueue = Histogram()
        /// Autoscaler changes to more replicas and to fewer.
        public var scaledUp: UInt64 = 0
        public var scaledDown: UInt64 = 0
        /// What its replicas sent to the next stage, through shared rings and over sockets.
        public var sent = TransportCounts()

        public init(name: String) { self.name = name }
    }

    public var uptimeNanos: UInt64 = 0
    public var model = ""
    /// `[model] precision`: "float32", "int8" or "bf16".
    public var precision = "float32"
    /// `HOST:PORT` of the metrics endpoint, or empty.
    public var metricsAddress = ""
    public var recordsIn: UInt64 = 0
    public var recordsOut: UInt64 = 0
    public var rejected: UInt64 = 0
    public var bytesIn: UInt64 = 0
    public var bytesOut: UInt64 = 0
    /// Size of stdin when it is a regular file (for progress), else 0.
    public var inputSize: UInt64 = 0
    public var batchesInFlight: UInt32 = 0
    public var recentRecordsInPerSecond: Double = 0
    public var recentRecordsOutPerSecond: Double = 0
    /// Time from a batch being read to its output being written.
    public var latency = Histogram()
    public var stages: [Stage] = []
    /// The autoscaler's core budget (0: not autoscaled) and its last change, as
    /// "infer 1 -> 2 at 12.5 s: busy 133% of 1, batches wait 110.0 ms" (seconds of uptime) (empty before the first).
    public var autoscaleCores: Double = 0
    public var autoscaleLast = ""
    /// `PIPELINE_SHARED_MEMORY_MB` (0: everything over the sockets), and what the supervisor's
    /// source sent to ingest.
    public var sharedMemoryMiB: UInt32 = 0
    public var sourceSent = TransportCounts()
    /// The model versions and a rollout in progress (`pipeline ps`'s `versions:` line).
    public var models = Models()

    public init() {}

    /// Every sender of the data path in order, with what it sent: the source (to ingest), then
    /// each stage (aggregate's to the sink).
    public var senders: [(name: String, sent: TransportCounts)] {
        [("source", sourceSent)] + stages.map { ($0.name, $0.sent) }
    }

    public func encode(into out: FrameBuffer) {
        out.frame(FrameHeader(kind: .status)) { out in
            out.append(uptimeNanos)
            out.append(string: model)
            out.append(string: metricsAddress)
            for v in [recordsIn, recordsOut, rejected, bytesIn, bytesOut, inputSize] { out.append(v) }
            out.append(batchesInFlight)
            out.append(recentRecordsInPerSecond)
            out.append(recentRecordsOutPerSecond)
            latency.encode(into: out)
            out.append(UInt16(stages.count))
            for s in stages {
                out.append(string: s.name)
                out.append(s.ready)
                out.append(s.desired)
                for v in [s.records, s.batches, s.busyNanos, s.restarts, s.residentBytes] { out.append(v) }
                s.queue.encode(into: out)
                out.append(s.recentRecordsPerSecond)
                out.append(s.recentBusy)
                s.recentQueue.encode(into: out)
                out.append(s.scaledUp)
                out.append(s.scaledDown)
                s.sent.encode(into: out)
            }
            out.append(autoscaleCores)
            out.append(string: autoscaleLast)
            out.append(string: precision)
            out.append(sharedMemoryMiB)
            sourceSent.encode(into: out)
            models.encode(into: out)
        }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> StatusSnapshot {
        var r = try reader(frame, .status)
        var s = StatusSnapshot()
        s.uptimeNanos = try r.read(UInt64.self, "status.uptime")
        s.model = try r.string("status.model")
        s.metricsAddress = try r.string("status.metrics")
        s.recordsIn = try r.read(UInt64.self, "status.recordsIn")
        s.recordsOut = try r.read(UInt64.self, "status.recordsOut")
        s.rejected = try r.read(UInt64.self, "status.rejected")
        s.bytesIn = try r.read(UInt64.self, "status.bytesIn")
        s.bytesOut = try r.read(UInt64.self, "status.bytesOut")
        s.inputSize = try r.read(UInt64.self, "status.inputSize")
        s.batchesInFlight = try r.read(UInt32.self, "status.inFlight")
        s.recentRecordsInPerSecond = try r.readDouble("status.rateIn")
        s.recentRecordsOutPerSecond = try r.readDouble("status.rateOut")
        s.latency = try Histogram.decode(&r, "status.latency")
        let n = Int(try r.read(UInt16.self, "status.stages"))
        guard n <= 64 else { throw .invalid(field: "status.stages", reason: "\(n) stages") }
        for _ in 0..<n {
            var stage = Stage(name: try r.string("status.stage.name"))
            stage.ready = try r.read(UInt32.self, "status.stage.ready")
            stage.desired = try r.read(UInt32.self, "status.stage.desired")
            stage.records = try r.read(UInt64.self, "status.stage.records")
            stage.batches = try r.read(UInt64.self, "status.stage.batches")
            stage.busyNanos = try r.read(UInt64.self, "status.stage.busy")
            stage.restarts = try r.read(UInt64.self, "status.stage.restarts")
            stage.residentBytes = try r.read(UInt64.self, "status.stage.rss")
            stage.queue = try Histogram.decode(&r, "status.stage.queue")
            stage.recentRecordsPerSecond = try r.readDouble("status.stage.rate")
            stage.recentBusy = try r.readDouble("status.stage.busy")
            stage.recentQueue = try Histogram.decode(&r, "status.stage.recentQueue")
            stage.scaledUp = try r.read(UInt64.self, "status.stage.scaledUp")
            stage.scaledDown = try r.read(UInt64.self, "status.stage.scaledDown")
            stage.sent = try TransportCounts.decode(&r, "status.stage.sent")
            s.stages.append(stage)
        }
        s.autoscaleCores = try r.readDouble("status.autoscaleCores")
        s.autoscaleLast = try r.string("status.autoscaleLast")
        s.precision = try r.string("status.precision")
        s.sharedMemoryMiB = try r.read(UInt32.self, "status.sharedMemory")
        s.sourceSent = try TransportCounts.decode(&r, "status.sourceSent")
        // A supervisor started before the versions were in the status has none to give.
        s.models = r.isAtEnd ? Models() : try Models.decode(&r)
        return s
    }
}
