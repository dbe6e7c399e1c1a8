/// What a frame carries. The raw value is the wire tag; never reuse a retired one.
public enum FrameKind: UInt8, Sendable, CaseIterable {
    // Data frames: one batch each, keyed by the batch sequence number in the header.
    /// source → ingest: whole input lines (`RawChunk`).
    case rawChunk = 1
    /// ingest → featurize: typed, columnar records (`RecordBatch`).
    case records = 2
    /// featurize → infer: dense or CSR float features (`FeatureBatch`).
    case features = 3
    /// infer → aggregate: the model's float output per row (`ScoreBatch`).
    case scores = 4
    /// aggregate → sink: formatted output bytes plus a summary (`OutputBatch`).
    case output = 5
    /// Any stage → next: a batch in which every record was rejected (`ErrorBatch`); forwarded as is.
    case errors = 6

    // Control frames.
    /// First frame on every connection: who is speaking, with the run cookie (`Hello`).
    case hello = 16
    /// supervisor → replica: the configuration to run (`ConfigMessage`).
    case config = 17
    /// replica → supervisor: started, listening at a socket path (`Ready`).
    case ready = 18
    /// supervisor → replica: the current replicas of the next stage (`Membership`).
    case membership = 19
    /// downstream → upstream: permission to send this many more data frames (`Credit`).
    case credit = 20
    /// supervisor → replica: finish what you hold, flush, exit 0.
    case drain = 21
    /// replica → supervisor: alive, with counters (`Heartbeat`).
    case heartbeat = 22
    /// supervisor → replica: exit now (the run is over).
    case shutdown = 23
    /// CLI client → supervisor: a command (`Request`).
    case request = 24
    /// supervisor → CLI client: the answer (`Reply`).
    case reply = 25
    /// replica → supervisor: a fatal error before or while running (`Failure`).
    case failure = 26
    /// supervisor → CLI client: counters and rates for `pipeline top` (`StatusSnapshot`).
    case status = 27
    /// sender → receiver of a data connection, once, right after the hello, with a memory file
    /// attached (SCM_RIGHTS): the ring that large frames travel through (`SharedRingOffer`).
    case sharedRing = 28
    /// sender → receiver of a data connection: "the next frame is in the ring, here"
    /// (`SharedFrameRef`). The receiver copies it out and handles it as if it came inline.
    case sharedFrame = 29
    /// supervisor → featurize, infer and aggregate replicas: the live model versions (`VersionSet`).
    case versions = 30
    /// replica → supervisor: the versions of a `VersionSet` are built, or which failed (`VersionsAck`).
    case versionsAck = 31

    /// True for the kinds that carry a batch of rows.
    public var isData: Bool { rawValue < 16 }
}

/// Per-frame flag bits.
public struct FrameFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// The source sent this batch before; duplicates are dropped by the sink.
    public static let replay = FrameFlags(rawValue: 1 << 0)
    /// Part of a batch: the header's stream id is the part's first record within the batch,
    /// and the part's envelope counts its records. The sink assembles the parts of a batch.
    public static let part = FrameFlags(rawValue: 1 << 1)
}
