import Config
import Messages

/// The `[output]` section compiled once: the fixed bytes around each value of a record, the
/// labels already escaped for the format, and the passthrough columns' expected types.
///
/// All fixed pieces live in one byte array (`bytes`), addressed by ranges, so the writer touches
/// one buffer per batch.
struct OutputPlan {
    let format: OutputFormat
    let fields: [OutputField]
    /// The passthrough columns' types, in `[output] passthrough` order (the schema's types).
    let passthroughTypes: [ColumnType]
    /// Every fixed piece, back to back, then `padding` zero bytes: the writer copies pieces in
    /// whole 32-byte blocks (`ByteCursor.putBlocks`).
    let bytes: [UInt8]
    static let padding = 32
    /// Before each passthrough value: `{"id":` / `,"amount":` (JSON), `` / `,` (CSV).
    let passthroughPrefix: [Range<Int>]
    /// Before each of `fields`, likewise.
    let fieldPrefix: [Range<Int>]
    /// Ends a record: `}\n` (`{}\n` for a record with nothing in it) or `\n`.
    let recordEnd: Range<Int>
    /// Each label as the format writes it: an integer in decimal (a JSON number), a string
    /// quoted and escaped; nil when `labels` is not given.
    let labels: [Range<Int>]?
    /// The model version's id as the format writes it (a JSON string; a CSV field).
    let version: Range<Int>
    /// The most bytes the pieces of one record other than passthrough values and floats take.
    let fixedLength: Int

    init(config: PipelineConfig) throws(AggregateError) {
        let output = config.output
        var types: [ColumnType] = []
        for name in output.passthrough {
            guard let i = config.input.fieldIndex(name) else { throw .unknownPassthrough(field: name) }
            types.append(Self.columnType(config.input.fields[i].type))
        }
        if let labels = output.labels, labels.isEmpty { throw .emptyLabels }
        format = output.format
        fields = output.fields
        passthroughTypes = types

        var bytes: [UInt8] = []
        func piece(_ b: [UInt8]) -> Range<Int> {
            bytes += b
            return (bytes.count - b.count)..<bytes.count
        }
        var keys: [[UInt8]] = output.passthrough.map { escaped($0, json: true) }
        keys += output.fields.map { Array("\"\($0.rawValue)\"".utf8) }
        var prefixes: [Range<Int>] = []
        for (i, key) in keys.enumerated() {
            switch format {
            case .jsonl: prefixes.append(piece(Array((i == 0 ? "{" : ",").utf8) + key + [UInt8(ascii: ":")]))
            case .csv: prefixes.append(piece(i == 0 ? [] : [UInt8(ascii: ",")]))
            }
        }
        passthroughPrefix = Array(prefixes[..<output.passthrough.count])
        fieldPrefix = Array(prefixes[output.passthrough.count...])
        switch format {
        case .jsonl: recordEnd = piece(Array((keys.isEmpty ? "{}\n" : "}\n").utf8))
        case .csv: recordEnd = piece([0x0A])
        }
        labels = output.labels.map { labels in
            labels.map { label in
                switch label {
                case .int(let value): piece(Array(String(value).utf8))
                case .string(let name): piece(escaped(name, json: output.format == .jsonl))
                }
            }
        }
        version = piece(escaped(config.model.version ?? "", json: output.format == .jsonl))
        // Prefixes, the record end, the longest label (or an index), list brackets, the version.
        fixedLength = prefixes.reduce(0) { $0 + $1.count } + recordEnd.count
            + max(labels?.map(\.count).max() ?? 0, 20) + 2 + version.count
        self.bytes = bytes + Array(repeating: 0, count: Self.padding)
    }

    /// The CSV header line, newline included: passthrough names, then `label`, `score`,
    /// `p_<label or index>` per class, `prediction`, as `fields` orders them.
    static func csvHeader(_ output: OutputSpec, classes: Int?) throws(AggregateError) -> String {
        var names = output.passthrough
        for field in output.fields {
            switch field {
            case .label, .score, .prediction, .modelVersion:
                names.append(field.rawValue)
            case .probabilities:
                if let labels = output.labels {
                    names += labels.map { "p_\($0.description)" }
                } else {
                    guard let classes else { throw .unknownClassCount }
                    names += (0..<classes).map { "p_\($0)" }
                }
            }
        }
        let bytes = names.map { escaped($0, json: false) }
        return String(decoding: Array(bytes.joined(separator: [UInt8(ascii: ",")])) + [0x0A], as: UTF8.self)
    }

    private static func columnType(_ type: FieldType) -> ColumnType {
        switch type {
        case .float: .float
        case .int: .int
        case .string: .string
        case .bool: .bool
        }
    }
}
