import Testing
@testable import Engine

@Suite struct ProtoReaderTests {
    private func read<T>(_ bytes: [UInt8], _ body: (inout ProtoReader) throws(ModelError) -> T) throws(ModelError) -> T {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(ModelError) -> T in
                var reader = ProtoReader(buffer)
                return try body(&reader)
            }
        }
        return try result.get()
    }

    @Test(arguments: [
        ([0x00], UInt64(0)),
        ([0x01], UInt64(1)),
        ([0x7F], UInt64(127)),
        ([0x80, 0x01], UInt64(128)),
        ([0xAC, 0x02], UInt64(300)),
        ([0xFF, 0xFF, 0xFF, 0xFF, 0x0F], UInt64(UInt32.max)),
        ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], UInt64.max),
        ([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], UInt64(1) << 63),
    ] as [([UInt8], UInt64)])
    func varints(bytes: [UInt8], value: UInt64) throws {
        let (decoded, end) = try read(bytes) { r throws(ModelError) in (try r.readVarint(), r.position) }
        #expect(decoded == value)
        #expect(end == bytes.count)
    }

    @Test func negativeInt32IsSignExtendedTenBytes() throws {
        // int32 -1 on the wire: ten bytes, sign-extended to 64 bits.
        let bytes: [UInt8] = [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        let value = try read(bytes) { r throws(ModelError) in try r.int32(try r.readKey()!) }
        #expect(value == -1)
    }

    @Test(arguments: [
        [0x80],                                                             // truncated
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02],      // 10th byte > 1
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x81, 0x00], // 11 bytes
    ] as [[UInt8]])
    func badVarintsThrow(bytes: [UInt8]) {
        #expect(throws: ModelError.self) { try read(bytes) { r throws(ModelError) in try r.readVarint() } }
    }

    /// The bytes left after the length prefix, counted in the singular when there is one.
    @Test(arguments: [([0x05, 0xAA] as [UInt8], "length 5 exceeds the 1 byte left"), ([0x05], "length 5 exceeds the 0 bytes left"),
                      ([0x05, 0xAA, 0xBB], "length 5 exceeds the 2 bytes left")])
    func anOverrunningLengthSaysWhatIsLeft(bytes: [UInt8], message: String) {
        let error = #expect(throws: ModelError.self) { try read(bytes) { r throws(ModelError) in try r.readLengthDelimited() } }
        #expect(error?.message == message)
        #expect(error?.offset == 0, "the offset of the length prefix")
    }

    @Test func zigzag() {
        #expect(ProtoReader.zigzag(0) == 0)
        #expect(ProtoReader.zigzag(1) == -1)
        #expect(ProtoReader.zigzag(2) == 1)
        #expect(ProtoReader.zigzag(3) == -2)
        #expect(ProtoReader.zigzag(0xFFFF_FFFE) == 0x7FFF_FFFF)
        #expect(ProtoReader.zigzag(UInt64.max) == Int64.min)
        #expect(ProtoReader.zigzag(UInt64.max - 1) == Int64.max)
    }

    @Test func fixedWidthValuesAreLittleEndian() throws {
        let bytes: [UInt8] = [0x00, 0x00, 0x80, 0x3F, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]
        let (f, u) = try read(bytes) { r throws(ModelError) in (try r.readFixed32(), try r.readFixed64()) }
        #expect(Float(bitPattern: f) == 1.0)
        #expect(u == 0x0807_0605_0403_0201)
        #expect(throws: ModelError.self) { try read([0x01, 0x02, 0x03]) { r throws(ModelError) in try r.readFixed32() } }
        #expect(throws: ModelError.self) { try read([1, 2, 3, 4, 5, 6, 7]) { r throws(ModelError) in try r.readFixed64() } }
    }

    @Test func lengthDelimitedIsCheckedAgainstRemainingBytes() throws {
        let ok = try read([0x03, 0x61, 0x62, 0x63, 0x09]) { r throws(ModelError) in Array(try r.readLengthDelimited()) }
        #expect(ok == [0x61, 0x62, 0x63])
        #expect(throws: ModelError.self) { try read([0x04, 0x61, 0x62, 0x63]) { r throws(ModelError) in try r.readLengthDelimited() } }
        // A length near 2^64 must not overflow into a small one.
        let huge: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00]
        #expect(throws: ModelError.self) { try read(huge) { r throws(ModelError) in try r.readLengthDelimited() } }
    }

    @Test func packedAndUnpackedRepeatedFields() throws {
        // field 4 packed floats [1, 2], then field 4 unpacked float 3; field 7 packed [1, 300], unpacked -2.
        let bytes: [UInt8] = [0x22, 0x08, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40,
                              0x25, 0x00, 0x00, 0x40, 0x40,
                              0x3A, 0x03, 0x01, 0xAC, 0x02,
                              0x38, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        let tensor = try read(bytes) { r throws(ModelError) in
            var t = TensorProto()
            try t.merge(&r)
            return t
        }
        #expect(tensor.floatData == [1, 2, 3])
        #expect(tensor.int64Data == [1, 300, -2])
        #expect(throws: ModelError.self) {
            try read([0x22, 0x03, 0x00, 0x00, 0x80]) { r throws(ModelError) in
                var t = TensorProto()
                try t.merge(&r)
            }
        }
    }

    @Test func unknownFieldsOfEveryWireTypeAreSkipped() throws {
        // NodeProto with unknown fields 50 (varint), 51 (fixed64), 52 (bytes), 53 (fixed32) around op_type.
        let bytes: [UInt8] = [0x90, 0x03, 0x96, 0x01,
                              0x99, 0x03, 1, 2, 3, 4, 5, 6, 7, 8,
                              0x22, 0x04, 0x52, 0x65, 0x6C, 0x75,
                              0xA2, 0x03, 0x02, 0xAA, 0xBB,
                              0xAD, 0x03, 1, 2, 3, 4]
        let node = try read(bytes) { r throws(ModelError) in try NodeProto.decode(&r) }
        #expect(node.opType == "Relu")
    }

    @Test func groupsAndInvalidKeysThrow() {
        #expect(throws: ModelError.self) { try read([0x0B, 0x0C]) { r throws(ModelError) in try NodeProto.decode(&r) } }  // group
        #expect(throws: ModelError.self) { try read([0x0E, 0x00]) { r throws(ModelError) in try NodeProto.decode(&r) } }  // wire type 6
        #expect(throws: ModelError.self) { try read([0x00, 0x00]) { r throws(ModelError) in try NodeProto.decode(&r) } }  // field 0
        #expect(throws: ModelError.self) { try read([0x22, 0x05, 0x52]) { r throws(ModelError) in try NodeProto.decode(&r) } }
    }

    @Test func wrongWireTypeForAKnownFieldThrows() {
        // op_type (field 4, a string) sent as a varint.
        #expect(throws: ModelError.self) { try read([0x20, 0x01]) { r throws(ModelError) in try NodeProto.decode(&r) } }
    }

    @Test func deeplyNestedTypesAreRefused() throws {
        // sequence_type (4) of sequence_type of … 25 levels deep (the limit is 16).
        var bytes: [UInt8] = []
        for _ in 0..<25 { bytes = [0x22, UInt8(bytes.count + 2), 0x0A, UInt8(bytes.count)] + bytes }
        #expect(bytes.count < 256)
        #expect(throws: ModelError.self) { try read(bytes) { r throws(ModelError) in try TypeProto.decode(&r, depth: 0) } }
    }
}
