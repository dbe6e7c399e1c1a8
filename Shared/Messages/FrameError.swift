/// Why bytes could not be decoded as a frame or a payload. Receiving one closes the connection
/// that sent it; it never crashes the receiver.
public enum FrameError: Error, Equatable, Sendable, CustomStringConvertible {
    case badMagic(UInt32)
    case unsupportedVersion(UInt16)
    case unknownKind(UInt8)
    case tooLarge(length: Int, limit: Int)
    case misaligned(length: Int)
    /// A payload field ran past the end of the payload.
    case truncated(field: String)
    /// A payload value is out of range or inconsistent with another.
    case invalid(field: String, reason: String)
    /// A frame of this kind was not expected here.
    case unexpected(kind: FrameKind, context: String)

    public var description: String {
        switch self {
        case .badMagic(let m): "bad frame magic 0x\(String(m, radix: 16))"
        case .unsupportedVersion(let v): "unsupported protocol version \(v) (this build speaks \(FrameHeader.version))"
        case .unknownKind(let k): "unknown frame kind \(k)"
        case .tooLarge(let length, let limit): "frame payload of \(length) bytes exceeds the limit of \(limit)"
        case .misaligned(let length): "frame length \(length) is not a multiple of \(FrameHeader.alignment)"
        case .truncated(let field): "payload truncated in \(field)"
        case .invalid(let field, let reason): "invalid \(field): \(reason)"
        case .unexpected(let kind, let context): "unexpected \(kind) frame \(context)"
        }
    }
}
