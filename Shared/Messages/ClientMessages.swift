/// CLI client → supervisor.
public struct Request: Sendable, Equatable {
    public enum Operation: UInt8, Sendable {
        /// List replicas.
        case ps = 1
        /// Change replica counts.
        case scale = 2
        /// Drain and stop the run.
        case down = 3
        /// A `StatusSnapshot` (`pipeline top`).
        case status = 4
        /// The drift watch's last windows (`pipeline drift`).
        case drift = 5
    }

    public var operation: Operation
    /// ps: answer in JSON.
    public var json: Bool
    /// scale: (stage, replicas).
    public var scales: [(node: NodeKind, replicas: UInt32)]

    public init(operation: Operation, json: Bool = false, scales: [(node: NodeKind, replicas: UInt32)] = []) {
        self.operation = operation
        self.json = json
        self.scales = scales
    }

    public static func == (a: Request, b: Request) -> Bool {
        a.operation == b.operation && a.json == b.json && a.scales.elementsEqual(b.scales) { $0 == $1 }
    }

    public func encode(into out: FrameBuffer) {
        out.frame(FrameHeader(kind: .request)) { out in
            out.append(operation.rawValue)
            out.append(UInt8(json ? 1 : 0))
            out.append(UInt16(scales.count))
            for s in scales {
                out.append(s.node.rawValue)
                out.append(s.replicas)
            }
        }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> Request {
        var r = try reader(frame, .request)
        guard let op = Operation(rawValue: try r.read(UInt8.self, "request.operation")) else {
            throw .invalid(field: "request.operation", reason: "unknown operation")
        }
        let json = try r.read(UInt8.self, "request.json") != 0
        let n = Int(try r.read(UInt16.self, "request.count"))
        var scales: [(node: NodeKind, replicas: UInt32)] = []
        for _ in 0..<n {
            guard let node = NodeKind(rawValue: try r.read(UInt8.self, "request.node")) else {
                throw .invalid(field: "request.node", reason: "unknown node kind")
            }
            scales.append((node, try r.read(UInt32.self, "request.replicas")))
        }
        return Request(operation: op, json: json, scales: scales)
    }
}

/// supervisor → CLI client: an exit status (0 = success) and the text to print.
public struct Reply: Sendable, Equatable {
    public var status: UInt8
    public var text: String

    public init(status: UInt8, text: String) {
        self.status = status
        self.text = text
    }

    public func encode(into out: FrameBuffer) {
        out.frame(FrameHeader(kind: .reply)) { out in
            out.append(status)
            out.append(string: text)
        }
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> Reply {
        var r = try reader(frame, .reply)
        return Reply(status: try r.read(UInt8.self, "reply.status"), text: try r.string("reply.text"))
    }
}
