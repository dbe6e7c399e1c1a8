/// One ONNX node being lowered: typed attribute access with defaults, and errors that carry the
/// node's name and op type.
struct NodeContext {
    let node: NodeProto
    /// Opset version in force for the node's domain.
    let opset: Int64
    /// The model file's bytes (tensor attributes' raw_data lies there).
    let bytes: ModelBytes

    var name: String { node.name }
    var opType: String { OperatorSet.qualifiedName(domain: node.domain, opType: node.opType) }

    func error(_ kind: ModelError.Kind, _ message: String) -> ModelError {
        ModelError(kind, message, node: node.name, opType: opType)
    }

    func unsupported(_ message: String) -> ModelError { error(.unsupported, message) }

    func attribute(_ name: String) -> AttributeProto? {
        node.attributes.last { $0.name == name }
    }

    private func check(_ attr: AttributeProto, _ expected: AttributeProto.Kind) throws(ModelError) {
        if attr.type != 0 && attr.type != expected.rawValue {
            let got = attr.kind.map { "\($0)" } ?? "type \(attr.type)"
            throw error(.invalidGraph, "attribute '\(attr.name)' must be \(expected), got \(got)")
        }
        if !attr.refAttrName.isEmpty {
            throw unsupported("attribute '\(attr.name)' refers to a function attribute, which is not supported")
        }
    }

    func int(_ name: String, default value: Int64) throws(ModelError) -> Int64 {
        guard let attr = attribute(name) else { return value }
        try check(attr, .int)
        return attr.i
    }

    func float(_ name: String, default value: Float) throws(ModelError) -> Float {
        guard let attr = attribute(name) else { return value }
        try check(attr, .float)
        return attr.f
    }

    func string(_ name: String, default value: String) throws(ModelError) -> String {
        guard let attr = attribute(name) else { return value }
        try check(attr, .string)
        return String(decoding: attr.s, as: UTF8.self)
    }

    func ints(_ name: String) throws(ModelError) -> [Int64]? {
        guard let attr = attribute(name) else { return nil }
        try check(attr, .ints)
        return attr.ints
    }

    func floats(_ name: String) throws(ModelError) -> [Float]? {
        guard let attr = attribute(name) else { return nil }
        try check(attr, .floats)
        return attr.floats
    }

    func strings(_ name: String) throws(ModelError) -> [String]? {
        guard let attr = attribute(name) else { return nil }
        try check(attr, .strings)
        return attr.strings.map { String(decoding: $0, as: UTF8.self) }
    }

    func tensor(_ name: String) throws(ModelError) -> ConstantTensor? {
        guard let attr = attribute(name) else { return nil }
        try check(attr, .tensor)
        guard let proto = attr.t else { throw error(.invalidGraph, "attribute '\(name)' has no tensor") }
        do throws(ModelError) {
            return try ConstantTensor(proto, bytes: bytes)
        } catch {
            throw self.error(error.kind, error.message)
        }
    }

    /// An axis attribute normalised against `rank` (negative counts from the end).
    func axis(_ name: String, default value: Int64, rank: Int) throws(ModelError) -> Int {
        let raw = try int(name, default: value)
        let axis = raw < 0 ? raw + Int64(rank) : raw
        guard axis >= 0, axis < Int64(rank) else {
            throw error(.invalidGraph, "\(name)=\(raw) is out of range for a tensor of rank \(rank)")
        }
        return Int(axis)
    }
}
