import Config
import Messages

extension StageKind {
    /// The data-path node of this stage.
    public var node: NodeKind {
        switch self {
        case .ingest: .ingest
        case .featurize: .featurize
        case .infer: .infer
        case .aggregate: .aggregate
        }
    }

    /// The stage that feeds this one (nil: the source feeds ingest).
    public var previous: StageKind? {
        switch self {
        case .ingest: nil
        case .featurize: .ingest
        case .infer: .featurize
        case .aggregate: .infer
        }
    }

    /// The stage this one feeds (nil: aggregate feeds the sink).
    public var next: StageKind? {
        switch self {
        case .ingest: .featurize
        case .featurize: .infer
        case .infer: .aggregate
        case .aggregate: nil
        }
    }

    /// Parses "infer" etc., with a did-you-mean in the error.
    public static func parse(_ text: String) throws(PipelineError) -> StageKind {
        if let s = StageKind(rawValue: text) { return s }
        let names = StageKind.allCases.map(\.rawValue)
        let hint = Suggestion.closest(to: text, in: names).map { " (did you mean `\($0)`?)" } ?? ""
        throw PipelineError(.usage, "unknown stage `\(text)`\(hint); stages are \(names.joined(separator: ", "))")
    }
}
