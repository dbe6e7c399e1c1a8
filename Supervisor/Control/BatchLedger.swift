import Config
import Messages

/// What the sink received for a batch or a part of one; the ledger only needs its counts.
public protocol BatchOutput: Sendable {
    /// Input records it covers, accepted and rejected.
    var records: Int { get }
    /// Of those, records rejected (error entries).
    var rejected: Int { get }
    /// The drift watch's slot counts of its accepted rows (`DriftPlan`); empty: none.
    var driftCounts: [UInt64] { get }
    /// The model versions that scored it, as its frame says; nil: not from the stages (a
    /// record the source or the supervisor settled), which any version's batch takes.
    var modelSlots: ModelSlots? { get }
    /// How its shadow version's results compared with its own; nil: no shadow.
    var shadow: ShadowStats? { get }
}

extension BatchOutput {
    public var driftCounts: [UInt64] { [] }
    public var modelSlots: ModelSlots? { nil }
    public var shadow: ShadowStats? { nil }
}

/// The data path's bookkeeping, as a value: which batches the source has read and the sink has
/// not yet written (the window), which pieces of them were sent and when, what to send again
/// after a loss or a deadline, which batch a crash is blamed on and how a batch that keeps
/// crashing replicas is split to find its poison record, and the sink's commit order with its
/// de-duplication of replays.
///
/// It performs nothing: the source's loop reads, encodes and sends frames, the sink's decodes
/// them and the writer writes. `handle` takes what happened and returns what to do.
public struct BatchLedger<Output: BatchOutput>: Sendable {
    public struct Settings: Sendable {
        /// Most batches read and not yet written.
        public var window: Int
        /// A piece sent this long ago and still not at the sink is sent again.
        public var resendNanos: UInt64 = 10_000_000_000
        /// Crashes a piece may cause before it is split (a batch) or rejected (one record).
        public var crashesBeforeIsolation = 2

        public init(window: Int) { self.window = window }
    }

    /// One sendable piece of a batch: the whole batch, or after a split one record.
    public struct Unit: Sendable, Equatable {
        /// First record of the unit within its batch, and how many records it holds.
        public let offset: Int
        public let count: Int
        public let firstLine: UInt64
        public let byteOffset: UInt64
        public let isPart: Bool
        public internal(set) var sends = 0
        public internal(set) var lastSent: UInt64 = 0
        /// Replica crashes blamed on this unit.
        public internal(set) var crashes = 0
        /// Settled without the stages (records the source refused, or a poison record): never sent.
        public internal(set) var settled = false
    }

    /// A batch read and not yet written.
    public struct Batch: Sendable, Equatable {
        public let sequence: UInt64
        public let firstLine: UInt64
        public let lastLine: UInt64
        public let records: Int
        public internal(set) var units: [Unit]
        /// The model versions that score it; changed only by a rollback (`retag`).
        public internal(set) var model: ModelSlots
    }

    public enum Event: Sendable {
        /// The source cut a batch (only while `hasRoom`); it gets `nextSequence`.
        case cut(BatchCut)
        /// The input is finished (end of file, or reading was stopped).
        case inputEnded
        /// The links to ingest can take this many more frames now.
        case sendable(Int)
        /// Frames in flight may have been lost (a replica died, a link closed): send again
        /// every piece the sink does not have.
        case replay
        /// Time passed: pieces overdue at the sink are sent again.
        case tick
        /// A replica of `stage` died of a crash of its own while processing `work`.
        case crashed(ReplicaWork, stage: StageKind, termination: Termination)
        /// The records of batch `sequence` (answer to `.split`); `refused`: the output for the
        /// records the source itself refused in it, which follow them. Nil records: it cannot be split.
        case split(UInt64, records: [SplitRecord]?, refused: Output?)
        /// The sink received the output of batch `sequence` (`part`: of the unit starting at that record).
        case received(UInt64, part: Int?, Output)
        /// The writer has written everything up to and including batch `sequence`.
        case written(through: UInt64)
    }

