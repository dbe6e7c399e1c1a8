/// A YAML value, as far as Kubernetes manifests need: strings, integers, booleans, mappings
/// (keys in the order given) and sequences. Written by `text`, deterministically.
public indirect enum YAML: Sendable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case map([(String, YAML)])
    case list([YAML])

    public static func == (a: YAML, b: YAML) -> Bool { a.text == b.text }

    /// The value at `key` of a mapping (nil for anything else).
    public subscript(key: String) -> YAML? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.0 == key }?.1
    }

    /// One YAML document: block style, two spaces per level, sequences' items indented under
    /// their key (`- `), strings plain only where no YAML 1.1 reader could take them for
    /// anything else, multi-line strings as literal blocks (`|`). Ends with a newline.
    public var text: String {
        var out = ""
        switch self {
        case .map(let entries) where !entries.isEmpty: YAMLWriter.mapping(entries, indent: 0, into: &out)
        case .list(let items) where !items.isEmpty: YAMLWriter.sequence(items, indent: 0, into: &out)
        default: out = YAMLWriter.inline(self) + "\n"
        }
        return out
    }

    /// Several documents in one stream, each after a `---` line.
    public static func stream(_ documents: [YAML]) -> String {
        documents.map { "---\n" + $0.text }.joined()
    }
}

/// The block-style writer behind `YAML.text`.
enum YAMLWriter {
    static func mapping(_ entries: [(String, YAML)], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for (key, value) in entries {
            out += pad + scalar(key) + ":"
            after(value, indent: indent, into: &out)
        }
    }

    static func sequence(_ items: [YAML], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            switch item {
            case .map(let entries) where !entries.isEmpty:
                // The first key on the dash's line, the others under it.
                var nested = ""
                mapping(entries, indent: indent + 2, into: &nested)
                out += pad + "- " + nested.dropFirst(indent + 2)
            case .list(let inner) where !inner.isEmpty:
                out += pad + "-\n"
                sequence(inner, indent: indent + 2, into: &out)
            case .string(let s) where isBlock(s):
                out += pad + "-" + block(s, indent: indent + 2)
            default:
                out += pad + "- " + inline(item) + "\n"
            }
        }
    }

    /// What follows `key:`: a space and a scalar, or a newline and a nested block.
    private static func after(_ value: YAML, indent: Int, into out: inout String) {
        switch value {
        case .map(let entries) where !entries.isEmpty:
            out += "\n"
            mapping(entries, indent: indent + 2, into: &out)
        case .list(let items) where !items.isEmpty:
            out += "\n"
            sequence(items, indent: indent + 2, into: &out)
        case .string(let s) where isBlock(s):
            out += block(s, indent: indent + 2)
        default:
            out += " " + inline(value) + "\n"
        }
    }

    /// A value on one line: a scalar, `{}` or `[]`.
    static func inline(_ value: YAML) -> String {
        switch value {
        case .string(let s): scalar(s)
        case .int(let n): String(n)
        case .bool(let b): b ? "true" : "false"
        case .map: "{}"
        case .list: "[]"
        }
    }

    // MARK: Strings

    /// Words YAML 1.1 readers (Kubernetes' among them) take for booleans or null.
    private static let reserved: Set<String> = ["y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"]

    /// `s` plain when it is safe so, else double-quoted.
    static func scalar(_ s: String) -> String { isPlain(s) ? s : quoted(s) }

    /// Plain: letters, digits and `_ . / -` (and `:` not followed by a space), starting with a
    /// letter, `/` or `_`, not a reserved word; anything else (a number, a leading `-`, spaces,
    /// `#`, `{`, …) is quoted, which is always right.
    static func isPlain(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, isLetter(first) || first == "/" || first == "_" else { return false }
        guard !reserved.contains(s.lowercased()), !s.hasSuffix(":") else { return false }
        return s.unicodeScalars.allSatisfy { isLetter($0) || ("0"..."9").contains($0) || "_./-:".unicodeScalars.contains($0) }
    }

    private static func isLetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) }

    /// Double-quoted, escaping `"`, `\`, control characters and the characters YAML 1.1 takes
    /// as line breaks (U+0085, U+2028, U+2029) or a byte-order mark.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if needsEscape(c) {
                    let hex = String(c.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }

    private static func needsEscape(_ c: Unicode.Scalar) -> Bool {
        c.value < 0x20 || c.value == 0x7F || (0x80...0x9F).contains(c.value) || c.value == 0x2028 || c.value == 0x2029
            || c.value == 0xFEFF || (0xD800...0xDFFF).contains(c.value) || c.value == 0xFFFE || c.value == 0xFFFF
    }

    /// A multi-line string that a literal block keeps exactly: every character printable (tabs
    /// allowed), no carriage return.
    static func isBlock(_ s: String) -> Bool {
        guard s.contains("\n") else { return false }
        return !s.unicodeScalars.contains { $0 != "\n" && $0 != "\t" && needsEscape($0) }
    }

    /// ` |` (with an indentation indicator when the text starts with a space, and `-` or `+`
    /// for none or several final newlines), then each line at `indent`. Empty lines stay empty.
    static func block(_ s: String, indent: Int) -> String {
        var trailing = 0
        for c in s.unicodeScalars.reversed() {
            guard c == "\n" else { break }
            trailing += 1
        }
        let chomp = trailing == 0 ? "-" : trailing == 1 ? "" : "+"
        let indicator = s.hasPrefix(" ") || s.hasPrefix("\n") ? String(2) : ""
        let pad = String(repeating: " ", count: indent)
        var lines = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if trailing > 0 { lines.removeLast() }  // after the last newline: nothing
        var out = " |" + indicator + chomp + "\n"
        for line in lines { out += line.isEmpty ? "\n" : pad + line + "\n" }
        return out
    }
}
