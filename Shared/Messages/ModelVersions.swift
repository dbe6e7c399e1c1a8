/// Which model versions score a batch: the header's last four bytes (`FrameHeader.model`).
///
/// A slot names one live version of the `[[feature]]`, `[model]` and `[output]` part of the
/// config inside the replicas (slot 0: the one the run started with; each rollout takes the next).
/// The source stamps a batch's slots when it cuts it and every stage carries them on, so a
/// replayed batch is scored by the same version as the first time.
///
/// Wire form: u16 primary slot, u16 shadow slot + 1 (0: no shadow).
public struct ModelSlots: Sendable, Hashable, CustomStringConvertible {
    /// The version whose results are written.
    public var primary: UInt16
    /// The version that scores the batch too without its results being written (`--shadow`).
    public var shadow: UInt16?

    public static let maxSlot: UInt16 = 0xFFFE

    public init(primary: UInt16 = 0, shadow: UInt16? = nil) {
        precondition(primary <= Self.maxSlot && (shadow ?? 0) <= Self.maxSlot && shadow != primary)
        self.primary = primary
        self.shadow = shadow
    }

    public init(rawValue: UInt32) {
        primary = UInt16(truncatingIfNeeded: rawValue)
        let s = UInt16(truncatingIfNeeded: rawValue >> 16)
        shadow = s == 0 ? nil : s - 1
    }

    public var rawValue: UInt32 { UInt32(primary) | UInt32(shadow.map { $0 + 1 } ?? 0) << 16 }

    /// True when `slot` scores the batch, as its primary or its shadow.
    public func includes(_ slot: UInt16) -> Bool { primary == slot || shadow == slot }

    public var description: String { shadow.map { "\(primary)+shadow \($0)" } ?? "\(primary)" }
}

/// One live version of the model part of a config, as every featurize, infer and aggregate
/// replica builds it: the `[[feature]]`, `[model]` and `[output]` of `configText` over the run's
/// own config (whose `[input]` it shares).
public struct ModelVersion: Sendable, Equatable {
    public var slot: UInt16
    /// What output records and reports call it: `[model] version`, else the model file's sha256 prefix.
    public var id: String
    public var configPath: String
    public var configText: String
    /// The class labels as the supervisor settled them with the model loaded (empty: none).
    public var classLabels: [ClassLabel]
    /// The model file in place of the config's `[model] path` (a rollout of a model file
    /// alone); empty: the config's.
    public var modelPath: String
    /// The model file's identity when the supervisor checked it (`FileIdentity.text`): a replica
    /// refuses to build the version from a file that has changed since. Empty: not checked.
    public var modelIdentity: String

    public init(slot: UInt16, id: String, configPath: String, configText: String, classLabels: [ClassLabel], modelPath: String = "",
                modelIdentity: String = "") {
        self.slot = slot
        self.id = id
        self.configPath = configPath
        self.configText = configText
        self.classLabels = classLabels
        self.modelPath = modelPath
        self.modelIdentity = modelIdentity
    }

    func encode(into out: FrameBuffer) {
        out.append(slot)
        out.append(string: id)
        out.append(string: configPath)
        out.append(string: configText)
        out.append(UInt32(classLabels.count))
        for label in classLabels { label.encode(into: out) }
        out.append(string: modelPath)
        out.append(string: modelIdentity)
    }

    static func decode(_ r: inout ByteReader) throws(FrameError) -> ModelVersion {
        let slot = try r.read(UInt16.self, "version.slot")
        guard slot <= ModelSlots.maxSlot else { throw .invalid(field: "version.slot", reason: "slot \(slot) out of range") }
        var v = ModelVersion(slot: slot, id: try r.string("version.id"), configPath: try r.string("version.configPath"),
                             configText: try r.string("version.configText"), classLabels: [])
        let count = try r.readCount("version.labels", elementSize: 5)
        for _ in 0..<count { v.classLabels.append(try ClassLabel.decode(&r)) }
        v.modelPath = try r.string("version.modelPath")
        v.modelIdentity = try r.string("version.modelIdentity")
        return v
    }
}

