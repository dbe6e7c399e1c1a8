/// TypeProto and TensorShapeProto decoding. TypeProto nests (sequence of map of ...), so the
/// decoder carries a depth and refuses absurd nesting instead of recursing without bound.

extension TypeProto {
    static let maxDepth = 16

    static func decode(_ reader: inout ProtoReader, depth: Int) throws(ModelError) -> TypeProto {
        guard depth < maxDepth else { throw reader.malformed("type nested more than \(maxDepth) levels") }
        var result = TypeProto.unknown
        while let key = try reader.readKey() {
            switch key.number {
            case 1:
                var sub = try reader.message(key)
                result = try decodeTensor(&sub)
            case 4, 9:
                var sub = try reader.message(key)
                let inner = try decodeWrapped(&sub, depth: depth)
                result = key.number == 4 ? .sequence(inner) : .optional(inner)
            case 5:
                var sub = try reader.message(key)
                result = try decodeMap(&sub, depth: depth)
            case 7:
                var sub = try reader.message(key)
                var name = ""
                while let k = try sub.readKey() {
                    if k.number == 2 { name = try sub.string(k) } else { try sub.skip(k.wireType) }
                }
                result = .opaque(name)
            case 8:
                var sub = try reader.message(key)
                if case .tensor(let elem, _) = try decodeTensor(&sub) { result = .sparseTensor(elemType: elem) }
            default: try reader.skip(key.wireType)
            }
        }
        return result
    }

    /// TypeProto.Tensor: elem_type = 1, shape = 2.
    private static func decodeTensor(_ reader: inout ProtoReader) throws(ModelError) -> TypeProto {
        var elem: Int32 = 0
        var shape: [DimensionProto]?
        while let key = try reader.readKey() {
            switch key.number {
            case 1: elem = try reader.int32(key)
            case 2:
                var sub = try reader.message(key)
                var dims = shape ?? []
                try decodeShape(&sub, into: &dims)
                shape = dims
            default: try reader.skip(key.wireType)
            }
        }
        return .tensor(elemType: elem, shape: shape)
    }

    /// TensorShapeProto: repeated Dimension dim = 1; Dimension: dim_value = 1, dim_param = 2.
    private static func decodeShape(_ reader: inout ProtoReader, into dims: inout [DimensionProto]) throws(ModelError) {
        while let key = try reader.readKey() {
            guard key.number == 1 else { try reader.skip(key.wireType); continue }
            var sub = try reader.message(key)
            var dim = DimensionProto.unknown
            while let k = try sub.readKey() {
                switch k.number {
                case 1: dim = .value(try sub.int64(k))
                case 2: dim = .param(try sub.string(k))
                default: try sub.skip(k.wireType)
                }
            }
            dims.append(dim)
        }
    }

    /// Sequence / Optional: elem_type = 1 (a TypeProto).
    private static func decodeWrapped(_ reader: inout ProtoReader, depth: Int) throws(ModelError) -> TypeProto? {
        var inner: TypeProto?
        while let key = try reader.readKey() {
            if key.number == 1 {
                var sub = try reader.message(key)
                inner = try decode(&sub, depth: depth + 1)
            } else {
                try reader.skip(key.wireType)
            }
        }
        return inner
    }

    /// Map: key_type = 1, value_type = 2.
    private static func decodeMap(_ reader: inout ProtoReader, depth: Int) throws(ModelError) -> TypeProto {
        var keyType: Int32 = 0
        var value: TypeProto?
        while let key = try reader.readKey() {
            switch key.number {
            case 1: keyType = try reader.int32(key)
            case 2:
                var sub = try reader.message(key)
                value = try decode(&sub, depth: depth + 1)
            default: try reader.skip(key.wireType)
            }
        }
        return .map(keyType: keyType, value: value)
    }

    /// ONNX's own spelling: `tensor(float)`, `seq(map(int64,tensor(float)))`.
    var typeName: String {
        switch self {
        case .tensor(let elem, _): "tensor(\(ElementType(code: elem).name))"
        case .sequence(let inner): "seq(\(inner?.typeName ?? "?"))"
        case .map(let key, let value): "map(\(ElementType(code: key).name),\(value?.typeName ?? "?"))"
        case .optional(let inner): "optional(\(inner?.typeName ?? "?"))"
        case .sparseTensor(let elem): "sparse_tensor(\(ElementType(code: elem).name))"
        case .opaque(let name): "opaque(\(name))"
        case .unknown: "unknown"
        }
    }
}
