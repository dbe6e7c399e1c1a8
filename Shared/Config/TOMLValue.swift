/// One TOML value and where it starts in the file.
///
/// Arrays of tables (`[[a]]`) are arrays whose elements are tables with origin `.arrayElement`;
/// inline tables are tables with origin `.inline`.
public struct TOMLValue: Sendable, Equatable {
    /// The value itself.
    ///
    /// - Important: equality follows `Double`, so a value holding `nan` is not equal to itself.
    public enum Kind: Sendable, Equatable {
        /// Any of the four string forms, unescaped.
        case string(String)
        /// A 64-bit signed integer.
        case integer(Int)
        /// A binary64 float, including `inf` and `nan`.
        case float(Double)
        /// `true` or `false`.
        case boolean(Bool)
        /// A static array (`[...]`) or an array of tables (`[[...]]`).
        case array([TOMLValue])
        /// A `[header]` table, a dotted-key table or an inline table.
        case table(TOMLTable)
    }

    /// The value itself.
    public var kind: Kind
    /// Where the value starts: its opening quote, bracket or brace, or its first character.
    /// For an array of tables, the `[[` of its first header.
    public var position: SourcePosition

    /// Creates a value starting at `position`.
    public init(_ kind: Kind, at position: SourcePosition) {
        self.kind = kind
        self.position = position
    }

    /// The TOML type name, as used in error messages: `string`, `integer`, `float`, `boolean`,
    /// `array`, `array of tables`, `table`.
    public var typeName: String {
        switch kind {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .array: isArrayOfTables ? "array of tables" : "array"
        case .table: "table"
        }
    }

    /// The type name with its article: `an integer`, `a string`, `an array of tables`.
    public var typeNameWithArticle: String {
        (typeName.first.map { "aeiou".contains($0) } ?? false ? "an " : "a ") + typeName
    }

    /// True for an array built by `[[header]]` tables.
    public var isArrayOfTables: Bool {
        guard case .array(let items) = kind, let first = items.first,
              case .table(let table) = first.kind else { return false }
        return table.origin == .arrayElement
    }

    /// The string, if this is a string.
    public var string: String? { if case .string(let s) = kind { s } else { nil } }
    /// The integer, if this is an integer.
    public var integer: Int? { if case .integer(let i) = kind { i } else { nil } }
    /// The number, if this is a float or an integer (integers are accepted where floats are).
    public var number: Double? {
        switch kind {
        case .float(let d): d
        case .integer(let i): Double(i)
        default: nil
        }
    }
    /// The boolean, if this is a boolean.
    public var boolean: Bool? { if case .boolean(let b) = kind { b } else { nil } }
    /// The elements, if this is an array.
    public var array: [TOMLValue]? { if case .array(let a) = kind { a } else { nil } }
    /// The table, if this is a table.
    public var table: TOMLTable? { if case .table(let t) = kind { t } else { nil } }
}

/// A TOML table: its keys in file order, each with the position of the key and of its value.
public struct TOMLTable: Sendable, Equatable {
    /// How a table came into existence; the TOML rules for adding to it depend on it.
    public enum Origin: Sendable, Equatable {
        /// The document itself.
        case root
        /// A `[header]`.
        case header
        /// A prefix of a header (`a` in `[a.b]`) never given its own header.
        case implicit
        /// A prefix of a dotted key (`a` in `a.b = 1`).
        case dotted
        /// `{ ... }`, or a dotted-key prefix inside one.
        case inline
        /// One `[[header]]` element of an array of tables.
        case arrayElement
    }

    /// One `key = value` of the table.
    public struct Entry: Sendable, Equatable {
        /// The key, unquoted and unescaped.
        public var key: String
        /// Where the key is written (for a sub-table: its name inside the first header).
        public var keyPosition: SourcePosition
        /// The value, with its own position.
        public var value: TOMLValue

        /// Creates an entry.
        public init(key: String, keyPosition: SourcePosition, value: TOMLValue) {
            self.key = key
            self.keyPosition = keyPosition
            self.value = value
        }
    }

    /// How the table was defined.
    public var origin: Origin
    /// Where the table is defined: its `[` or `[[`, its `{`, the key that created it implicitly,
    /// or 1:1 for the root.
    public var position: SourcePosition
    /// The entries in the order their keys first appear in the file.
    public private(set) var entries: [Entry]
    private var index: [String: Int]

    /// Creates a table; later entries with a key already present are ignored.
    public init(origin: Origin, position: SourcePosition, entries: [Entry] = []) {
        self.origin = origin
        self.position = position
        self.entries = []
        self.index = [:]
        for entry in entries where index[entry.key] == nil {
            index[entry.key] = self.entries.count
            self.entries.append(entry)
        }
    }

    /// The keys, in file order.
    public var keys: [String] { entries.map(\.key) }

    /// The entry for `key`, if present.
    public func entry(_ key: String) -> Entry? { index[key].map { entries[$0] } }

    /// The value for `key`, if present.
    public subscript(key: String) -> TOMLValue? { entry(key)?.value }

    /// Same origin, position and entries in the same order.
    public static func == (a: TOMLTable, b: TOMLTable) -> Bool {
        a.origin == b.origin && a.position == b.position && a.entries == b.entries
    }
}
