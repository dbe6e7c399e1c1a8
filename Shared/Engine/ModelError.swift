/// The one error type of the ONNX reader and inference engine.
///
/// Every failure, from a truncated file to an unsupported operator, is reported as a
/// `ModelError` whose `description` is a single line naming what went wrong and where:
/// the model file, the node (name and op type) and the byte offset when there is one.
public struct ModelError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is; the message carries the details.
    public enum Kind: Sendable, Equatable {
        /// The file could not be opened or read.
        case io
        /// The file is not an ONNX model at all: empty, text, a pickle, an archive, cut short, no
        /// graph. The message says what it looks like instead.
        case notAModel
        /// The bytes look like an ONNX model but are damaged inside (bad lengths, bad tags).
        case malformed
        /// A valid model uses something this engine does not implement (op, attribute value, type).
        case unsupported
        /// The graph is inconsistent: undefined inputs, cycles, mismatched shapes.
        case invalidGraph
        /// A caller-side mistake: unknown input/output name, bad row count, bad sparse input.
        case invalidArgument
    }

    public var kind: Kind
    /// Human-readable details, without the context fields below.
    public var message: String
    /// The model file (or the name given to `load(bytes:name:)`), once known.
    public var file: String?
    /// The node's name (may be empty in the model, then the op type is the useful part).
    public var node: String?
    /// The node's op type, e.g. `Gemm` or `ai.onnx.ml.LinearClassifier`.
    public var opType: String?
    /// Byte offset into the file for malformed-input errors.
    public var offset: Int?

    public init(_ kind: Kind, _ message: String, node: String? = nil, opType: String? = nil,
                offset: Int? = nil, file: String? = nil) {
        self.kind = kind
        self.message = message
        self.node = node
        self.opType = opType
        self.offset = offset
        self.file = file
    }

    /// `file: node 'name' (Op): message (at byte N)`, leaving out the parts that are unknown;
    /// for `.notAModel`, `file is not an ONNX model (message)`.
    public var description: String {
        if kind == .notAModel { return "\(file ?? "the bytes") is not an ONNX model (\(message))" }
        return (file.map { "\($0): " } ?? "") + detail
    }

    /// The description without the file: `node 'name' (Op): message (at byte N)`, for callers
    /// that name the file themselves.
    public var detail: String {
        if kind == .notAModel { return "not an ONNX model (\(message))" }
        var text = ""
        if let opType {
            text += "node '\(node ?? "")' (\(opType)): "
        } else if let node {
            text += "node '\(node)': "
        }
        text += message
        if let offset { text += " (at byte \(offset))" }
        return text
    }

    /// The same error with the file filled in (if it was not yet set).
    func inFile(_ name: String) -> ModelError {
        var copy = self
        if copy.file == nil { copy.file = name }
        return copy
    }
}
