import Config

/// Why a configuration cannot be featurized. Thrown by `FeaturizeProcessor.init(config:)`, before
/// any batch is seen; each case names the `[[feature]]` (by field and config line) at fault.
public enum FeaturizeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The config has no `[[feature]]` table: the model would get zero-width rows.
    case noFeatures
    /// A feature reads a field that is not in the `[[input.field]]` schema.
    case unknownField(field: String, line: Int)
    /// A feature kind cannot read a field of this type (e.g. `standardize` of a string).
    case unsupportedType(field: String, line: Int, kind: String, type: FieldType)
    /// A parameter is out of range (non-finite mean, negative std, duplicate category, ...).
    case invalidParameter(field: String, line: Int, reason: String)
    /// The features' widths add up to more columns than a feature batch can describe.
    case tooWide(width: Int, limit: Int)
    /// An `[output] passthrough` name is not in the schema.
    case unknownPassthrough(field: String)
    /// The drift watch's plan names a field the schema lacks, or counts it in a way its type cannot be.
    case driftField(field: String, reason: String)

    public var description: String {
        switch self {
        case .noFeatures:
            "no [[feature]] tables: the model input would be empty"
        case .unknownField(let field, let line):
            "feature at line \(line) reads field \"\(field)\", which is not in [[input.field]]"
        case .unsupportedType(let field, let line, let kind, let type):
            "feature at line \(line): kind \"\(kind)\" cannot read field \"\(field)\" of type \(type.rawValue)"
        case .invalidParameter(let field, let line, let reason):
            "feature at line \(line) (field \"\(field)\"): \(reason)"
        case .tooWide(let width, let limit):
            "the features produce \(width) columns; at most \(limit) are supported"
        case .unknownPassthrough(let field):
            "[output] passthrough names \"\(field)\", which is not in [[input.field]]"
        case .driftField(let field, let reason):
            "the drift reference's field \"\(field)\" \(reason)"
        }
    }
}
