import PipelineSupervisor
import Config
import Messages

extension StageKind {
    /// Parses "infer" etc., with a did-you-mean in the error.
    public static func parse(_ text: String) throws(PipelineError) -> StageKind {
        if let s = StageKind(rawValue: text) { return s }
        let names = StageKind.allCases.map(\.rawValue)
        let hint = Suggestion.closest(to: text, in: names).map { " (did you mean `\($0)`?)" } ?? ""
        throw PipelineError(.usage, "unknown stage `\(text)`\(hint); stages are \(names.joined(separator: ", "))")
    }
}
