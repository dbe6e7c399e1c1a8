/// Why a record was rejected. The raw value is the wire tag; `name` is what users see.
public enum RejectCode: UInt16, Sendable, CaseIterable {
    case jsonSyntax = 1
    case csvSyntax = 2
    case tooManyColumns = 3
    case missingColumns = 4
    case missingField = 5
    case type = 6
    case invalidUTF8 = 7
    case lineTooLong = 8
    case depth = 9
    case replicaCrash = 10

    /// The code as printed in error lines, e.g. `JSON_SYNTAX`.
    public var name: String {
        switch self {
        case .jsonSyntax: "JSON_SYNTAX"
        case .csvSyntax: "CSV_SYNTAX"
        case .tooManyColumns: "TOO_MANY_COLUMNS"
        case .missingColumns: "MISSING_COLUMNS"
        case .missingField: "MISSING_FIELD"
        case .type: "TYPE"
        case .invalidUTF8: "INVALID_UTF8"
        case .lineTooLong: "LINE_TOO_LONG"
        case .depth: "DEPTH"
        case .replicaCrash: "REPLICA_CRASH"
        }
    }
}

/// A processing node on the data path, as named on the wire.
public enum NodeKind: UInt8, Sendable, CaseIterable {
    case source = 0, ingest = 1, featurize = 2, infer = 3, aggregate = 4, sink = 5, supervisor = 6, client = 7

    public var name: String {
        switch self {
        case .source: "source"
        case .ingest: "ingest"
        case .featurize: "featurize"
        case .infer: "infer"
        case .aggregate: "aggregate"
        case .sink: "sink"
        case .supervisor: "supervisor"
        case .client: "client"
        }
    }

    /// The data path, in order: the one place the order of the stages is written.
    public static let dataPath: [NodeKind] = [.source, .ingest, .featurize, .infer, .aggregate, .sink]

    /// The node that sends to this one on the data path (nil: the source, and nodes off it).
    public var upstream: NodeKind? {
        guard let i = Self.dataPath.firstIndex(of: self), i > 0 else { return nil }
        return Self.dataPath[i - 1]
    }

    /// The node that receives what this one sends on the data path.
    public var downstream: NodeKind? {
        guard let i = Self.dataPath.firstIndex(of: self), i + 1 < Self.dataPath.count else { return nil }
        return Self.dataPath[i + 1]
    }
}

/// One rejected input record: where it was, why, and its first bytes.
public struct Reject: Sendable, Equatable {
    /// Longest `input` excerpt kept.
    public static let maxInputBytes = 200

    /// 1-based line number of the record's first line.
    public var line: UInt64
    /// Byte offset of the record's first byte in the input.
    public var byteOffset: UInt64
    public var stage: NodeKind
    public var code: RejectCode
    /// The schema field involved, or "" when the whole record is at fault.
    public var field: String
    public var message: String
    /// The record's first bytes (at most `maxInputBytes`), as read.
    public var input: [UInt8]

    public init(line: UInt64, byteOffset: UInt64, stage: NodeKind = .ingest, code: RejectCode,
                field: String = "", message: String, input: [UInt8]) {
        self.line = line
        self.byteOffset = byteOffset
        self.stage = stage
        self.code = code
        self.field = field
        self.message = message
        self.input = Array(input.prefix(Self.maxInputBytes))
    }

    public func encode(into out: FrameBuffer) {
        out.append(line)
        out.append(byteOffset)
        out.append(stage.rawValue)
        out.append(UInt8(0))
        out.append(code.rawValue)
        out.append(string: field)
        out.append(string: message)
        input.withUnsafeBytes { out.append(lengthPrefixed: $0) }
    }

    public static func decode(_ r: inout ByteReader) throws(FrameError) -> Reject {
        let line = try r.read(UInt64.self, "reject.line")
        let offset = try r.read(UInt64.self, "reject.byteOffset")
        guard let stage = NodeKind(rawValue: try r.read(UInt8.self, "reject.stage")) else {
            throw .invalid(field: "reject.stage", reason: "unknown node kind")
        }
        _ = try r.read(UInt8.self, "reject.reserved")
        guard let code = RejectCode(rawValue: try r.read(UInt16.self, "reject.code")) else {
            throw .invalid(field: "reject.code", reason: "unknown reject code")
        }
        let field = try r.string("reject.field")
        let message = try r.string("reject.message")
        let input = Array(try r.lengthPrefixed("reject.input").prefix(maxInputBytes))
        return Reject(line: line, byteOffset: offset, stage: stage, code: code, field: field,
                      message: message, input: input)
    }
}
