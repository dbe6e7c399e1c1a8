import Config
import Messages

/// Why the aggregate stage cannot format a configuration or a batch.
///
/// Config problems are thrown by `AggregateProcessor.init(config:)`; a batch whose width does not
/// fit the labels is thrown by `process` (the model and the config disagree: the stage fails,
/// rather than guessing a label).
public enum AggregateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An `[output] passthrough` name is not in the `[[input.field]]` schema.
    case unknownPassthrough(field: String)
    /// `labels = []`: no batch could ever match it.
    case emptyLabels
    /// The model produced `columns` values per row but `labels` names `labels` classes.
    case labelCountMismatch(labels: Int, columns: Int)
    /// The model produced no values per row, so there is nothing to take a label or score from.
    case noScores
    /// A CSV header with one `p_<i>` column per class needs the class count, which neither
    /// `labels` nor the caller gave.
    case unknownClassCount

    public var description: String {
        switch self {
        case .unknownPassthrough(let field):
            "[output] passthrough names \"\(field)\", which is not in [[input.field]]"
        case .emptyLabels:
            "[output] labels is empty: give one name per model output column, or leave it out"
        case .labelCountMismatch(let labels, let columns):
            "[output] labels names \(counted(labels, "class")) but the model outputs \(counted(columns, "value")) per row"
        case .noScores:
            "the model outputs no values per row"
        case .unknownClassCount:
            "the CSV header needs the number of classes: set [output] labels or pass the model's output width"
        }
    }
}
