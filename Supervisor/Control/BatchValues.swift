import Messages
/// Values the data path's two ends and the ledger exchange.

/// A batch the source has just cut from its input.
public struct BatchCut: Sendable, Equatable {
    public var firstLine: UInt64
    public var lastLine: UInt64
    public var records: Int
    public var byteOffset: UInt64
    /// The model versions that score it (stamped in its frame when it was cut).
    public var model: ModelSlots

    public init(firstLine: UInt64, lastLine: UInt64, records: Int, byteOffset: UInt64, model: ModelSlots = ModelSlots()) {
        self.firstLine = firstLine
        self.lastLine = lastLine
        self.records = records
        self.byteOffset = byteOffset
        self.model = model
    }
}

/// One record of a batch being split (answer to the ledger's `.split`).
public struct SplitRecord: Sendable, Equatable {
    public var firstLine: UInt64
    public var byteOffset: UInt64

    public init(firstLine: UInt64, byteOffset: UInt64) {
        self.firstLine = firstLine
        self.byteOffset = byteOffset
    }
}

/// What a replica was processing when it died (from its state page).
public struct ReplicaWork: Sendable, Equatable {
    public var sequence: UInt64
    /// The unit's first record when it is a part of a split batch; nil for a whole batch.
    public var part: Int?
    /// The model versions its frame named (a rollback may have given the batch others since).
    public var model: ModelSlots?

    public init(sequence: UInt64, part: Int?, model: ModelSlots? = nil) {
        self.sequence = sequence
        self.part = part
        self.model = model
    }
}