    public enum Action: Sendable {
        /// Send unit `unit` of batch `sequence` to ingest (`replay`: it was sent before).
        case send(UInt64, unit: Int, replay: Bool)
        /// Re-cut batch `sequence` into single records and answer with `.split`.
        case split(UInt64)
        /// A record of batch `sequence` (the unit starting at `part`, or the whole batch when nil)
        /// crashed replicas `crashes` times: answer with `.received(sequence, part: part, …)`
        /// holding it as a rejected record.
        case poison(UInt64, part: Int?, line: UInt64, byteOffset: UInt64, crashes: Int, stage: StageKind, termination: Termination)
        /// A whole batch crashed replicas again and is being split into `records` records.
        case isolating(UInt64, records: Int)
        /// Write batch `sequence`'s output: its pieces in record order. `lines`: the batch's
        /// first and last input lines.
        case write(UInt64, [Output], lines: ClosedRange<UInt64>)
        case log(LogLevel, String)
        /// A line for the event log.
        case event(RunEvent)
    }

    public let settings: Settings
    /// Batches cut and not yet written, oldest first; `batches[i].sequence == windowBase + i`.
    public internal(set) var batches: [Batch] = []
    private var windowBase: UInt64 = 0
    /// Units to send, in order.
    var toSend: [(sequence: UInt64, unit: Int)] = []
    public private(set) var nextSequence: UInt64 = 0
    public private(set) var inputDone = false
    public private(set) var recordsRead = 0
    /// Units sent again (replays and deadlines).
    public private(set) var resent = 0
    /// The last input line of the batches cut so far (0: none).
    public private(set) var lastCutLine: UInt64 = 0

    // The sink's side.
    /// The next batch to commit; every lower one is committed.
    public internal(set) var nextCommit: UInt64 = 0
    /// Outputs of whole batches, and of parts (by first record) of split batches, not yet committed.
    var held: [UInt64: [Output]] = [:]
    var parts: [UInt64: [Int: Output]] = [:]
    public internal(set) var duplicates = 0
    public internal(set) var recordsCommitted = 0
    public internal(set) var rejectedCommitted = 0
    /// The last input line of the last committed batch.
    public internal(set) var lastCommittedLine: UInt64 = 0

    public init(settings: Settings) { self.settings = settings }

    // MARK: Queries

    /// True while a batch may be cut: the input is not finished and the window has room.
    public var hasRoom: Bool { !inputDone && batches.count < settings.window }

    /// True when every batch read has been written.
    public var isFinished: Bool { inputDone && batches.isEmpty }

    /// The batch with this sequence number, if still held.
    public func batch(_ sequence: UInt64) -> Batch? { index(sequence).map { batches[$0] } }

    /// Units waiting to be sent.
    public var queued: Int { toSend.count }

    /// True when records [offset, offset+count) of batch `sequence` are committed or received.
    public func covers(_ sequence: UInt64, offset: Int, count: Int) -> Bool {
        if sequence < nextCommit || held[sequence] != nil { return true }
        return parts[sequence]?[offset].map { $0.records >= count } ?? false
    }

    func index(_ sequence: UInt64) -> Int? {
        guard sequence >= windowBase, sequence - windowBase < UInt64(batches.count) else { return nil }
        return Int(sequence - windowBase)
    }

    // MARK: The one entry point

