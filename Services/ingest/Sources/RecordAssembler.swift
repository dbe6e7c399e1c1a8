import Config

/// What became of a record once all of its fields were seen.
enum RecordVerdict {
    case accepted
    /// A field's last value had the wrong type (the earliest such field in the record).
    case wrongType(RecordError)
    /// A required field was absent, or its last value was null (JSON) or empty (CSV number/bool).
    case missing(field: Int, wasNull: Bool)
}

/// Collects one record's field values straight into the batch's column builders, keeping for
/// each field whether this record gave it a value, a null, or a value of the wrong type.
///
/// Duplicate keys: the last one wins (as Python's `json` does), whatever the earlier ones were.
/// Per-field state is stamped with a record serial number, so starting a record clears nothing.
/// Used as a local value for the span of one chunk (no class access on the hot path).
struct RecordAssembler {
    private static let absent: UInt8 = 0, value: UInt8 = 1, null: UInt8 = 2, wrongType: UInt8 = 3

    let builders: UnsafeMutablePointer<ColumnBuilder>
    /// `builders[f].values` of every field (one load on the hot path, not a 56-byte stride).
    let values: UnsafeMutablePointer<UnsafeMutableRawPointer>
    let fieldCount: Int
    let required: UnsafePointer<Bool>
    let stringFields: UnsafeBufferPointer<Int>
    let slotSerial: UnsafeMutablePointer<UInt32>
    let slotState: UnsafeMutablePointer<UInt8>
    /// Serial of the current record (never 0, so a zeroed `slotSerial` means "absent").
    private(set) var serial: UInt32
    /// Rows accepted so far in this batch; the current record writes row `row`.
    private(set) var row = 0
    private var valued = 0
    private var wrongTyped = 0
    private var issues: [RecordError] = []

    init(storage: ColumnStorage, required: UnsafePointer<Bool>, stringFields: UnsafeBufferPointer<Int>,
         slotSerial: UnsafeMutablePointer<UInt32>, slotState: UnsafeMutablePointer<UInt8>, serial: UInt32) {
        builders = storage.builders
        values = storage.valuePointers
        fieldCount = storage.fieldCount
        self.required = required
        self.stringFields = stringFields
        self.slotSerial = slotSerial
        self.slotState = slotState
        self.serial = serial
    }

    mutating func begin() {
        serial &+= 1
        if serial == 0 {
            slotSerial.update(repeating: 0, count: fieldCount)
            serial = 1
        }
        valued = 0
        wrongTyped = 0
        if !issues.isEmpty { issues.removeAll(keepingCapacity: true) }
    }

    private mutating func mark(_ f: Int, _ state: UInt8) {
        if slotSerial[f] != serial {
            // The usual case: the first time this record names the field.
            slotSerial[f] = serial
            slotState[f] = state
            if state == Self.value { valued &+= 1 } else if state == Self.wrongType { wrongTyped &+= 1 }
            return
        }
        let old = slotState[f]
        slotSerial[f] = serial
        slotState[f] = state
        if old == Self.value { valued -= 1 } else if old == Self.wrongType { wrongTyped -= 1 }
        if state == Self.value { valued += 1 } else if state == Self.wrongType { wrongTyped += 1 }
    }

    private func state(_ f: Int) -> UInt8 { slotSerial[f] == serial ? slotState[f] : Self.absent }

    mutating func setDouble(_ f: Int, _ v: Double) {
        values[f].storeBytes(of: v, toByteOffset: row &* 8, as: Double.self)
        mark(f, Self.value)
    }

    mutating func setInt(_ f: Int, _ v: Int64) {
        values[f].storeBytes(of: v, toByteOffset: row &* 8, as: Int64.self)
        mark(f, Self.value)
    }

    mutating func setBool(_ f: Int, _ v: Bool) {
        values[f].storeBytes(of: v, toByteOffset: row, as: Bool.self)
        mark(f, Self.value)
    }

    /// Where to write string field `f`'s bytes, with room for `capacity` of them (replacing any
    /// value an earlier duplicate gave it). Finish with `stringWritten(_:_:)`.
    mutating func stringDestination(_ f: Int, capacity: Int) -> UnsafeMutablePointer<UInt8> {
        builders[f].byteCount = Int(builders[f].offsets[row])
        builders[f].reserveBytes(capacity)
        return builders[f].bytes + builders[f].byteCount
    }

    mutating func stringWritten(_ f: Int, _ count: Int) {
        builders[f].byteCount += count
        mark(f, Self.value)
    }

    /// Every field has its value: the JSON fast path (`JSONFastPath`) stored them all itself.
    mutating func markAllValued() {
        valued = fieldCount
        wrongTyped = 0
    }

    /// JSON null, or an empty CSV field of a number or bool.
    mutating func setNull(_ f: Int) {
        if builders[f].type == .string { builders[f].byteCount = Int(builders[f].offsets[row]) }
        mark(f, Self.null)
    }

    /// A value of the wrong type; `issue` says where and what (its `field` is set here).
    mutating func setWrongType(_ f: Int, _ issue: RecordError) {
        if builders[f].type == .string { builders[f].byteCount = Int(builders[f].offsets[row]) }
        mark(f, Self.wrongType)
        issues.removeAll { $0.field == f }
        var issue = issue
        issue.field = f
        issues.append(issue)
    }

    /// Decides the record: accepted (its row is kept, defaults filled in for missing optional
    /// fields) or not (everything it wrote is dropped).
    mutating func finish() -> RecordVerdict {
        if valued == fieldCount {
            commitRow()
            return .accepted
        }
        if wrongTyped > 0 {
            let first = issues.filter { state($0.field) == Self.wrongType }.min { $0.position < $1.position }!
            rollback()
            return .wrongType(first)
        }
        for f in 0..<fieldCount where required[f] {
            let s = state(f)
            if s != Self.value {
                rollback()
                return .missing(field: f, wasNull: s == Self.null)
            }
        }
        for f in 0..<fieldCount where state(f) != Self.value {
            let b = builders + f
            switch b.pointee.type {
            case .float: b.pointee.values.storeBytes(of: Double.nan, toByteOffset: row * 8, as: Double.self)
            case .int: b.pointee.values.storeBytes(of: Int64(0), toByteOffset: row * 8, as: Int64.self)
            case .bool: b.pointee.values.storeBytes(of: false, toByteOffset: row, as: Bool.self)
            case .string: b.pointee.byteCount = Int(b.pointee.offsets[row])
            }
            b.pointee.missing[row] = true
            b.pointee.anyMissing = true
        }
        commitRow()
        return .accepted
    }

    private mutating func commitRow() {
        for f in stringFields { builders[f].offsets[row + 1] = UInt32(builders[f].byteCount) }
        row += 1
    }

    /// Drops whatever the current record wrote (after a syntax error, or when it is rejected).
    mutating func rollback() {
        for f in stringFields { builders[f].byteCount = Int(builders[f].offsets[row]) }
    }
}
