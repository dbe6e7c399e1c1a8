/// A position in a configuration file: 1-based line and 1-based column.
///
/// Columns count Unicode scalars (a tab counts as one), so they match what most editors show
/// for text without combining characters.
public struct SourcePosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    /// 1-based column, in Unicode scalars from the start of the line.
    public var column: Int

    /// Creates a position from a 1-based line and column.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The start of a file: line 1, column 1.
    public static let start = SourcePosition(line: 1, column: 1)

    /// Earlier in the file.
    public static func < (a: SourcePosition, b: SourcePosition) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }

    /// `line:column`.
    public var description: String { "\(line):\(column)" }
}

/// The one error type of the `Config` module: what is wrong with a configuration file, and where.
///
/// Its `description` is exactly `file:line:column: message`, ready to print as the single line
/// DESIGN.md section 4.6 asks for. Every message names the key path involved
/// (e.g. `feature[2].mean`, `stage.infer.replicas`) when there is one.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The family of a configuration error, for callers that branch on it (tests, exit codes).
    public enum Kind: String, Sendable, Equatable {
        /// The text is not valid TOML (of the supported subset), or not valid UTF-8.
        case syntax
        /// A key or table the configuration does not know.
        case unknownKey
        /// A value of the wrong TOML type (e.g. a string where an integer belongs).
        case typeMismatch
        /// A required key or table is absent.
        case missingKey
        /// A value of the right type that is out of range or inconsistent with other values.
        case invalidValue
    }

    /// The family of the error.
    public var kind: Kind
    /// The configuration file's path, as handed to the parser.
    public var file: String
    /// Where in the file the problem is.
    public var position: SourcePosition
    /// What is wrong, without the `file:line:column: ` prefix.
    public var message: String

    /// Creates an error at `position` in `file`.
    public init(_ kind: Kind, file: String, position: SourcePosition, message: String) {
        self.kind = kind
        self.file = file
        self.position = position
        self.message = message
    }

    /// 1-based line of the problem.
    public var line: Int { position.line }
    /// 1-based column of the problem.
    public var column: Int { position.column }

    /// `file:line:column: message`.
    public var description: String { "\(file):\(position.line):\(position.column): \(message)" }

    /// A syntax error (the STYLE.md spelling: `ConfigError.syntax(line:column:message:)`).
    public static func syntax(file: String, line: Int, column: Int, message: String)
        -> ConfigError
    {
        ConfigError(.syntax, file: file, position: SourcePosition(line: line, column: column),
                    message: message)
    }
}
