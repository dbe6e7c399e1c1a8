/// One class of a classifier, as the model has it: an integer (a JSON number in the output) or
/// a string (a JSON string).
///
/// Literals make either: `let labels: [ClassLabel] = ["legit", "fraud"]` or `[0, 1]`.
public enum ClassLabel: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral,
    ExpressibleByIntegerLiteral
{
    case int(Int64)
    case string(String)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }

    /// The label as text, unquoted: `0`, `-3`, `legit`. What CSV columns (`p_<label>`) and the
    /// run summary show.
    public var description: String {
        switch self {
        case .int(let value): String(value)
        case .string(let value): value
        }
    }

    /// True for `.int`.
    public var isInteger: Bool { if case .int = self { true } else { false } }

    /// Wire tags, one byte before each label.
    enum Tag: UInt8 { case int = 1, string = 2 }

    func encode(into out: FrameBuffer) {
        switch self {
        case .int(let value):
            out.append(Tag.int.rawValue)
            out.append(value)
        case .string(let value):
            out.append(Tag.string.rawValue)
            out.append(string: value)
        }
    }

    static func decode(_ r: inout ByteReader) throws(FrameError) -> ClassLabel {
        switch Tag(rawValue: try r.read(UInt8.self, "label.tag")) {
        case .int: .int(try r.read(Int64.self, "label.int"))
        case .string: .string(try r.string("label.string"))
        case nil: throw .invalid(field: "label.tag", reason: "unknown class label tag")
        }
    }
}