/// supervisor → featurize, infer and aggregate replicas: the whole set of live versions (not a
/// delta). A replica builds the ones it lacks, drops the ones no longer listed, and answers
/// with a `VersionsAck`. The first listed is the version batches are scored by by default.
public struct VersionSet: Sendable, Equatable {
    /// Increases with every change; a replica ignores an older one.
    public var generation: UInt64
    public var versions: [ModelVersion]

    public init(generation: UInt64, versions: [ModelVersion]) {
        self.generation = generation
        self.versions = versions
    }

    public func encode(into out: FrameBuffer) {
        out.frame(FrameHeader(kind: .versions)) { out in encodeBody(into: out) }
    }

    func encodeBody(into out: FrameBuffer) {
        out.append(generation)
        out.append(UInt32(versions.count))
        for v in versions { v.encode(into: out) }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> VersionSet {
        var r = try reader(frame, .versions)
        return try decodeBody(&r)
    }

    static func decodeBody(_ r: inout ByteReader) throws(FrameError) -> VersionSet {
        let generation = try r.read(UInt64.self, "versions.generation")
        let count = try r.readCount("versions.count", elementSize: 26)
        var versions: [ModelVersion] = []
        for _ in 0..<count {
            let v = try ModelVersion.decode(&r)
            guard !versions.contains(where: { $0.slot == v.slot }) else {
                throw .invalid(field: "versions.slot", reason: "slot \(v.slot) listed twice")
            }
            versions.append(v)
        }
        return VersionSet(generation: generation, versions: versions)
    }
}

/// replica → supervisor: the versions of `generation` are built, except `failures` (slot and
/// why: the model did not load, its widths do not fit).
public struct VersionsAck: Sendable, Equatable {
    public struct Failure: Sendable, Equatable {
        public var slot: UInt16
        public var message: String
        public init(slot: UInt16, message: String) {
            self.slot = slot
            self.message = message
        }
    }

    public var generation: UInt64
    public var failures: [Failure]

    public init(generation: UInt64, failures: [Failure] = []) {
        self.generation = generation
        self.failures = failures
    }

    public func encode(into out: FrameBuffer) {
        out.frame(FrameHeader(kind: .versionsAck)) { out in
            out.append(generation)
            out.append(UInt32(failures.count))
            for f in failures {
                out.append(f.slot)
                out.append(string: f.message)
            }
        }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> VersionsAck {
        var r = try reader(frame, .versionsAck)
        var ack = VersionsAck(generation: try r.read(UInt64.self, "versionsAck.generation"))
        let count = try r.readCount("versionsAck.count", elementSize: 6)
        for _ in 0..<count {
            ack.failures.append(.init(slot: try r.read(UInt16.self, "versionsAck.slot"), message: try r.string("versionsAck.message")))
        }
        return ack
    }
}

/// How a shadow version's results compare with the primary's, over a batch (or, merged, over
/// many): the figures `rollout --shadow` reports.
public struct ShadowStats: Sendable, Equatable {
    /// Rows scored by both versions.
    public var rows: UInt64 = 0
    /// Of those, rows whose labels differ (compared as labels: the class values, or the indices
    /// when a version has none).
    public var labelDisagreements: UInt64 = 0
    /// The largest |p_primary − p_shadow| over the rows and the classes both versions have.
    public var maxDifference: Float = 0
    /// The sum over rows of each row's largest difference (the mean is this / rows).
    public var sumOfRowMaxima: Double = 0

    public init() {}

    public var disagreementShare: Double { rows == 0 ? 0 : Double(labelDisagreements) / Double(rows) }
    public var meanRowMaximum: Double { rows == 0 ? 0 : sumOfRowMaxima / Double(rows) }

    public mutating func merge(_ other: ShadowStats) {
        rows += other.rows
        labelDisagreements += other.labelDisagreements
        maxDifference = max(maxDifference, other.maxDifference)
        sumOfRowMaxima += other.sumOfRowMaxima
    }

