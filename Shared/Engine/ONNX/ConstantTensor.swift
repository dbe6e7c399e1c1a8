/// A fully known tensor: an initializer, a `Constant` node's value, or a folded subgraph.
///
/// Numbers are kept in one of three storages: floating types as `Float`, whole-number types as
/// `Int64`, strings as `String`; large float32 `raw_data` stays in the model file's bytes as a
/// view (`RawFloats`), decoded only when used. `init(_:bytes:)` checks every size in the
/// TensorProto against the element count its dims imply, so a hostile file cannot make it read
/// or allocate past its data.
struct ConstantTensor: Sendable, Equatable {
    enum Storage: Sendable, Equatable {
        case float([Float])
        /// float32 values read in place from the model file (large initializers).
        case floatView(RawFloats)
        case int64([Int64])
        case string([String])
    }

    var dims: [Int]
    var elementType: ElementType
    var storage: Storage

    init(dims: [Int], elementType: ElementType, storage: Storage) {
        self.dims = dims
        self.elementType = elementType
        self.storage = storage
    }

    init(floats: [Float], dims: [Int]) { self.init(dims: dims, elementType: .float, storage: .float(floats)) }
    init(ints: [Int64], dims: [Int]) { self.init(dims: dims, elementType: .int64, storage: .int64(ints)) }

    var count: Int {
        switch storage {
        case .float(let v): v.count
        case .floatView(let v): v.count
        case .int64(let v): v.count
        case .string(let v): v.count
        }
    }

    var isString: Bool { if case .string = storage { true } else { false } }

    /// The values as Float (integers converted); nil for strings.
    var floats: [Float]? {
        switch storage {
        case .float(let v): v
        case .floatView(let v): v.decoded()
        case .int64(let v): v.map { Float($0) }
        case .string: nil
        }
    }

    /// Calls `body` with the values as Float, in place when they are float32 in memory (no copy
    /// of a large initializer), else converted; nil for strings.
    func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) -> R) -> R? {
        switch storage {
        case .float(let v): v.withUnsafeBufferPointer(body)
        case .floatView(let v): v.withFloats(body)
        case .int64, .string: floats.map { $0.withUnsafeBufferPointer(body) }
        }
    }

    /// The values as Int64 (floats truncated toward zero, like a C cast); nil for strings.
    var int64s: [Int64]? {
        switch storage {
        case .float(let v): v.map { $0.isFinite ? Int64(exactly: $0.rounded(.towardZero)) ?? 0 : 0 }
        case .floatView(let v): v.decoded().map { $0.isFinite ? Int64(exactly: $0.rounded(.towardZero)) ?? 0 : 0 }
        case .int64(let v): v
        case .string: nil
        }
    }

    /// Element count for `dims`, or nil when a dim is negative or the product is absurd.
    ///
    /// Zero dims count as 1 in the bound: an empty tensor's other dims are still multiplied
    /// (Flatten, Reshape, broadcasting), so they must not overflow either ([0, 2^40, 2^40]).
    static func elementCount(_ dims: [Int]) -> Int? {
        var n = 1
        var bound = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (b, overflow) = bound.multipliedReportingOverflow(by: max(d, 1))
            guard !overflow, b <= 1 << 31 else { return nil }
            bound = b
            n *= d
        }
        return n
    }
}

extension ConstantTensor {
    /// Decodes a TensorProto's data (raw_data or the typed field) into checked storage; large
    /// float32 raw_data becomes a view into `bytes`, the model file the proto was decoded from.
    init(_ proto: TensorProto, bytes: ModelBytes) throws(ModelError) {
        let label = proto.name.isEmpty ? "a tensor attribute" : "tensor '\(proto.name)'"
        if proto.hasExternalData || proto.dataLocation == 1 {
            throw ModelError(.unsupported, "\(label) keeps its data in an external file, which is not supported; "
                + "save the model with its data inside (onnx.save_model(model, path, save_as_external_data=False))")
        }
        if proto.hasSegment {
            throw ModelError(.unsupported, "\(label) is a segment of a larger tensor, which is not supported")
        }
        let dims = proto.dims.map { Int(clamping: $0) }
        guard let count = ConstantTensor.elementCount(dims) else {
            throw ModelError(.malformed, "\(label) has invalid dims \(proto.dims)")
        }
        let type = ElementType(code: proto.dataType)
        let storage = try ConstantTensor.decodeStorage(proto, bytes: bytes, type: type, count: count, label: label)
        self.init(dims: dims, elementType: type, storage: storage)
    }

    /// float32 raw_data of at least this many bytes is kept as a view rather than decoded.
    static let viewBytes = 4096

