import Config
import Messages

/// Counts a record batch's input fields into the drift watch's slots (`DriftPlan`): per field,
/// one slot per row. Columns are read in place, one field at a time.
struct DriftCounter: Sendable {
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
        for e in entries {
            let c = columns[e.column]
            let base = counts.baseAddress! + e.offset
            let missing = e.field.missingSlot
            switch e.reader {
            case .number:
                for row in 0..<rows {
                    base[c.isMissing(row) ? missing : e.field.slot(of: c.double(row))] += 1
                }
            case .textLength:
                for row in 0..<rows {
                    base[c.isMissing(row) ? missing : e.field.slot(of: Double(c.string(row).count))] += 1
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
