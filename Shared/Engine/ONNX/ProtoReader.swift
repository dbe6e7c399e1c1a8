/// Protobuf wire types (the low three bits of a field key).
enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// A decoded field key: field number plus wire type.
struct FieldKey: Equatable, Sendable {
    var number: Int
    var wireType: WireType
}

/// A bounds-checked cursor over protobuf wire-format bytes.
///
/// Pure: no allocation beyond what the caller asks for, no I/O. Every length read from the input
/// is compared with the bytes that remain before it is used, so malformed or truncated input
/// throws `ModelError.Kind.malformed` and never reads out of bounds. Nested messages are read
/// through `readMessage()`, which returns a reader confined to the message's own bytes.
struct ProtoReader {
    let bytes: UnsafeRawBufferPointer
    /// Offset of `bytes[0]` in the whole input, so errors can point at the file position.
    let base: Int
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer, base: Int = 0) {
        self.bytes = bytes
        self.base = base
    }

    var isAtEnd: Bool { position >= bytes.count }
    var remaining: Int { bytes.count - position }

    func malformed(_ message: String) -> ModelError {
        ModelError(.malformed, message, offset: base + position)
    }

    /// Reads a base-128 varint of at most 10 bytes; the 10th byte may only carry the top bit.
    mutating func readVarint() throws(ModelError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = position
        while true {
            guard position < bytes.count else {
                position = start
                throw malformed("truncated varint")
            }
            let byte = bytes[position]
            position += 1
            if shift == 63 && byte > 1 {
                position = start
                throw malformed("varint longer than 64 bits")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// The next field key, or nil at the end of the message.
    mutating func readKey() throws(ModelError) -> FieldKey? {
        if isAtEnd { return nil }
        let key = try readVarint()
        guard let wire = WireType(rawValue: UInt8(key & 7)) else {
            throw malformed("invalid wire type \(key & 7)")
        }
        let number = key >> 3
        guard number >= 1, number <= 0x1FFF_FFFF else {
            throw malformed("invalid field number \(number)")
        }
        return FieldKey(number: Int(number), wireType: wire)
    }

    mutating func readFixed32() throws(ModelError) -> UInt32 {
        guard remaining >= 4 else { throw malformed("truncated fixed32") }
        let value = bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)
        position += 4
        return UInt32(littleEndian: value)
    }

    mutating func readFixed64() throws(ModelError) -> UInt64 {
        guard remaining >= 8 else { throw malformed("truncated fixed64") }
        let value = bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position += 8
        return UInt64(littleEndian: value)
    }

    /// Reads a length prefix and returns the bytes it covers, checked against what remains.
    mutating func readLengthDelimited() throws(ModelError) -> UnsafeRawBufferPointer {
        let lengthStart = position
        let length = try readVarint()
        guard length <= UInt64(remaining) else {
            let left = remaining
            position = lengthStart
            throw malformed("length \(length) exceeds the \(counted(left, "byte")) left")
        }
        let start = position
        position += Int(length)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<position])
    }

    /// A reader over the next length-delimited field (a nested message).
    mutating func readMessage() throws(ModelError) -> ProtoReader {
        let lengthEnd = try peekLengthEnd()
        let slice = try readLengthDelimited()
        return ProtoReader(slice, base: base + lengthEnd)
    }

    /// Position right after the length prefix (where the payload starts), for error offsets.
    private func peekLengthEnd() throws(ModelError) -> Int {
        var probe = self
        _ = try probe.readVarint()
        return probe.position
    }

    /// Skips a field whose number is unknown to the caller.
    mutating func skip(_ wireType: WireType) throws(ModelError) {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimited()
        case .startGroup, .endGroup: throw malformed("protobuf groups are not used by ONNX")
        }
    }

    /// Decodes a zigzag-encoded signed value (`sint32`/`sint64`).
    static func zigzag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }
}