    private static func decodeStorage(_ proto: TensorProto, bytes: ModelBytes, type: ElementType, count: Int,
                                      label: String) throws(ModelError) -> Storage {
        func sizeError(_ got: Int, _ field: String) -> ModelError {
            ModelError(.malformed, "\(label) has \(counted(got, "value")) in \(field), but its dims \(proto.dims) need \(count)")
        }
        if let range = proto.rawData {
            guard let size = rawSize(type) else { throw unsupportedType(type, label) }
            guard range.count == count * size else { throw sizeError(range.count / max(size, 1), "raw_data") }
            // The range came from the reader, which checked it against the buffer.
            precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "raw_data outside the model bytes")
            if type == .float && range.count >= viewBytes {
                return .floatView(RawFloats(bytes: bytes, offset: range.lowerBound, count: count))
            }
            return decodeRaw(UnsafeRawBufferPointer(rebasing: bytes.buffer[range]), type: type, count: count)
        }
        switch type {
        case .float:
            guard proto.floatData.count == count else { throw sizeError(proto.floatData.count, "float_data") }
            return .float(proto.floatData)
        case .double:
            guard proto.doubleData.count == count else { throw sizeError(proto.doubleData.count, "double_data") }
            return .float(proto.doubleData.map { Float($0) })
        case .int64:
            guard proto.int64Data.count == count else { throw sizeError(proto.int64Data.count, "int64_data") }
            return .int64(proto.int64Data)
        case .int32, .int16, .int8, .uint16, .uint8, .bool:
            guard proto.int32Data.count == count else { throw sizeError(proto.int32Data.count, "int32_data") }
            // int32_data carries the narrower types widened: each value must fit its type (raw
            // data cannot hold anything else), or the quantized kernels' bounds would not hold.
            let range: ClosedRange<Int32> = switch type {
            case .int8: -128...127
            case .uint8: 0...255
            case .int16: -32768...32767
            case .uint16: 0...65535
            case .bool: 0...1
            default: Int32.min...Int32.max
            }
            if let bad = proto.int32Data.first(where: { !range.contains($0) }) {
                throw ModelError(.malformed, "\(label) holds \(bad) in int32_data, outside the range of \(type.name)")
            }
            return .int64(proto.int32Data.map { Int64($0) })
        case .uint32, .uint64:
            guard proto.uint64Data.count == count else { throw sizeError(proto.uint64Data.count, "uint64_data") }
            return .int64(proto.uint64Data.map { Int64(bitPattern: $0) })
        case .string:
            guard proto.stringData.count == count else { throw sizeError(proto.stringData.count, "string_data") }
            return .string(proto.stringData.map { String(decoding: $0, as: UTF8.self) })
        default:
            throw unsupportedType(type, label)
        }
    }

    private static func unsupportedType(_ type: ElementType, _ label: String) -> ModelError {
        ModelError(.unsupported, "\(label) has element type \(type.name); supported tensor types: "
            + "float, double, int8, uint8, int16, uint16, int32, uint32, int64, uint64, bool, string")
    }

    private static func rawSize(_ type: ElementType) -> Int? {
        switch type {
        case .float, .int32, .uint32: 4
        case .double, .int64, .uint64: 8
        case .int16, .uint16: 2
        case .int8, .uint8, .bool: 1
        default: nil
        }
    }

    /// Little-endian raw bytes to storage; `raw.count` was checked against `count` by the caller.
    private static func decodeRaw(_ raw: UnsafeRawBufferPointer, type: ElementType, count: Int) -> Storage {
        func ints<T: FixedWidthInteger>(_: T.Type) -> Storage {
            .int64((0..<count).map { Int64(truncatingIfNeeded: T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self))) })
        }
        switch type {
        case .float:
            return .float((0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) })
        case .double:
            return .float((0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) })
        case .int64: return ints(Int64.self)
        case .uint64: return ints(UInt64.self)
        case .int32: return ints(Int32.self)
        case .uint32: return ints(UInt32.self)
        case .int16: return ints(Int16.self)
        case .uint16: return ints(UInt16.self)
        case .int8: return ints(Int8.self)
        default: return ints(UInt8.self)  // uint8, bool
        }
    }
}

/// float32 little-endian values inside a model file's bytes, read in place: a large initializer
/// costs no private memory, and its pages are read only when something uses it (packing, once,
/// when the packed weights are not in the weight cache).
struct RawFloats: Sendable, Equatable {
    let bytes: ModelBytes
    /// Byte offset of the first value in `bytes`.
    let offset: Int
    let count: Int

    /// A copy as [Float].
    func decoded() -> [Float] {
        let raw = bytes.base + offset
        return (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }

    /// Calls `body` with the values in place when they are aligned for Float on a little-endian
    /// machine (raw_data lands at any offset of the file), otherwise with a decoded copy.
    func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) -> R) -> R {
        let raw = bytes.base + offset
        #if _endian(little)
        if UInt(bitPattern: raw) % UInt(MemoryLayout<Float>.alignment) == 0 {
            // Read-only memory holding nothing but these floats' bytes.
            return body(UnsafeBufferPointer(start: raw.bindMemory(to: Float.self, capacity: count), count: count))
        }
        #endif
        return decoded().withUnsafeBufferPointer(body)
    }

    static func == (a: RawFloats, b: RawFloats) -> Bool {
        a.count == b.count
            && UnsafeRawBufferPointer(start: a.bytes.base + a.offset, count: 4 * a.count)
                .elementsEqual(UnsafeRawBufferPointer(start: b.bytes.base + b.offset, count: 4 * b.count))
    }
}
