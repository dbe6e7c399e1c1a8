/// Rules for `pipeline.name`, which becomes a directory name under the run directory.
enum RunName {
    static let maxLength = 64

    /// Why `name` cannot be a run name, or nil if it can.
    static func problem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.unicodeScalars.count > maxLength {
            return "must be at most \(maxLength) characters, found \(name.unicodeScalars.count)"
        }
        if name.hasPrefix(".") { return "must not start with `.`, found \"\(name)\"" }
        if let bad = name.unicodeScalars.first(where: { !isAllowed($0) }) {
            return "may only contain letters, digits, `.`, `_` and `-` (it names a directory), "
                + "found \(describe(bad)) in \"\(name)\""
        }
        return nil
    }

    /// The default name: the config directory's name, with characters a run name cannot hold
    /// replaced by `-`; `pipeline` when nothing usable is left (e.g. a config in `/`).
    static func fallback(directory: String) -> String {
        var name = String(String.UnicodeScalarView(
            ConfigPath.lastComponent(directory).unicodeScalars.map { isAllowed($0) ? $0 : "-" }))
        while name.hasPrefix(".") { name.removeFirst() }
        name = String(name.unicodeScalars.prefix(maxLength))
        return name.isEmpty || name == "." ? "pipeline" : name
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (Ascii.isBareKey(UInt8(scalar.value)) || scalar == ".")
    }

    private static func describe(_ scalar: Unicode.Scalar) -> String {
        scalar.value < 0x20 || scalar.value == 0x7F ? Ascii.codePoint(scalar.value) : "`\(scalar)`"
    }
}
