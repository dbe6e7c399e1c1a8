/// The parts of the ONNX protobuf messages (onnx.proto) the engine reads. Fields it does not
/// need are skipped while decoding; field numbers are in the decoders next to each message.

struct OperatorSetID: Equatable, Sendable {
    var domain = ""
    var version: Int64 = 0
}

struct ModelProto: Sendable {
    var irVersion: Int64 = 0
    var opsetImports: [OperatorSetID] = []
    var producerName = ""
    var graph = GraphProto()
    var hasGraph = false
    /// Model-local functions: an op type matching one of these is a function call we cannot run.
    var functionNames: [String] = []
}

struct GraphProto: Sendable {
    var name = ""
    var nodes: [NodeProto] = []
    var initializers: [TensorProto] = []
    var sparseInitializerCount = 0
    var inputs: [ValueInfoProto] = []
    var outputs: [ValueInfoProto] = []
    var valueInfo: [ValueInfoProto] = []
}

struct NodeProto: Sendable {
    var name = ""
    var opType = ""
    var domain = ""
    var inputs: [String] = []
    var outputs: [String] = []
    var attributes: [AttributeProto] = []
}

struct AttributeProto: Sendable {
    /// AttributeProto.AttributeType values.
    enum Kind: Int32, Sendable {
        case undefined = 0, float = 1, int = 2, string = 3, tensor = 4, graph = 5
        case floats = 6, ints = 7, strings = 8, tensors = 9, graphs = 10
        case sparseTensor = 11, sparseTensors = 12, typeProto = 13, typeProtos = 14
    }

    var name = ""
    /// The declared type; 0 (undefined) in very old models, then inferred from the fields set.
    var type: Int32 = 0
    var f: Float = 0
    var i: Int64 = 0
    var s: [UInt8] = []
    var t: TensorProto?
    var floats: [Float] = []
    var ints: [Int64] = []
    var strings: [[UInt8]] = []
    /// Set when the attribute carries a subgraph, tensors list, sparse tensor or type proto;
    /// those are skipped, not decoded, and no supported op uses them.
    var hasUnreadPayload = false
    /// `ref_attr_name`: only meaningful inside functions.
    var refAttrName = ""

    var kind: Kind? { Kind(rawValue: type) }
}

struct TensorProto: Sendable {
    var name = ""
    var dims: [Int64] = []
    var dataType: Int32 = 0
    var floatData: [Float] = []
    var int32Data: [Int32] = []
    var int64Data: [Int64] = []
    var doubleData: [Double] = []
    var uint64Data: [UInt64] = []
    var stringData: [[UInt8]] = []
    /// Where raw_data lies in the decoded bytes (absolute offsets), not a copy of it.
    var rawData: Range<Int>?
    var hasExternalData = false
    var dataLocation: Int32 = 0
    var hasSegment = false
}

struct ValueInfoProto: Sendable {
    var name = ""
    var type: TypeProto?
}

/// One dimension of a declared shape.
enum DimensionProto: Equatable, Sendable {
    case value(Int64)
    case param(String)
    case unknown
}

/// TypeProto, recognised enough to describe non-tensor types by name.
indirect enum TypeProto: Equatable, Sendable {
    /// `shape` nil means the rank itself is unknown.
    case tensor(elemType: Int32, shape: [DimensionProto]?)
    case sequence(TypeProto?)
    case map(keyType: Int32, value: TypeProto?)
    case optional(TypeProto?)
    case sparseTensor(elemType: Int32)
    case opaque(String)
    case unknown
}
