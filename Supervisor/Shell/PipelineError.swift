import ControlCore

/// An error the CLI reports as one line and an exit code.
public struct PipelineError: Error, CustomStringConvertible, Sendable {
    public var code: ExitCode
    public var message: String

    public init(_ code: ExitCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
