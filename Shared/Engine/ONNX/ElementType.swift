/// An ONNX tensor element type (TensorProto.DataType).
public enum ElementType: Sendable, Equatable, Hashable {
    case float, uint8, int8, uint16, int16, int32, int64, string, bool, float16, double, uint32, uint64
    /// Any other code (complex, bfloat16, float8 variants, …), or 0 when the model leaves it unset.
    case other(Int32)

    /// Maps a TensorProto.DataType code.
    public init(code: Int32) {
        switch code {
        case 1: self = .float
        case 2: self = .uint8
        case 3: self = .int8
        case 4: self = .uint16
        case 5: self = .int16
        case 6: self = .int32
        case 7: self = .int64
        case 8: self = .string
        case 9: self = .bool
        case 10: self = .float16
        case 11: self = .double
        case 12: self = .uint32
        case 13: self = .uint64
        default: self = .other(code)
        }
    }

    /// The lower-case name ONNX uses in type strings, e.g. `float`, `int64`.
    public var name: String {
        switch self {
        case .float: "float"
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .string: "string"
        case .bool: "bool"
        case .float16: "float16"
        case .double: "double"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .other(let code):
            switch code {
            case 0: "undefined"
            case 14: "complex64"
            case 15: "complex128"
            case 16: "bfloat16"
            default: "type#\(code)"
            }
        }
    }

    /// Whole-number types (stored by the engine as exact integers).
    var isInteger: Bool {
        switch self {
        case .uint8, .int8, .uint16, .int16, .int32, .int64, .bool, .uint32, .uint64: true
        default: false
        }
    }
}

/// A graph input or output as the model declares it (or as the engine inferred it).
public struct TensorInfo: Sendable, Equatable {
    /// The value's name in the graph.
    public var name: String
    /// Element type; for non-tensor values (sequences, maps) the element type of the innermost
    /// tensor when there is one, else `.other(0)`. `typeName` says what the value really is.
    public var elementType: ElementType
    /// One entry per dimension: the size, or nil for a symbolic / unknown one (the batch).
    /// Empty when the rank is unknown or the value is not a tensor.
    public var shape: [Int?]
    /// ONNX's spelling of the type, e.g. `tensor(float)` or `seq(map(int64,tensor(float)))`.
    public var typeName: String

    public init(name: String, elementType: ElementType, shape: [Int?], typeName: String) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
        self.typeName = typeName
    }

    /// True for plain tensors (as opposed to sequences, maps, optionals).
    public var isTensor: Bool { typeName.hasPrefix("tensor(") }
}