    public mutating func handle(_ event: Event, now: UInt64) -> [Action] {
        var out: [Action] = []
        switch event {
        case .cut(let cut):
            precondition(hasRoom, "a batch was cut while the window was full or the input finished")
            let unit = Unit(offset: 0, count: cut.records, firstLine: cut.firstLine, byteOffset: cut.byteOffset, isPart: false)
            batches.append(Batch(sequence: nextSequence, firstLine: cut.firstLine, lastLine: cut.lastLine,
                                 records: cut.records, units: [unit], model: cut.model))
            toSend.append((nextSequence, 0))
            recordsRead += cut.records
            lastCutLine = max(lastCutLine, cut.lastLine)
            nextSequence += 1
        case .inputEnded:
            inputDone = true
        case .sendable(let n):
            send(upTo: n, now: now, into: &out)
        case .replay:
            requeue { _ in true }
        case .tick:
            let after = settings.resendNanos
            requeue { now > $0.lastSent + after }
        case .crashed(let work, let stage, let termination):
            blame(work, stage: stage, termination: termination, into: &out)
        case .split(let sequence, let records, let refused):
            split(sequence, records: records, refused: refused, into: &out)
        case .received(let sequence, let part, let output):
            receive(sequence, part: part, output, into: &out)
            commitReady(into: &out)
        case .written(let sequence):
            while let first = batches.first, first.sequence <= sequence {
                batches.removeFirst()
                windowBase = first.sequence + 1
            }
        }
        return out
    }

    // MARK: Sending

    private mutating func send(upTo n: Int, now: UInt64, into out: inout [Action]) {
        var sent = 0
        while sent < n, !toSend.isEmpty {
            let (sequence, u) = toSend.removeFirst()
            guard let b = index(sequence), u < batches[b].units.count, !batches[b].units[u].settled,
                  !covers(sequence, offset: batches[b].units[u].offset, count: batches[b].units[u].count) else { continue }
            out.append(.send(sequence, unit: u, replay: batches[b].units[u].sends > 0))
            batches[b].units[u].sends += 1
            batches[b].units[u].lastSent = now
            sent += 1
        }
    }

    /// Gives the uncommitted batches whose versions `include` picks the versions `model`
    /// instead (a rollback): what the sink received of them is forgotten, and every unit sent is
    /// queued to be sent again. Returns their sequence numbers, for the source to restamp.
    public mutating func retag(where include: (ModelSlots) -> Bool, to model: ModelSlots) -> [UInt64] {
        var changed: [UInt64] = []
        for b in batches.indices where batches[b].sequence >= nextCommit && include(batches[b].model) {
            let sequence = batches[b].sequence
            batches[b].model = model
            // The stages' outputs go; what the supervisor settled itself (refused and poison
            // records) stays, as those units are never sent again. A complete split batch goes
            // back to its parts, keeping those.
            if let pieces = held[sequence], pieces.contains(where: { $0.modelSlots != nil }) {
                held[sequence] = nil
                if batches[b].units.first?.isPart == true {
                    var at = 0
                    for piece in pieces {
                        if piece.modelSlots == nil { parts[sequence, default: [:]][at] = piece }
                        at += piece.records
                    }
                }
            }
            parts[sequence] = parts[sequence]?.filter { $0.value.modelSlots == nil }
            changed.append(sequence)
        }
        let retagged = Set(changed)
        var queued = Set(toSend.map { Pair($0.sequence, $0.unit) })
        var again: [(sequence: UInt64, unit: Int)] = []
        for batch in batches where retagged.contains(batch.sequence) {
            for (u, unit) in batch.units.enumerated() where unit.sends > 0 && !unit.settled && queued.insert(Pair(batch.sequence, u)).inserted {
                again.append((batch.sequence, u))
            }
        }
        resent += again.count
        toSend = again + toSend
        return changed
    }

    /// Queues again the sent units that `include` picks and the sink does not have.
    private mutating func requeue(_ include: (Unit) -> Bool) {
        var queued = Set(toSend.map { Pair($0.sequence, $0.unit) })
        var again: [(sequence: UInt64, unit: Int)] = []
        for batch in batches {
            for (u, unit) in batch.units.enumerated()
            where unit.sends > 0 && !unit.settled && include(unit) && !covers(batch.sequence, offset: unit.offset, count: unit.count)
                && queued.insert(Pair(batch.sequence, u)).inserted {
                again.append((batch.sequence, u))
            }
        }
        resent += again.count
        toSend = again + toSend
    }

    private struct Pair: Hashable {
        let sequence: UInt64, unit: Int
        init(_ sequence: UInt64, _ unit: Int) {
            self.sequence = sequence
            self.unit = unit
        }
    }
}
