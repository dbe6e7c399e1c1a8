import Config
import Messages

/// What differs between the two output formats; the record layout itself is shared.
protocol RecordSyntax {
    /// A missing value or a non-finite float: `null` in JSON, an empty field in CSV.
    static func missing(_ c: inout ByteCursor)
    static func string(_ bytes: UnsafeRawBufferPointer, _ c: inout ByteCursor)
    /// Most bytes `string` writes for `count` input bytes.
    static func stringBound(_ count: Int) -> Int
    /// Around the values of `probabilities`: `[` and `]` in JSON; nothing in CSV (one field per class).
    static var listStart: StaticString? { get }
    static var listEnd: StaticString? { get }
}

enum JSONSyntax: RecordSyntax {
    static func missing(_ c: inout ByteCursor) { c.put("null") }
    static func string(_ bytes: UnsafeRawBufferPointer, _ c: inout ByteCursor) { c.putJSONString(bytes) }
    static func stringBound(_ count: Int) -> Int { count * 6 + 2 }
    static var listStart: StaticString? { "[" }
    static var listEnd: StaticString? { "]" }
}

enum CSVSyntax: RecordSyntax {
    static func missing(_ c: inout ByteCursor) {}
    static func string(_ bytes: UnsafeRawBufferPointer, _ c: inout ByteCursor) { c.putCSVField(bytes) }
    static func stringBound(_ count: Int) -> Int { count * 2 + 2 }
    static var listStart: StaticString? { nil }
    static var listEnd: StaticString? { nil }
}

/// How Float32 values are spelled: always `Float.description`'s text, by one of two writers.
enum FloatWriter {
    /// `ShortestFloat`: what the stage uses.
    case shortest
    /// Swift's own formatter through `Float.write(to:)`, the stage's path before `ShortestFloat`:
    /// the reference the stage benchmark compares against (same bytes, slower).
    case swift
}

/// Writes the output records of one score batch: one line per row, in row order.
struct RecordWriter {
    let plan: OutputPlan
    var floats = FloatWriter.shortest
    /// The current batch's float digits (`FloatWriter.shortest`).
    let digits = FloatDigits()

    /// - Parameters:
    ///   - scores: rows × cols model outputs.
    ///   - best: each row's argmax.
    ///   - passthrough: the envelope's passthrough columns, already checked against the plan.
    func write(scores: UnsafeBufferPointer<Float>, rows: Int, cols: Int, best: UnsafePointer<Int32>,
               passthrough: [ColumnView], into out: OutputBuffer) {
        plan.bytes.withUnsafeBytes { fixed in
            // One specialization per combination: the choice is made once per batch. The digits of
            // every value in SIMD lanes cost about a third of one value's alone (measured), so
            // they pay when a record writes at least a third of its row.
            let batch = 3 * floatsPerRow(cols) >= cols
            switch (plan.format, floats, batch) {
            case (.jsonl, .shortest, true): write(JSONSyntax.self, ShortestText.self, fixed, scores, rows, cols, best, passthrough, out)
            case (.csv, .shortest, true): write(CSVSyntax.self, ShortestText.self, fixed, scores, rows, cols, best, passthrough, out)
            case (.jsonl, .shortest, false): write(JSONSyntax.self, ShortestAloneText.self, fixed, scores, rows, cols, best, passthrough, out)
            case (.csv, .shortest, false): write(CSVSyntax.self, ShortestAloneText.self, fixed, scores, rows, cols, best, passthrough, out)
            case (.jsonl, .swift, _): write(JSONSyntax.self, SwiftText.self, fixed, scores, rows, cols, best, passthrough, out)
            case (.csv, .swift, _): write(CSVSyntax.self, SwiftText.self, fixed, scores, rows, cols, best, passthrough, out)
            }
        }
    }

