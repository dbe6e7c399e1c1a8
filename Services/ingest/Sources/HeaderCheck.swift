import Config

/// Whether a CSV header can fill the schema at all: a header that lacks a required field's
/// column, or is not valid CSV, rejects every record, so the run refuses it at once instead.
public enum HeaderCheck {
    /// Why no record under `header` (the header line, without its line end) can be accepted by
    /// `input`'s schema; nil when some can.
    public static func problem(header: [UInt8], input: InputSpec) -> String? {
        guard let table = try? FieldTable(names: input.fields.map(\.name)) else { return nil }  // the config load refuses those
        let parsed = header.withUnsafeBytes { CSVHeader(line: $0, fields: table) }
        let shown = String(decoding: header.prefix(200), as: UTF8.self) + (header.count > 200 ? "…" : "")
        if let problem = parsed.problem { return "\(problem.message) (header: `\(shown)`)" }
        let missing = input.fields.indices.filter { input.fields[$0].required && !parsed.inHeader[$0] }.map { "`\(input.fields[$0].name)`" }
        guard !missing.isEmpty else { return nil }
        let s = missing.count == 1 ? "" : "s"
        return "the CSV header has no column for the required field\(s) \(missing.joined(separator: ", ")) (header: `\(shown)`); "
            + "name the column\(s) so, or set `required = false` in [[input.field]]"
    }
}
