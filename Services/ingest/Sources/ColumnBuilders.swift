import Config
import Glibc
import Messages

/// The growing output of one schema field during a batch, in memory owned by `ColumnStorage`.
///
/// Rows are written in place at the current row index (a rejected record's values are simply
/// overwritten by the next record), so the hot path neither appends nor allocates.
struct ColumnBuilder {
    let type: FieldType
    /// float/int: 8 bytes per row; bool: 1 byte per row; string: UInt32 offsets, rows + 1 of them.
    var values: UnsafeMutableRawPointer
    var missing: UnsafeMutablePointer<Bool>
    var anyMissing = false
    /// String bytes of the batch (string columns only).
    var bytes: UnsafeMutablePointer<UInt8>
    var byteCount = 0
    var byteCapacity = 0

    var offsets: UnsafeMutablePointer<UInt32> { values.assumingMemoryBound(to: UInt32.self) }

    static func valueStride(_ type: FieldType) -> Int {
        switch type {
        case .float, .int: 8
        case .bool: 1
        case .string: 4
        }
    }

    /// Makes room for `extra` more string bytes; `bytes` may move.
    mutating func reserveBytes(_ extra: Int) {
        if byteCount + extra > byteCapacity { growBytes(byteCount + extra) }
    }

    private mutating func growBytes(_ needed: Int) {
        var capacity = max(byteCapacity, 4096)
        while capacity < needed { capacity *= 2 }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        grown.update(from: bytes, count: byteCount)
        bytes.deallocate()
        bytes = grown
        byteCapacity = capacity
    }
}

/// Owns the per-field buffers of `ColumnBuilder`s and reuses them from batch to batch; turns
/// them into `Column`s for the output frame.
final class ColumnStorage {
    let fieldCount: Int
    /// One builder per schema field, in schema order (mutated in place through the pointer).
    let builders: UnsafeMutablePointer<ColumnBuilder>
    /// `builders[f].values` for every field, kept in step by `prepare(rows:)`.
    let valuePointers: UnsafeMutablePointer<UnsafeMutableRawPointer>
    private(set) var rowCapacity = 0

    init(types: [FieldType]) {
        fieldCount = types.count
        builders = .allocate(capacity: max(fieldCount, 1))
        valuePointers = .allocate(capacity: max(fieldCount, 1))
        for (f, type) in types.enumerated() {
            (builders + f).initialize(to: ColumnBuilder(
                type: type,
                values: .allocate(byteCount: ColumnBuilder.valueStride(type), alignment: 8),
                missing: .allocate(capacity: 1),
                bytes: .allocate(capacity: 1)))
        }
        prepare(rows: 256)
    }

    deinit {
        for f in 0..<fieldCount {
            builders[f].values.deallocate()
            builders[f].missing.deallocate()
            builders[f].bytes.deallocate()
        }
        builders.deinitialize(count: fieldCount)
        builders.deallocate()
        valuePointers.deallocate()
    }

    /// Empties every column and makes room for `rows` rows.
    func prepare(rows: Int) {
        if rows > rowCapacity {
            var capacity = max(rowCapacity, 64)
            while capacity < rows { capacity *= 2 }
            for f in 0..<fieldCount {
                builders[f].values.deallocate()
                builders[f].missing.deallocate()
                let stride = ColumnBuilder.valueStride(builders[f].type)
                builders[f].values = .allocate(byteCount: (capacity + 1) * stride, alignment: 8)
                builders[f].missing = .allocate(capacity: capacity)
                valuePointers[f] = builders[f].values
            }
            rowCapacity = capacity
        }
        for f in 0..<fieldCount {
            builders[f].anyMissing = false
            builders[f].byteCount = 0
            builders[f].missing.initialize(repeating: false, count: rows)
            if builders[f].type == .string { builders[f].offsets[0] = 0 }
        }
    }

    /// The first `rows` rows of every field, as owned columns in schema order.
    func columns(rows: Int) -> [Column] {
        precondition(rows <= rowCapacity)
        return (0..<fieldCount).map { f in
            let b = builders[f]
            let missing = b.anyMissing ? Array(UnsafeBufferPointer(start: b.missing, count: rows)) : []
            switch b.type {
            case .float:
                let v = UnsafeBufferPointer(start: b.values.assumingMemoryBound(to: Double.self), count: rows)
                return Column(.float(Array(v)), missing: missing)
            case .int:
                let v = UnsafeBufferPointer(start: b.values.assumingMemoryBound(to: Int64.self), count: rows)
                return Column(.int(Array(v)), missing: missing)
            case .bool:
                let v = UnsafeBufferPointer(start: b.values.assumingMemoryBound(to: Bool.self), count: rows)
                return Column(.bool(Array(v)), missing: missing)
            case .string:
                let offsets = Array(UnsafeBufferPointer(start: b.offsets, count: rows + 1))
                let bytes = Array(UnsafeBufferPointer(start: b.bytes, count: Int(offsets[rows])))
                return Column(.string(offsets: offsets, bytes: bytes), missing: missing)
            }
        }
    }
}
