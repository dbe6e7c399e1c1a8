/// Edits to a TOML document's text that keep every other byte as written: comments, layout,
/// key order. Used where a config must be carried elsewhere with a value changed (a model path
/// as a pod sees it) and the user should still recognise their file.
public enum TOMLEdit {
    /// `text` with the string value at `path` (e.g. `["model", "path"]`) replaced by `value`,
    /// written as a basic string; whatever form the key was written in (`[model]` then
    /// `path = …`, `model.path = …`, `model = { path = … }`).
    /// - Throws: `ConfigError` when `text` does not parse, or has no string at `path`.
    public static func replacingString(at path: [String], in text: String, file: String,
                                       with value: String) throws(ConfigError) -> String {
        let bytes = Array(text.utf8)
        let root = try TOMLParser.parse(bytes: bytes, file: file)
        guard let found = lookUp(path, in: root), found.string != nil else {
            throw ConfigError(.missingKey, file: file, position: .start,
                              message: "no string `\(path.joined(separator: "."))` to replace")
        }
        var lexer = try TOMLLexer(bytes: bytes, file: file)
        while lexer.position != found.position && !lexer.isAtEnd { lexer.advance() }
        let start = lexer.index
        _ = try lexer.scanString()
        var out = Array(bytes[..<start])
        out += basicString(value).utf8
        out += bytes[lexer.index...]
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` with `key = literal` added to the table `table` (a top-level name such as
    /// `autoscale`): on the line after its `[table]` header; when the document has no such table,
    /// as a new `[table]` at the end. `literal` is TOML as written (`2`, `"x"`).
    /// - Returns: nil when the table exists but was not written with a `[table]` header (a dotted
    ///   key or an inline table, where no line can take the key), or already has `key`.
    /// - Throws: `ConfigError` when `text` does not parse.
    public static func addingKey(_ key: String, literal: String, toTable table: String, in text: String,
                                 file: String) throws(ConfigError) -> String? {
        let bytes = Array(text.utf8)
        let root = try TOMLParser.parse(bytes: bytes, file: file)
        let line = Array("\(key) = \(literal)\n".utf8)
        guard let existing = root[table] else {
            var out = bytes
            if !out.isEmpty && out.last != Ascii.lineFeed { out.append(Ascii.lineFeed) }
            out += "\n[\(table)]\n".utf8
            out += line
            return String(decoding: out, as: UTF8.self)
        }
        guard let found = existing.table, found.origin == .header, found[key] == nil else { return nil }
        var lexer = try TOMLLexer(bytes: bytes, file: file)
        while lexer.position != found.position && !lexer.isAtEnd { lexer.advance() }
        while let byte = lexer.peek(), byte != Ascii.lineFeed { lexer.advance() }
        var out = Array(bytes[..<lexer.index])
        out.append(Ascii.lineFeed)  // the header line's own, or one it lacked at the end of the file
        if !lexer.isAtEnd { lexer.advance() }
        out += line
        out += bytes[lexer.index...]
        return String(decoding: out, as: UTF8.self)
    }

    /// `value` as a TOML basic string: quoted, with `"`, `\` and control characters escaped.
    public static func basicString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// The value at `path`, through nested tables.
    private static func lookUp(_ path: [String], in root: TOMLTable) -> TOMLValue? {
        var table = root
        for key in path.dropLast() {
            guard let next = table[key]?.table else { return nil }
            table = next
        }
        return path.last.flatMap { table[$0] }
    }
}
