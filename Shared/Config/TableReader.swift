/// A string from an array, with where it is written.
typealias PositionedString = (string: String, position: SourcePosition)

/// Reads one table of the configuration: typed getters whose errors name the key path, the
/// expected and the found type, and point at the value (or at the table, for a missing key).
struct TableReader {
    let table: TOMLTable
    /// Key path of the table from the root: "", `pipeline`, `feature[1]`, `stage.infer.restart`.
    let path: String
    /// How the table is written, for messages: `[pipeline]`, `[[feature]]`.
    let title: String
    let file: String

    /// - Throws: `.unknownKey` at the first key of `table` not in `known`.
    init(_ table: TOMLTable, path: String, title: String, file: String, known: [String])
        throws(ConfigError)
    {
        self.table = table
        self.path = path
        self.title = title
        self.file = file
        try checkKnown(known)
    }

    func keyPath(_ key: String) -> String { TOMLPath.join(path, key) }

    // MARK: Unknown and missing keys

    /// - Parameters:
    ///   - known: the keys the table may hold.
    ///   - fallback: more names to suggest from when none of `known` is close (keys that exist
    ///     elsewhere, e.g. those of another feature kind).
    /// - Throws: `.unknownKey` at the first key not in `known`, suggesting the closest one.
    func checkKnown(_ known: [String], fallback: [String] = []) throws(ConfigError) {
        guard let entry = table.entries.first(where: { !known.contains($0.key) }) else { return }
        let full = keyPath(entry.key)
        let candidates = Suggestion.closest(to: entry.key, in: known) == nil ? fallback : known
        let message: String
        if let table = entry.value.table, table.origin == .header || table.origin == .implicit {
            message = "unknown table `[\(full)]`"
                + Suggestion.didYouMean(entry.key, in: known) { "[\(keyPath($0))]" }
        } else if entry.value.isArrayOfTables {
            message = "unknown table `[[\(full)]]`"
                + Suggestion.didYouMean(entry.key, in: known) { "[[\(keyPath($0))]]" }
        } else {
            message = "unknown key `\(full)`" + Suggestion.didYouMean(entry.key, in: candidates)
        }
        let hint = message.hasSuffix("?") ? "" : " (expected one of: "
            + known.map(TOMLPath.display).joined(separator: ", ") + ")"
        throw ConfigError(.unknownKey, file: file, position: entry.keyPosition,
                          message: message + hint)
    }

    /// `value`, or a `.missingKey` error naming `key` and this table.
    func require<T>(_ value: T?, _ key: String) throws(ConfigError) -> T {
        guard let value else {
            throw ConfigError(.missingKey, file: file, position: table.position,
                              message: "missing required key `\(keyPath(key))` in the `\(title)` "
                                  + "table at line \(table.position.line)")
        }
        return value
    }

    // MARK: Typed getters (nil when the key is absent)

    func value(_ key: String) -> TOMLValue? { table[key] }

    /// The value of `key` and its conversion, or a type mismatch naming `expected`.
    func typed<T>(_ key: String, _ expected: String, _ convert: (TOMLValue) -> T?)
        throws(ConfigError) -> (T, TOMLValue)?
    {
        guard let value = table[key] else { return nil }
        guard let converted = convert(value) else {
            throw typeMismatch(keyPath(key), expected, value)
        }
        return (converted, value)
    }

    func string(_ key: String) throws(ConfigError) -> String? {
        try typed(key, "a string", \.string)?.0
    }

    /// A string that must not be empty.
    func text(_ key: String) throws(ConfigError) -> String? {
        guard let (string, value) = try typed(key, "a string", \.string) else { return nil }
        if string.isEmpty { throw invalid(keyPath(key), "must not be empty", at: value.position) }
        return string
    }

    /// An integer in `range`; `note` follows the range in the message, e.g. " (1 KiB...1 GiB)".
    func integer(_ key: String, in range: ClosedRange<Int>, describing note: String = "")
        throws(ConfigError) -> Int?
    {
        guard let (integer, value) = try typed(key, "an integer", \.integer) else { return nil }
        guard range.contains(integer) else {
            let bounds = range.upperBound == .max
                ? "at least \(range.lowerBound)" : "in \(range.lowerBound)...\(range.upperBound)"
            throw invalid(keyPath(key), "must be \(bounds)\(note), found \(integer)",
                          at: value.position)
        }
        return integer
    }

    /// A finite number; integers are accepted where floats are expected.
    func number(_ key: String) throws(ConfigError) -> Double? {
        guard let (number, value) = try typed(key, "a number", \.number) else { return nil }
        guard number.isFinite else {
            throw invalid(keyPath(key), "must be a finite number, found \(number)",
                          at: value.position)
        }
        return number
    }

    func boolean(_ key: String) throws(ConfigError) -> Bool? {
        try typed(key, "a boolean", \.boolean)?.0
    }

