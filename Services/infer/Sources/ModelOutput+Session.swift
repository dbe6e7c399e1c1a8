import Config
import Engine
import Messages

extension ModelOutput {
    /// What `session` reads: its width and, when the model names one class per column, the
    /// classes as the output writes them.
    public init(_ session: InferenceSession) {
        let labels: [ClassLabel]? = switch session.classLabels {
        case .ints(let ints): ints.map { .int($0) }
        case .strings(let strings): strings.map { .string($0) }
        case nil: nil
        }
        self.init(width: session.outputWidth, classLabels: labels)
    }
}
