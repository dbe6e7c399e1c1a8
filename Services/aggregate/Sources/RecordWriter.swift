import Config
import Messages

/// What differs between the two output formats; the record layout itself is shared.
protocol RecordSyntax {
    /// A missing value or a non-finite float: `null` in JSON, an empty field in CSV.
    static func missing(_ out: OutputBuffer)
    static func string(_ bytes: UnsafeRawBufferPointer, _ out: OutputBuffer)
    /// Around and between the values of `probabilities`: `[`, `,`, `]` in JSON; one field per
    /// class in CSV.
    static var listStart: StaticString? { get }
    static var listEnd: StaticString? { get }
}

enum JSONSyntax: RecordSyntax {
    static func missing(_ out: OutputBuffer) { out.append("null") }
    static func string(_ bytes: UnsafeRawBufferPointer, _ out: OutputBuffer) { out.append(jsonString: bytes) }
    static var listStart: StaticString? { "[" }
    static var listEnd: StaticString? { "]" }
}

enum CSVSyntax: RecordSyntax {
    static func missing(_ out: OutputBuffer) {}
    static func string(_ bytes: UnsafeRawBufferPointer, _ out: OutputBuffer) { out.append(csvField: bytes) }
    static var listStart: StaticString? { nil }
    static var listEnd: StaticString? { nil }
}

/// Writes the output records of one score batch: one line per row, in row order.
struct RecordWriter {
    let plan: OutputPlan

    /// - Parameters:
    ///   - scores: rows × cols model outputs.
    ///   - best: each row's argmax.
    ///   - passthrough: the envelope's passthrough columns, checked against the plan.
    func write(scores: UnsafeBufferPointer<Float>, rows: Int, cols: Int, best: UnsafePointer<Int32>,
               passthrough: [ColumnView], into out: OutputBuffer) {
        switch plan.format {
        case .jsonl: write(JSONSyntax.self, scores, rows, cols, best, passthrough, out)
        case .csv: write(CSVSyntax.self, scores, rows, cols, best, passthrough, out)
        }
    }

    private func write<S: RecordSyntax>(_ syntax: S.Type, _ scores: UnsafeBufferPointer<Float>, _ rows: Int,
                                        _ cols: Int, _ best: UnsafePointer<Int32>, _ passthrough: [ColumnView],
                                        _ out: OutputBuffer) {
        for row in 0..<rows {
            for (i, column) in passthrough.enumerated() {
                out.append(plan.passthroughPrefix[i])
                value(S.self, column, row, out)
            }
            let values = scores.baseAddress! + row * cols
            for (k, field) in plan.fields.enumerated() {
                out.append(plan.fieldPrefix[k])
                switch field {
                case .label:
                    let i = Int(best[row])
                    if let labels = plan.labels { out.append(labels[i]) } else { out.append(decimal: Int64(i)) }
                case .score:
                    float(S.self, values[Int(best[row])], out)
                case .prediction:
                    float(S.self, values[0], out)
                case .probabilities:
                    if let start = S.listStart { out.append(start) }
                    for j in 0..<cols {
                        if j > 0 { out.append(UInt8(ascii: ",")) }
                        float(S.self, values[j], out)
                    }
                    if let end = S.listEnd { out.append(end) }
                }
            }
            out.append(plan.recordEnd)
        }
    }

    @inline(__always)
    private func float<S: RecordSyntax>(_: S.Type, _ x: Float, _ out: OutputBuffer) {
        if x.isFinite { out.append(shortest: x) } else { S.missing(out) }
    }

    /// A passthrough value: ints in decimal, floats shortest (non-finite as missing), strings
    /// escaped, bools `true`/`false`.
    @inline(__always)
    private func value<S: RecordSyntax>(_: S.Type, _ column: ColumnView, _ row: Int, _ out: OutputBuffer) {
        if column.isMissing(row) {
            S.missing(out)
            return
        }
        switch column.type {
        case .int: out.append(decimal: column.int(row))
        case .float:
            let x = column.double(row)
            if x.isFinite { out.append(shortest: x) } else { S.missing(out) }
        case .string: S.string(column.string(row), out)
        case .bool: out.append(column.bool(row) ? "true" : "false")
        }
    }
}
