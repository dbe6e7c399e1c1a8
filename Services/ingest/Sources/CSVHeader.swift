import Messages

/// A CSV header line mapped onto the schema, kept while chunks carry the same header.
///
/// The header follows the record rules (quoted names, doubled quotes); a UTF-8 byte order mark
/// before it is dropped. Names match schema fields by their exact bytes. A schema field missing
/// from the header is missing in every record; columns no field takes are ignored; when a name
/// appears twice the later column wins (as a later duplicate key does in JSON).
struct CSVHeader {
    /// The header line this was made from.
    let line: [UInt8]
    /// Schema field of each column, or -1.
    let fieldOfColumn: [Int]
    /// For each schema field: whether some column fills it.
    let inHeader: [Bool]
    /// Set when the header itself is not valid CSV or UTF-8: every record is then rejected with it.
    let problem: (code: RejectCode, message: String)?

    init(line raw: UnsafeRawBufferPointer, fields: FieldTable) {
        line = Array(raw)
        var fieldOfColumn: [Int] = []
        var inHeader = [Bool](repeating: false, count: fields.count)
        var problem: (RejectCode, String)?
        var bytes = line
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        if bytes.last == 0x0D { bytes.removeLast() }
        bytes.append(0)  // so that an empty header still has a base address
        bytes.withUnsafeBufferPointer { buffer in
            let p = buffer.baseAddress!
            let end = buffer.count - 1
            if let bad = UTF8Validation.firstInvalid(p, 0, end) {
                problem = (.invalidUTF8, "the CSV header line has invalid UTF-8 at byte \(bad + 1)")
                return
            }
            var i = 0
            do throws(RecordError) {
                while true {
                    let (field, next) = try CSVFields.read(p, i, end)
                    let name = UnsafeMutablePointer<UInt8>.allocate(capacity: max(field.end - field.start, 1))
                    defer { name.deallocate() }
                    let f = fields.lookup(name, CSVFields.copy(p, field, to: name))
                    if f >= 0 {
                        if inHeader[f], let earlier = fieldOfColumn.firstIndex(of: f) { fieldOfColumn[earlier] = -1 }
                        inHeader[f] = true
                    }
                    fieldOfColumn.append(f)
                    guard let n = next else { break }
                    i = n
                }
            } catch {
                problem = (.csvSyntax, "the CSV header line is not valid CSV: at byte \(error.position + 1): \(error.detail)")
            }
        }
        self.fieldOfColumn = fieldOfColumn
        self.inHeader = inHeader
        self.problem = problem
    }

    /// True when `raw` is the line this header was made from.
    func isMade(from raw: UnsafeRawBufferPointer) -> Bool {
        line.count == raw.count && line.withUnsafeBytes { $0.elementsEqual(raw) }
    }
}