    private func write<S: RecordSyntax, F: FloatText>(_: S.Type, _: F.Type, _ fixed: UnsafeRawBufferPointer, _ scores: UnsafeBufferPointer<Float>,
                                        _ rows: Int, _ cols: Int, _ best: UnsafePointer<Int32>,
                                        _ passthrough: [ColumnView], _ out: OutputBuffer) {
        // Every float field is at most maxFloat bytes plus a separator.
        let rowBound = plan.fixedLength + floatsPerRow(cols) * (ByteCursor.maxFloat + 1)
        F.prepare(scores, digits)
        let d = FloatDigitsView(digits)
        let pieces = fixed.baseAddress!
        for row in 0..<rows {
            var bound = rowBound
            for column in passthrough {
                bound += column.type == .string ? S.stringBound(column.string(row).count) : ByteCursor.maxDouble
            }
            // ShortestFloat and putPiece store whole words: room for their reach past the text.
            var c = out.reserve(bound + ShortestFloat.reach)
            for (i, column) in passthrough.enumerated() {
                c.putPiece(pieces, plan.passthroughPrefix[i])
                value(S.self, column, row, &c)
            }
            let first = row * cols
            let values = scores.baseAddress! + first
            for (k, field) in plan.fields.enumerated() {
                c.putPiece(pieces, plan.fieldPrefix[k])
                switch field {
                case .label:
                    let i = Int(best[row])
                    if let labels = plan.labels { c.putPiece(pieces, labels[i]) } else { c.putDecimal(Int64(i)) }
                case .score:
                    let j = Int(best[row])
                    float(S.self, F.self, values[j], first + j, d, &c)
                case .prediction:
                    float(S.self, F.self, values[0], first, d, &c)
                case .probabilities:
                    if let start = S.listStart { c.put(start) }
                    for j in 0..<cols {
                        if j > 0 { c.put(UInt8(ascii: ",")) }
                        float(S.self, F.self, values[j], first + j, d, &c)
                    }
                    if let end = S.listEnd { c.put(end) }
                case .modelVersion:
                    c.putPiece(pieces, plan.version)
                }
            }
            c.putPiece(pieces, plan.recordEnd)
            out.commit(c)
        }
    }

    /// The floats of a record: `probabilities` counts `cols`.
    private func floatsPerRow(_ cols: Int) -> Int {
        plan.fields.reduce(0) { $0 + ($1 == .probabilities ? cols : $1 == .label || $1 == .modelVersion ? 0 : 1) }
    }

    @inline(__always)
    private func float<S: RecordSyntax, F: FloatText>(_: S.Type, _: F.Type, _ x: Float, _ i: Int, _ d: FloatDigitsView,
                                                      _ c: inout ByteCursor) {
        if x.isFinite { F.put(x, i, d, &c) } else { S.missing(&c) }
    }

    /// A passthrough value: ints in decimal, floats shortest (non-finite as missing), strings
    /// escaped, bools `true`/`false`.
    @inline(__always)
    private func value<S: RecordSyntax>(_: S.Type, _ column: ColumnView, _ row: Int, _ c: inout ByteCursor) {
        if column.isMissing(row) {
            S.missing(&c)
            return
        }
        switch column.type {
        case .int: c.putDecimal(column.int(row))
        case .float:
            let x = column.double(row)
            if x.isFinite { c.putShortest(x) } else { S.missing(&c) }
        case .string: S.string(column.string(row), &c)
        case .bool: c.put(column.bool(row) ? "true" : "false")
        }
    }
}

/// A writer of finite Float32 values in `Float.description`'s text (see `FloatWriter`).
protocol FloatText {
    /// Called with each batch's values before any is written.
    static func prepare(_ values: UnsafeBufferPointer<Float>, _ digits: FloatDigits)
    /// Writes `x`, the batch's value `i`.
    static func put(_ x: Float, _ i: Int, _ d: FloatDigitsView, _ c: inout ByteCursor)
}

/// `ShortestFloat`, from the digits `FloatDigits` computed for the whole batch.
enum ShortestText: FloatText {
    static func prepare(_ values: UnsafeBufferPointer<Float>, _ digits: FloatDigits) { digits.compute(values) }

    @inline(__always)
    static func put(_ x: Float, _ i: Int, _ d: FloatDigitsView, _ c: inout ByteCursor) {
        c.position += ShortestFloat.write(x, head: d.heads[i], eight: d.eights[i], to: c.position)
    }
}

/// `ShortestFloat`, each value alone: for records that write few of their row's values.
enum ShortestAloneText: FloatText {
    static func prepare(_ values: UnsafeBufferPointer<Float>, _ digits: FloatDigits) {}

    @inline(__always)
    static func put(_ x: Float, _ i: Int, _ d: FloatDigitsView, _ c: inout ByteCursor) {
        c.position += ShortestFloat.write(x, to: c.position)
    }
}

/// Swift's formatter, as the stage wrote floats before `ShortestFloat`.
enum SwiftText: FloatText {
    static func prepare(_ values: UnsafeBufferPointer<Float>, _ digits: FloatDigits) {}

    static func put(_ x: Float, _ i: Int, _ d: FloatDigitsView, _ c: inout ByteCursor) { x.write(to: &c) }
}

/// `FloatDigits`' two arrays, as plain pointers for the loops (no class property loads).
struct FloatDigitsView {
    let eights: UnsafePointer<UInt64>
    let heads: UnsafePointer<UInt64>

    init(_ digits: FloatDigits) {
        eights = UnsafePointer(digits.eights)
        heads = UnsafePointer(digits.heads)
    }
}