    func encode(into out: FrameBuffer) {
        out.append(rows)
        out.append(labelDisagreements)
        out.append(maxDifference)
        out.append(UInt32(0))
        out.append(sumOfRowMaxima)
    }

    static func decode(_ r: inout ByteReader) throws(FrameError) -> ShadowStats {
        var s = ShadowStats()
        s.rows = try r.read(UInt64.self, "shadow.rows")
        s.labelDisagreements = try r.read(UInt64.self, "shadow.labelDisagreements")
        s.maxDifference = Float(bitPattern: try r.read(UInt32.self, "shadow.maxDifference"))
        _ = try r.read(UInt32.self, "shadow.reserved")
        s.sumOfRowMaxima = try r.readDouble("shadow.sumOfRowMaxima")
        guard s.labelDisagreements <= s.rows, s.maxDifference.isFinite || s.maxDifference.isNaN, s.maxDifference >= 0 || s.maxDifference.isNaN,
              s.sumOfRowMaxima.isFinite || s.sumOfRowMaxima.isNaN else {
            throw .invalid(field: "shadow", reason: "figures out of range")
        }
        return s
    }
}

/// The shadow version's frame riding behind a batch's own (featurize → infer: its features;
/// infer → aggregate: its scores), so that both versions' results reach aggregate together.
///
/// Layout, after the outer frame's own payload: the inner frame (a whole frame, 64-byte
/// aligned), then a 64-byte footer: magic "SHDW", u32 0, u64 the inner frame's offset in the
/// outer payload, u64 its length, zeros. The outer header's payload length covers all of it;
/// the outer frame's decoders read their own layout and never look past it.
public enum ShadowFrame {
    static let magic: UInt32 = 0x5744_4853  // "SHDW" as little-endian bytes
    static let footerSize = 64

    /// Appends `inner` (one whole frame) behind the one frame `out` holds from offset 0.
    public static func append(_ inner: FrameBuffer, to out: FrameBuffer) {
        precondition(out.count % FrameHeader.alignment == 0 && inner.count % FrameHeader.alignment == 0)
        let offset = out.count - FrameHeader.size
        out.append(bytes: inner.bytes)
        out.append(magic)
        out.append(UInt32(0))
        out.append(UInt64(offset))
        out.append(UInt64(inner.count))
        out.pad(to: FrameHeader.alignment)
        out.patch(UInt32(out.count - FrameHeader.size), at: 24)
    }

    /// The kinds a shadow frame rides behind (what featurize and infer send).
    public static func carriesShadow(_ kind: FrameKind) -> Bool { kind == .features || kind == .scores }

    /// The inner frame behind `frame`, or nil when the batch has no shadow version (or is of a
    /// kind that never carries one: ingest's records are the same for every version).
    /// - Throws: `FrameError` when the batch has one and the footer or the inner frame is malformed.
    public static func inner(of frame: Frame) throws(FrameError) -> Frame? {
        guard frame.header.model.shadow != nil, carriesShadow(frame.header.kind) else { return nil }
        let payload = frame.payload
        guard payload.count >= footerSize else { throw .truncated(field: "shadow.footer") }
        let footer = payload.count - footerSize
        guard UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: footer, as: UInt32.self)) == magic else {
            throw .invalid(field: "shadow.footer", reason: "no shadow frame behind a batch with a shadow version")
        }
        let offset = UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: footer + 8, as: UInt64.self))
        let length = UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: footer + 16, as: UInt64.self))
        guard offset <= UInt64(footer), length == UInt64(footer) - offset, Int(offset) % FrameHeader.alignment == FrameHeader.size else {
            throw .invalid(field: "shadow.footer", reason: "the shadow frame's place does not fit the batch")
        }
        let bytes = UnsafeRawBufferPointer(rebasing: payload[Int(offset)..<footer])
        guard let (inner, consumed) = try FrameDecoder().decode(bytes), consumed == bytes.count,
              inner.header.kind == frame.header.kind else {
            throw .invalid(field: "shadow.frame", reason: "the shadow frame is not a whole \(frame.header.kind) frame")
        }
        return inner
    }
}
