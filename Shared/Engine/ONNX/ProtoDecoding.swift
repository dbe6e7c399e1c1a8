/// Decoders for ModelProto, GraphProto, NodeProto, AttributeProto and friends. Each reads the
/// fields it knows (numbers from onnx.proto) and skips the rest. A singular embedded message that
/// appears twice is merged, as protobuf requires.

extension ModelProto {
    /// Decodes a whole serialized model.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ModelError) -> ModelProto {
        var reader = ProtoReader(bytes)
        var model = ModelProto()
        while let key = try reader.readKey() {
            switch key.number {
            case 1: model.irVersion = try reader.int64(key)
            case 2: model.producerName = try reader.string(key)
            case 7:
                var sub = try reader.message(key)
                try model.graph.merge(&sub)
                model.hasGraph = true
            case 8:
                var sub = try reader.message(key)
                model.opsetImports.append(try OperatorSetID.decode(&sub))
            case 25:
                var sub = try reader.message(key)
                model.functionNames.append(try decodeFunctionName(&sub))
            default: try reader.skip(key.wireType)
            }
        }
        return model
    }

    /// FunctionProto: only its name (field 1) matters, to say "model-local function" in errors.
    private static func decodeFunctionName(_ reader: inout ProtoReader) throws(ModelError) -> String {
        var name = ""
        while let key = try reader.readKey() {
            if key.number == 1 { name = try reader.string(key) } else { try reader.skip(key.wireType) }
        }
        return name
    }
}

extension OperatorSetID {
    static func decode(_ reader: inout ProtoReader) throws(ModelError) -> OperatorSetID {
        var id = OperatorSetID()
        while let key = try reader.readKey() {
            switch key.number {
            case 1: id.domain = try reader.string(key)
            case 2: id.version = try reader.int64(key)
            default: try reader.skip(key.wireType)
            }
        }
        return id
    }
}

extension GraphProto {
    mutating func merge(_ reader: inout ProtoReader) throws(ModelError) {
        while let key = try reader.readKey() {
            switch key.number {
            case 1:
                var sub = try reader.message(key)
                nodes.append(try NodeProto.decode(&sub))
            case 2: name = try reader.string(key)
            case 5:
                var sub = try reader.message(key)
                var tensor = TensorProto()
                try tensor.merge(&sub)
                initializers.append(tensor)
            case 11, 12, 13:
                var sub = try reader.message(key)
                let info = try ValueInfoProto.decode(&sub)
                if key.number == 11 { inputs.append(info) } else if key.number == 12 { outputs.append(info) } else { valueInfo.append(info) }
            case 15:
                _ = try reader.message(key)
                sparseInitializerCount += 1
            default: try reader.skip(key.wireType)
            }
        }
    }
}

extension NodeProto {
    static func decode(_ reader: inout ProtoReader) throws(ModelError) -> NodeProto {
        var node = NodeProto()
        while let key = try reader.readKey() {
            switch key.number {
            case 1: node.inputs.append(try reader.string(key))
            case 2: node.outputs.append(try reader.string(key))
            case 3: node.name = try reader.string(key)
            case 4: node.opType = try reader.string(key)
            case 5:
                var sub = try reader.message(key)
                node.attributes.append(try AttributeProto.decode(&sub))
            case 7: node.domain = try reader.string(key)
            default: try reader.skip(key.wireType)
            }
        }
        return node
    }
}

extension AttributeProto {
    static func decode(_ reader: inout ProtoReader) throws(ModelError) -> AttributeProto {
        var attr = AttributeProto()
        while let key = try reader.readKey() {
            switch key.number {
            case 1: attr.name = try reader.string(key)
            case 2: attr.f = try reader.float(key)
            case 3: attr.i = try reader.int64(key)
            case 4: attr.s = try reader.byteArray(key)
            case 5:
                var sub = try reader.message(key)
                var tensor = attr.t ?? TensorProto()
                try tensor.merge(&sub)
                attr.t = tensor
            case 6, 10, 11, 12, 14, 15, 22, 23:
                // Subgraphs, tensor lists, sparse tensors, type protos: skipped (never decoded, so
                // no recursion on hostile input); the op that owns them is rejected by name.
                try reader.skip(key.wireType)
                attr.hasUnreadPayload = true
            case 7: try reader.appendFloats(key, to: &attr.floats)
            case 8: try reader.appendInt64s(key, to: &attr.ints)
            case 9: attr.strings.append(try reader.byteArray(key))
            case 20: attr.type = try reader.int32(key)
            case 21: attr.refAttrName = try reader.string(key)
            default: try reader.skip(key.wireType)
            }
        }
        return attr
    }
}

extension ValueInfoProto {
    static func decode(_ reader: inout ProtoReader) throws(ModelError) -> ValueInfoProto {
        var info = ValueInfoProto()
        while let key = try reader.readKey() {
            switch key.number {
            case 1: info.name = try reader.string(key)
            case 2:
                var sub = try reader.message(key)
                info.type = try TypeProto.decode(&sub, depth: 0)
            default: try reader.skip(key.wireType)
            }
        }
        return info
    }
}
