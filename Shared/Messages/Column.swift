#if !_endian(little)
#error("the wire format is little-endian and columns are copied as whole arrays: port Column.encode first")
#endif

/// The type of a record column (one schema field).
public enum ColumnType: UInt8, Sendable {
    case float = 0, int = 1, string = 2, bool = 3
}

/// One field's values for every row of a batch, owned (the form encoders write).
///
/// Missing values (an optional field that was absent or null) are flagged in `missing`
/// (empty = none missing); their slot holds NaN, 0, "" or false.
public struct Column: Sendable, Equatable {
    public enum Values: Sendable, Equatable {
        case float([Double])
        case int([Int64])
        /// `offsets` has rows + 1 entries; row i is `bytes[offsets[i]..<offsets[i+1]]`.
        case string(offsets: [UInt32], bytes: [UInt8])
        case bool([Bool])
    }

    public var values: Values
    public var missing: [Bool]

    public init(_ values: Values, missing: [Bool] = []) {
        self.values = values
        self.missing = missing
    }

    public var type: ColumnType {
        switch values {
        case .float: .float
        case .int: .int
        case .string: .string
        case .bool: .bool
        }
    }

    public var count: Int {
        switch values {
        case .float(let v): v.count
        case .int(let v): v.count
        case .string(let offsets, _): max(offsets.count - 1, 0)
        case .bool(let v): v.count
        }
    }

    /// Wire layout: u8 type, u8 hasMissing, u16 0, u32 rows; [missing: rows × u8]; values aligned
    /// to 8 (f64 / i64 / u8 per bool; strings: u32 byte count, (rows+1) × u32 offsets, bytes).
    public func encode(into out: FrameBuffer) {
        let rows = count
        precondition(missing.isEmpty || missing.count == rows, "missing flags must cover every row")
        out.pad(to: 8)
        out.append(type.rawValue)
        out.append(UInt8(missing.isEmpty ? 0 : 1))
        out.append(UInt16(0))
        out.append(UInt32(rows))
        // Whole arrays are copied at once: on a little-endian host their memory is the wire form
        // (Bool is stored as the byte 0 or 1). Per-value appends made this ~15% of ingest's time.
        if !missing.isEmpty {
            missing.withUnsafeBytes { out.append(bytes: $0) }
        }
        out.pad(to: 8)
        switch values {
        case .float(let v): v.withUnsafeBytes { out.append(bytes: $0) }
        case .int(let v): v.withUnsafeBytes { out.append(bytes: $0) }
        case .bool(let v): v.withUnsafeBytes { out.append(bytes: $0) }
        case .string(let offsets, let bytes):
            out.append(UInt32(bytes.count))
            offsets.withUnsafeBytes { out.append(bytes: $0) }
            out.append(bytes: bytes)
        }
        out.pad(to: 8)
    }
}

/// One column read in place from a received frame.
///
/// - Important: valid only while the frame's bytes are (see `Frame`).
public struct ColumnView {
    public let type: ColumnType
    public let count: Int
    // @usableFromInline and the accessors @inlinable: the stages read every value through them,
    // and a cross-module call per value cost featurize ~35% of its time (measured with perf).
    @usableFromInline let missingFlags: UnsafeRawBufferPointer?
    @usableFromInline let data: UnsafeRawBufferPointer
    @usableFromInline let offsets: UnsafeBufferPointer<UInt32>
    @usableFromInline let stringBytes: UnsafeRawBufferPointer
    /// The column's whole wire encoding (copied verbatim when a stage forwards it).
    public private(set) var encoded = UnsafeRawBufferPointer(start: nil, count: 0)

