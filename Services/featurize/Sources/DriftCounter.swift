import Config
import Messages

/// Counts a record batch's input fields into the drift watch's slots (`DriftPlan`): per field,
/// one slot per row. Columns are read in place, one field at a time; numbers are binned by
/// counting, per edge, the values at or above it (`bin`), so watching 64 numeric fields costs
/// featurize little next to featurizing them.
struct DriftCounter {
    private enum Reader: Sendable {
        case number
        case textLength
        case string(CategoryTable)
        /// Bool columns: the slots of false and true (the values "false"/"true", else other).
        case bool(falseSlot: Int, trueSlot: Int)
    }

    private struct Entry: Sendable {
        var column: Int
        var field: DriftPlan.Field
        var offset: Int
        var reader: Reader
    }

    private let entries: [Entry]
    /// Slots of the input fields (the plan's first `slotCount`).
    let slotCount: Int
    /// Values gathered as doubles (ints, text lengths), reused from batch to batch.
    private let scratch = ScratchBuffer<Double>(capacity: 4096)

    /// - Throws: `FeaturizeError.driftField` when the plan names a field the schema lacks or
    ///   counts one in a way its type does not allow (the supervisor checked the profile; a
    ///   replica checks what it was sent).
    init(plan: DriftPlan, schema: InputSpec) throws(FeaturizeError) {
        var entries: [Entry] = []
        var offset = 0
        for field in plan.fields {
            guard let column = schema.fieldIndex(field.name) else {
                throw .driftField(field: field.name, reason: "is not in [[input.field]]")
            }
            let type = schema.fields[column].type
            let reader: Reader
            switch (field.kind, type) {
            case (.numeric, .float), (.numeric, .int): reader = .number
            case (.textLength, .string): reader = .textLength
            case (.categorical, .string):
                guard let table = CategoryTable(field.values) else { throw .driftField(field: field.name, reason: "repeats a value") }
                reader = .string(table)
            case (.categorical, .bool):
                let f = field.values.firstIndex(of: "false") ?? field.otherSlot
                let t = field.values.firstIndex(of: "true") ?? field.otherSlot
                reader = .bool(falseSlot: f, trueSlot: t)
            default:
                throw .driftField(field: field.name, reason: "is \(type.rawValue): it cannot be counted as \(field.kind.name)")
            }
            entries.append(Entry(column: column, field: field, offset: offset, reader: reader))
            offset += field.slotCount
        }
        self.entries = entries
        slotCount = offset
    }

    /// Adds the batch's rows to `counts` (which holds `slotCount` slots, zeroed by the caller).
    func count(_ columns: [ColumnView], rows: Int, into counts: UnsafeMutableBufferPointer<UInt32>) {
        scratch.reserve(rows)
        for e in entries {
            let c = columns[e.column]
            let base = counts.baseAddress! + e.offset
            let missing = e.field.missingSlot
            switch e.reader {
            case .number:
                e.field.edges.withUnsafeBufferPointer { edges in
                    if let values = c.floatValues, !c.hasMissingFlags {
                        // Read in place: no value is missing, and ingest never makes a NaN (neither JSON
                        // nor CSV spells one).
                        DriftPlan.Field.bin(values, rows: rows, edges: edges, into: base, missingSlot: missing, mayHoldNaN: false)
                    } else {
                        for row in 0..<rows { scratch.pointer[row] = c.isMissing(row) ? .nan : c.double(row) }
                        DriftPlan.Field.bin(UnsafeRawPointer(scratch.pointer), rows: rows, edges: edges, into: base, missingSlot: missing,
                                            mayHoldNaN: c.hasMissingFlags || c.type == .float)
                    }
                }
            case .textLength:
                for row in 0..<rows { scratch.pointer[row] = c.isMissing(row) ? .nan : Double(c.string(row).count) }
                e.field.edges.withUnsafeBufferPointer { edges in
                    DriftPlan.Field.bin(UnsafeRawPointer(scratch.pointer), rows: rows, edges: edges, into: base, missingSlot: missing,
                                        mayHoldNaN: c.hasMissingFlags)
                }
            case .string(let table):
                let other = e.field.otherSlot
                for row in 0..<rows {
                    base[c.isMissing(row) ? missing : table.index(of: c.string(row)) ?? other] += 1
                }
            case .bool(let falseSlot, let trueSlot):
                for row in 0..<rows {
                    base[c.isMissing(row) ? missing : c.bool(row) ? trueSlot : falseSlot] += 1
                }
            }
        }
    }
}
