import Engine

/// A minimal ONNX model builder (over ProtoWriter), so tests can make small models (mostly
/// invalid or unsupported ones) without Python.
public enum Attr: Sendable {
    case int(String, Int64), float(String, Float), string(String, String)
    case ints(String, [Int64]), floats(String, [Float]), tensor(String, Tensor), strings(String, [String])
}

/// TensorProto contents; `dataType` 1 = float (float_data), 7 = int64 (int64_data), others raw
/// (or `int32s`, the int32_data field that int8/uint8/int16/uint16/int32/bool values use).
public struct Tensor: Sendable {
    public var name: String
    public var dims: [Int64]
    public var dataType: Int32
    public var floats: [Float]
    public var ints: [Int64]
    public var raw: [UInt8]?
    public var int32s: [Int64]

    public init(name: String = "", dims: [Int64], dataType: Int32 = 1, floats: [Float] = [], ints: [Int64] = [],
                raw: [UInt8]? = nil, int32s: [Int64] = []) {
        self.name = name
        self.dims = dims
        self.dataType = dataType
        self.floats = floats
        self.ints = ints
        self.raw = raw
        self.int32s = int32s
    }

    public func write(_ w: inout ProtoWriter) {
        w.packedInts(1, dims)
        w.int(2, Int64(dataType))
        if !floats.isEmpty { w.packedFloats(4, floats) }
        if !int32s.isEmpty { w.packedInts(5, int32s) }
        if !ints.isEmpty { w.packedInts(7, ints) }
        if !name.isEmpty { w.string(8, name) }
        if let raw { w.data(9, raw) }
    }
}

public struct Node: Sendable {
    public var op: String
    public var inputs: [String]
    public var outputs: [String]
    public var name: String
    public var domain: String
    public var attributes: [Attr]

    public init(op: String, inputs: [String], outputs: [String], name: String = "", domain: String = "",
                attributes: [Attr] = []) {
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.name = name
        self.domain = domain
        self.attributes = attributes
    }
}

public enum ModelBuilder {
    /// A float tensor value info; each dim is an Int (dim_value) or a String (dim_param).
    public static func valueInfo(_ w: inout ProtoWriter, field: Int, name: String, elemType: Int64 = 1, dims: [Any]) {
        w.message(field) { v in
            v.string(1, name)
            v.message(2) { type in
                type.message(1) { tensor in
                    tensor.int(1, elemType)
                    tensor.message(2) { shape in
                        for dim in dims {
                            shape.message(1) { d in
                                if let size = dim as? Int { d.int(1, Int64(size)) } else { d.string(2, "\(dim)") }
                            }
                        }
                    }
                }
            }
        }
    }

    public static func model(nodes: [Node], inputs: [(String, [Any])], outputs: [String], initializers: [Tensor] = [],
                      opsets: [(String, Int64)] = [("", 13), ("ai.onnx.ml", 1)], inputType: Int64 = 1) -> [UInt8] {
        var w = ProtoWriter()
        w.int(1, 8)
        w.message(7) { g in
            for node in nodes {
                g.message(1) { n in
                    for i in node.inputs { n.string(1, i) }
                    for o in node.outputs { n.string(2, o) }
                    n.string(3, node.name)
                    n.string(4, node.op)
                    if !node.domain.isEmpty { n.string(7, node.domain) }
                    for attr in node.attributes { n.message(5) { write(attr, &$0) } }
                }
            }
            g.string(2, "test")
            for tensor in initializers { g.message(5) { tensor.write(&$0) } }
            for (name, dims) in inputs { valueInfo(&g, field: 11, name: name, elemType: inputType, dims: dims) }
            for name in outputs { g.message(12) { $0.string(1, name) } }
        }
        for (domain, version) in opsets {
            w.message(8) { o in
                o.string(1, domain)
                o.int(2, version)
            }
        }
        return w.bytes
    }

    private static func write(_ attr: Attr, _ a: inout ProtoWriter) {
        switch attr {
        case .int(let name, let v): a.string(1, name); a.int(3, v); a.int(20, 2)
        case .float(let name, let v): a.string(1, name); a.float(2, v); a.int(20, 1)
        case .string(let name, let v): a.string(1, name); a.string(4, v); a.int(20, 3)
        case .ints(let name, let v): a.string(1, name); a.packedInts(8, v); a.int(20, 7)
        case .floats(let name, let v): a.string(1, name); a.packedFloats(7, v); a.int(20, 6)
        case .tensor(let name, let t): a.string(1, name); a.message(5) { t.write(&$0) }; a.int(20, 4)
        case .strings(let name, let v): a.string(1, name); for s in v { a.string(9, s) }; a.int(20, 8)
        }
    }

    public static func load(_ bytes: [UInt8]) throws(ModelError) -> OnnxModel {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(ModelError) in try OnnxModel.load(bytes: buffer, name: "test.onnx") }
        }
        return try result.get()
    }
}
