/// The fixed 32-byte little-endian header in front of every frame.
///
///     offset size field
///     0      4    magic "PIPL"
///     4      2    protocol version
///     6      1    kind (FrameKind)
///     7      1    flags (FrameFlags)
///     8      4    stream id
///     12     4    row count
///     16     8    batch sequence number
///     24     4    payload length (bytes after the header, padding included)
///     28     4    model slots (`ModelSlots`: which versions score the batch)
///
/// A whole frame (header + payload) is a multiple of 64 bytes, so that every frame in a stream
/// starts 64-byte aligned when the receive buffer does, and float matrices placed at 64-byte
/// offsets inside a payload can be read in place by the kernels.
public struct FrameHeader: Equatable, Sendable {
    public static let size = 32
    public static let alignment = 64
    public static let magic: UInt32 = 0x4C50_4950  // "PIPL" as little-endian bytes
    public static let version: UInt16 = 1

    public var kind: FrameKind
    public var flags: FrameFlags
    public var stream: UInt32
    public var rowCount: UInt32
    public var sequence: UInt64
    public var payloadLength: UInt32
    /// Which model versions score the batch (data frames; zero elsewhere).
    public var model = ModelSlots()

    public init(kind: FrameKind, flags: FrameFlags = [], stream: UInt32 = 0, rowCount: UInt32 = 0,
                sequence: UInt64 = 0, payloadLength: UInt32 = 0) {
        self.kind = kind
        self.flags = flags
        self.stream = stream
        self.rowCount = rowCount
        self.sequence = sequence
        self.payloadLength = payloadLength
    }

    /// Header plus payload.
    public var frameLength: Int { Self.size + Int(payloadLength) }

    /// Writes the 32 header bytes at `p`.
    public func store(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: Self.magic.littleEndian, toByteOffset: 0, as: UInt32.self)
        p.storeBytes(of: Self.version.littleEndian, toByteOffset: 4, as: UInt16.self)
        p.storeBytes(of: kind.rawValue, toByteOffset: 6, as: UInt8.self)
        p.storeBytes(of: flags.rawValue, toByteOffset: 7, as: UInt8.self)
        p.storeBytes(of: stream.littleEndian, toByteOffset: 8, as: UInt32.self)
        p.storeBytes(of: rowCount.littleEndian, toByteOffset: 12, as: UInt32.self)
        p.storeBytes(of: sequence.littleEndian, toByteOffset: 16, as: UInt64.self)
        p.storeBytes(of: payloadLength.littleEndian, toByteOffset: 24, as: UInt32.self)
        p.storeBytes(of: model.rawValue.littleEndian, toByteOffset: 28, as: UInt32.self)
    }

    /// Overwrites the stream id, flags and model slots of the frame header at `p` (a host
    /// carrying a batch's identity from the frame it received to the frame it sends on).
    public static func restamp(_ p: UnsafeMutableRawPointer, stream: UInt32, flags: FrameFlags, model: ModelSlots) {
        p.storeBytes(of: flags.rawValue, toByteOffset: 7, as: UInt8.self)
        p.storeBytes(of: stream.littleEndian, toByteOffset: 8, as: UInt32.self)
        p.storeBytes(of: model.rawValue.littleEndian, toByteOffset: 28, as: UInt32.self)
    }

    /// Overwrites the model slots of the frame header at `p` (a batch rolled back to another version).
    public static func restamp(_ p: UnsafeMutableRawPointer, model: ModelSlots) {
        p.storeBytes(of: model.rawValue.littleEndian, toByteOffset: 28, as: UInt32.self)
    }

    /// Reads and validates a header from the first 32 bytes of `bytes`.
    /// - Throws: `FrameError` for a bad magic, version or kind, a payload over `maxPayload`, or
    ///   a frame length that is not a multiple of 64.
    public static func load(from bytes: UnsafeRawBufferPointer, maxPayload: Int) throws(FrameError) -> FrameHeader {
        precondition(bytes.count >= size, "FrameHeader.load needs \(size) bytes")
        let magic = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        guard magic == Self.magic else { throw .badMagic(magic) }
        let version = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        guard version == Self.version else { throw .unsupportedVersion(version) }
        let rawKind = bytes[6]
        guard let kind = FrameKind(rawValue: rawKind) else { throw .unknownKind(rawKind) }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt32.self)))
        guard length <= maxPayload else { throw .tooLarge(length: length, limit: maxPayload) }
        guard (size + length) % alignment == 0 else { throw .misaligned(length: size + length) }
        var h = FrameHeader(
            kind: kind,
            flags: FrameFlags(rawValue: bytes[7]),
            stream: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)),
            rowCount: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self)),
            sequence: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
            payloadLength: UInt32(length))
        h.model = ModelSlots(rawValue: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 28, as: UInt32.self)))
        return h
    }
}
