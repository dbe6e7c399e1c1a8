/// Typed accessors on top of the raw wire reads: each checks the wire type against the field's
/// declared type, and the repeated ones accept both packed and unpacked encodings (a parser must
/// take both, whatever the `.proto` says).
extension ProtoReader {
    private mutating func expect(_ key: FieldKey, _ wire: WireType) throws(ModelError) {
        guard key.wireType == wire else {
            throw malformed("field \(key.number) has wire type \(key.wireType.rawValue), expected \(wire.rawValue)")
        }
    }

    mutating func int64(_ key: FieldKey) throws(ModelError) -> Int64 {
        try expect(key, .varint)
        return Int64(bitPattern: try readVarint())
    }

    /// `int32` fields are varints; negative values are sign-extended to 64 bits on the wire.
    mutating func int32(_ key: FieldKey) throws(ModelError) -> Int32 {
        try expect(key, .varint)
        return Int32(truncatingIfNeeded: try readVarint())
    }

    mutating func float(_ key: FieldKey) throws(ModelError) -> Float {
        try expect(key, .fixed32)
        return Float(bitPattern: try readFixed32())
    }

    mutating func byteArray(_ key: FieldKey) throws(ModelError) -> [UInt8] {
        try expect(key, .lengthDelimited)
        return Array(try readLengthDelimited())
    }

    /// Where a bytes field lies in the whole input (absolute offsets), without copying it.
    mutating func byteRange(_ key: FieldKey) throws(ModelError) -> Range<Int> {
        try expect(key, .lengthDelimited)
        let payload = try readLengthDelimited()
        let end = base + position
        return (end - payload.count)..<end
    }

    /// A UTF-8 string; invalid sequences become U+FFFD rather than failing.
    mutating func string(_ key: FieldKey) throws(ModelError) -> String {
        try expect(key, .lengthDelimited)
        return String(decoding: try readLengthDelimited(), as: UTF8.self)
    }

    mutating func message(_ key: FieldKey) throws(ModelError) -> ProtoReader {
        try expect(key, .lengthDelimited)
        return try readMessage()
    }

    mutating func appendFloats(_ key: FieldKey, to out: inout [Float]) throws(ModelError) {
        if key.wireType == .fixed32 { out.append(Float(bitPattern: try readFixed32())); return }
        try expect(key, .lengthDelimited)
        let raw = try readLengthDelimited()
        guard raw.count % 4 == 0 else { throw malformed("packed float field \(key.number) has \(raw.count) bytes") }
        out.reserveCapacity(out.count + raw.count / 4)
        for i in stride(from: 0, to: raw.count, by: 4) {
            out.append(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt32.self))))
        }
    }

    mutating func appendDoubles(_ key: FieldKey, to out: inout [Double]) throws(ModelError) {
        if key.wireType == .fixed64 { out.append(Double(bitPattern: try readFixed64())); return }
        try expect(key, .lengthDelimited)
        let raw = try readLengthDelimited()
        guard raw.count % 8 == 0 else { throw malformed("packed double field \(key.number) has \(raw.count) bytes") }
        out.reserveCapacity(out.count + raw.count / 8)
        for i in stride(from: 0, to: raw.count, by: 8) {
            out.append(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))))
        }
    }

    /// Repeated varint field (int64, int32, uint64, enum), as raw 64-bit values.
    mutating func appendVarints(_ key: FieldKey, to out: inout [UInt64]) throws(ModelError) {
        if key.wireType == .varint { out.append(try readVarint()); return }
        try expect(key, .lengthDelimited)
        var packed = try readMessage()
        while !packed.isAtEnd { out.append(try packed.readVarint()) }
    }

    mutating func appendInt64s(_ key: FieldKey, to out: inout [Int64]) throws(ModelError) {
        var raw: [UInt64] = []
        try appendVarints(key, to: &raw)
        out.append(contentsOf: raw.lazy.map { Int64(bitPattern: $0) })
    }

    mutating func appendInt32s(_ key: FieldKey, to out: inout [Int32]) throws(ModelError) {
        var raw: [UInt64] = []
        try appendVarints(key, to: &raw)
        out.append(contentsOf: raw.lazy.map { Int32(truncatingIfNeeded: $0) })
    }
}
