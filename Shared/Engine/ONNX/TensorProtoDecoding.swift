/// TensorProto decoding (initializers and tensor attributes). Only collects the fields; turning
/// them into typed, size-checked data is `ConstantTensor.init(_:)`'s job.

extension TensorProto {
    mutating func merge(_ reader: inout ProtoReader) throws(ModelError) {
        while let key = try reader.readKey() {
            switch key.number {
            case 1: try reader.appendInt64s(key, to: &dims)
            case 2: dataType = try reader.int32(key)
            case 3:
                try reader.skip(key.wireType)
                hasSegment = true
            case 4: try reader.appendFloats(key, to: &floatData)
            case 5: try reader.appendInt32s(key, to: &int32Data)
            case 6: stringData.append(try reader.byteArray(key))
            case 7: try reader.appendInt64s(key, to: &int64Data)
            case 8: name = try reader.string(key)
            case 9: rawData = try reader.byteRange(key)
            case 10: try reader.appendDoubles(key, to: &doubleData)
            case 11: try reader.appendVarints(key, to: &uint64Data)
            case 13:
                try reader.skip(key.wireType)
                hasExternalData = true
            case 14: dataLocation = try reader.int32(key)
            default: try reader.skip(key.wireType)
            }
        }
    }
}
