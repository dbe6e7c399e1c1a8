/// Why manifests cannot be written for this config and these options. The CLI maps `kind` to
/// an exit code: `.usage` 2 (the options), `.config` 3 (what the config cannot carry into a pod).
public struct ExportError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable { case usage, config }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