    /// One of the raw values of `E`, suggesting the closest on a typo.
    func choice<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) throws(ConfigError)
        -> E? where E.RawValue == String
    {
        guard let string = try string(key) else { return nil }
        return try Self.choice(string, E.self) { (message) throws(ConfigError) in
            throw invalid(keyPath(key), message, at: table[key]!.position)
        }
    }

    /// `E(rawValue: string)`, or `fail` called with "must be one of …; found …".
    static func choice<E: RawRepresentable & CaseIterable>(
        _ string: String, _: E.Type, fail: (String) throws(ConfigError) -> Never
    ) throws(ConfigError) -> E where E.RawValue == String {
        if let value = E(rawValue: string) { return value }
        let names = E.allCases.map(\.rawValue)
        try fail("must be one of " + names.map { "\"\($0)\"" }.joined(separator: ", ")
                 + ", found \"\(string)\"" + Suggestion.didYouMean(string, in: names))
    }

    /// An array of strings, each with its position.
    func strings(_ key: String) throws(ConfigError) -> [PositionedString]? {
        guard let (array, _) = try typed(key, "an array of strings", \.array) else { return nil }
        var out: [PositionedString] = []
        for (i, item) in array.enumerated() {
            guard let string = item.string else {
                throw typeMismatch("\(keyPath(key))[\(i)]", "a string", item)
            }
            out.append((string, item.position))
        }
        return out
    }

    /// An array of numbers (integers accepted), each with its position; NaN is always refused,
    /// infinities only when `allowInfinite`.
    func numbers(_ key: String, allowInfinite: Bool = false) throws(ConfigError)
        -> [(number: Double, position: SourcePosition)]?
    {
        guard let (array, _) = try typed(key, "an array of numbers", \.array) else { return nil }
        var out: [(number: Double, position: SourcePosition)] = []
        for (i, item) in array.enumerated() {
            guard let number = item.number else {
                throw typeMismatch("\(keyPath(key))[\(i)]", "a number", item)
            }
            if number.isNaN || (number.isInfinite && !allowInfinite) {
                let what = allowInfinite ? "a number (inf and -inf allowed)" : "a finite number"
                throw invalid("\(keyPath(key))[\(i)]", "must be \(what), found \(number)", at: item.position)
            }
            out.append((number, item.position))
        }
        return out
    }

    /// An array of exactly two numbers, e.g. `feature_range = [0, 1]`.
    func numberPair(_ key: String) throws(ConfigError) -> (Double, Double)? {
        guard let numbers = try numbers(key) else { return nil }
        guard numbers.count == 2 else {
            throw invalid(keyPath(key), "must hold exactly two numbers, found \(numbers.count)",
                          at: table[key]!.position)
        }
        return (numbers[0].number, numbers[1].number)
    }

    /// An array of exactly two integers, e.g. `ngram_range = [1, 2]`.
    func integerPair(_ key: String) throws(ConfigError) -> (Int, Int)? {
        guard let (array, value) = try typed(key, "an array of two integers", \.array) else { return nil }
        var out: [Int] = []
        for (i, item) in array.enumerated() {
            guard let integer = item.integer else {
                throw typeMismatch("\(keyPath(key))[\(i)]", "an integer", item)
            }
            out.append(integer)
        }
        guard out.count == 2 else {
            throw invalid(keyPath(key), "must hold exactly two integers, found \(out.count)", at: value.position)
        }
        return (out[0], out[1])
    }

    /// A sub-table (a `[header]`, a dotted-key table or an inline table).
    func subtable(_ key: String, title: String, known: [String]) throws(ConfigError)
        -> TableReader?
    {
        guard let (sub, _) = try typed(key, "a table", \.table) else { return nil }
        return try TableReader(sub, path: keyPath(key), title: title, file: file, known: known)
    }

    /// The tables of an array of tables (`[[key]]`, or an array of inline tables).
    func tables(_ key: String) throws(ConfigError) -> [TOMLTable]? {
        let expected = "an array of tables (`[[\(keyPath(key))]]`)"
        guard let (array, _) = try typed(key, expected, \.array) else { return nil }
        var out: [TOMLTable] = []
        for (i, item) in array.enumerated() {
            guard let table = item.table else {
                throw typeMismatch("\(keyPath(key))[\(i)]", "a table", item)
            }
            out.append(table)
        }
        return out
    }

    // MARK: Errors

    /// "`path` must be <expected>, found <type>", at the value; `path` is a full key path.
    func typeMismatch(_ path: String, _ expected: String, _ found: TOMLValue) -> ConfigError {
        var what = found.typeNameWithArticle
        if case .array(let items) = found.kind, !items.isEmpty, !found.isArrayOfTables {
            what += " containing \(items[0].typeNameWithArticle)"
        }
        return ConfigError(.typeMismatch, file: file, position: found.position,
                           message: "`\(path)` must be \(expected), found \(what)")
    }

    /// "`path` <message>", as an `.invalidValue` at `position`; `path` is a full key path.
    func invalid(_ path: String, _ message: String, at position: SourcePosition) -> ConfigError {
        ConfigError(.invalidValue, file: file, position: position, message: "`\(path)` \(message)")
    }
}