    static func decode(_ r: inout ByteReader) throws(FrameError) -> ColumnView {
        try r.skip(to: 8)
        let start = r.offset
        guard let type = ColumnType(rawValue: try r.read(UInt8.self, "column.type")) else {
            throw .invalid(field: "column.type", reason: "unknown column type")
        }
        let hasMissing = try r.read(UInt8.self, "column.hasMissing") != 0
        _ = try r.read(UInt16.self, "column.reserved")
        let rows = try r.readCount("column.rows", elementSize: 1)
        let missing = hasMissing ? try r.bytes(rows, "column.missing") : nil
        try r.skip(to: 8)
        var data = UnsafeRawBufferPointer(start: nil, count: 0)
        var offsets = UnsafeBufferPointer<UInt32>(start: nil, count: 0)
        var stringBytes = UnsafeRawBufferPointer(start: nil, count: 0)
        switch type {
        case .float, .int: data = try r.bytes(try checked(rows, 8, &r), "column.values")
        case .bool: data = try r.bytes(rows, "column.values")
        case .string:
            let total = Int(try r.read(UInt32.self, "column.stringBytes"))
            offsets = try r.array(UInt32.self, count: rows + 1, "column.offsets")
            stringBytes = try r.bytes(total, "column.bytes")
            var previous: UInt32 = 0
            for o in offsets {
                guard o >= previous, Int(o) <= total else {
                    throw .invalid(field: "column.offsets", reason: "offsets out of order or past the end")
                }
                previous = o
            }
            guard offsets.first == 0 else {
                throw .invalid(field: "column.offsets", reason: "first offset must be 0")
            }
        }
        try r.skip(to: 8)
        var view = ColumnView(type: type, count: rows, missingFlags: missing, data: data, offsets: offsets,
                              stringBytes: stringBytes)
        view.encoded = UnsafeRawBufferPointer(rebasing: r.bytes[start..<r.offset])
        return view
    }

    private static func checked(_ rows: Int, _ size: Int, _ r: inout ByteReader) throws(FrameError) -> Int {
        guard rows <= r.remaining / size else { throw .truncated(field: "column.values") }
        return rows * size
    }

    /// A float column's values in place: `count` little-endian Float64 values, 8-byte aligned
    /// in the frame (read them with `loadUnaligned`); a missing value's slot holds NaN. nil
    /// for the other types.
    @inlinable
    public var floatValues: UnsafeRawPointer? { type == .float ? data.baseAddress : nil }

    /// Whether the column carries missing flags (an optional field: some row may be missing).
    @inlinable
    public var hasMissingFlags: Bool { missingFlags != nil }

    @inlinable
    public func isMissing(_ row: Int) -> Bool {
        guard let m = missingFlags else { return false }
        return m[row] != 0
    }

    /// The value of a float column as Double; int and bool columns convert.
    @inlinable
    public func double(_ row: Int) -> Double {
        precondition(row >= 0 && row < count)
        switch type {
        case .float: return Double(bitPattern: UInt64(littleEndian: data.loadUnaligned(fromByteOffset: row * 8, as: UInt64.self)))
        case .int: return Double(Int64(littleEndian: data.loadUnaligned(fromByteOffset: row * 8, as: Int64.self)))
        case .bool: return data[row] != 0 ? 1 : 0
        case .string: return .nan
        }
    }

    @inlinable
    public func int(_ row: Int) -> Int64 {
        precondition(row >= 0 && row < count)
        switch type {
        case .int: return Int64(littleEndian: data.loadUnaligned(fromByteOffset: row * 8, as: Int64.self))
        case .bool: return data[row] != 0 ? 1 : 0
        case .float:
            let d = double(row)
            return d.isFinite && abs(d) < 9.2e18 ? Int64(d) : 0
        case .string: return 0
        }
    }

    @inlinable
    public func bool(_ row: Int) -> Bool {
        precondition(row >= 0 && row < count)
        switch type {
        case .bool: return data[row] != 0
        case .int, .float: return double(row) != 0
        case .string: return string(row).count > 0
        }
    }

    /// The UTF-8 bytes of a string column's value, in place.
    @inlinable
    public func string(_ row: Int) -> UnsafeRawBufferPointer {
        precondition(type == .string && row >= 0 && row < count)
        return UnsafeRawBufferPointer(rebasing: stringBytes[Int(offsets[row])..<Int(offsets[row + 1])])
    }

    /// An owned copy (tests, re-encoding).
    public func toColumn() -> Column {
        var missing: [Bool] = []
        if let m = missingFlags { missing = m.map { $0 != 0 } }
        switch type {
        case .float: return Column(.float((0..<count).map(double)), missing: missing)
        case .int: return Column(.int((0..<count).map(int)), missing: missing)
        case .bool: return Column(.bool((0..<count).map(bool)), missing: missing)
        case .string: return Column(.string(offsets: Array(offsets), bytes: Array(stringBytes)), missing: missing)
        }
    }

    /// Appends this column's encoding unchanged (a forwarded passthrough column).
    public func encode(into out: FrameBuffer) {
        out.pad(to: 8)
        out.append(bytes: encoded)
    }
}
