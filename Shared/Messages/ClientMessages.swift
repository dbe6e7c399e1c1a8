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
        /// A model rollout step (`pipeline rollout`): `rollout` says which.
        case rollout = 6
    }

    /// What `pipeline rollout` asks for.
    public struct Rollout: Sendable, Equatable {
        public enum Mode: UInt8, Sendable {
            /// Every batch from the next one on is scored by the new version.
            case cutover = 0
            /// The new version scores `percent` % of the batches.
            case canary = 1
            /// The new version scores every batch too; its results are compared, not written.
            case shadow = 2
            /// The canary's or shadow's version takes every batch from the next one on.
            case promote = 3
            /// The canary or shadow ends; the live version keeps every batch.
            case abort = 4
        }

        public var mode: Mode
        /// Absolute path of the new config or ONNX model (cutover, canary, shadow).
        public var path: String
        public var percent: Double

        public init(mode: Mode, path: String = "", percent: Double = 0) {
            self.mode = mode
            self.path = path
            self.percent = percent
        }
    }

    public var operation: Operation
    /// ps: answer in JSON.
    public var json: Bool
    /// scale: (stage, replicas).
    public var scales: [(node: NodeKind, replicas: UInt32)]
    /// rollout: what to do.
    public var rollout: Rollout?

    public init(operation: Operation, json: Bool = false, scales: [(node: NodeKind, replicas: UInt32)] = [], rollout: Rollout? = nil) {
        self.operation = operation
        self.json = json
        self.scales = scales
        self.rollout = rollout
    }

    public static func == (a: Request, b: Request) -> Bool {
        a.operation == b.operation && a.json == b.json && a.scales.elementsEqual(b.scales) { $0 == $1 } && a.rollout == b.rollout
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
            if operation == .rollout, let rollout {
                out.append(rollout.mode.rawValue)
                out.append(rollout.percent)
                out.append(string: rollout.path)
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
        var request = Request(operation: op, json: json, scales: scales)
        if op == .rollout {
            guard let mode = Rollout.Mode(rawValue: try r.read(UInt8.self, "request.rollout.mode")) else {
                throw .invalid(field: "request.rollout.mode", reason: "unknown mode")
            }
            let percent = try r.readDouble("request.rollout.percent")
            guard percent >= 0 && percent <= 100 else { throw .invalid(field: "request.rollout.percent", reason: "not within 0...100") }
            request.rollout = Rollout(mode: mode, path: try r.string("request.rollout.path"), percent: percent)
        }
        return request
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
