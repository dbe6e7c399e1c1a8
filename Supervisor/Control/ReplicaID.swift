import Config

/// One replica of a stage. Indexes start at 1 and are never reused within a run, so a
/// replacement is a new replica (`infer.3` after `infer.2` died), as `ps` and the logs show.
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let stage: StageKind
    public let index: Int

    public init(_ stage: StageKind, _ index: Int) {
        self.stage = stage
        self.index = index
    }

    public var description: String { "\(stage.rawValue).\(index)" }

    public static func < (a: ReplicaID, b: ReplicaID) -> Bool { (a.stage, a.index) < (b.stage, b.index) }
}

/// How a replica process ended, as the control core needs to know it.
public enum Termination: Equatable, Sendable, CustomStringConvertible {
    /// It called exit with this status.
    case exited(Int32)
    /// A signal ended it. `selfInflicted`: the process brought it on itself (a fault, an abort,
    /// a trap), as opposed to a signal sent from outside (SIGKILL, SIGTERM, the OOM killer).
    case signaled(Int32, selfInflicted: Bool, name: String)

    /// A crash or an error exit of the process's own doing: the batch it held may be at fault.
    public var isSelfInflicted: Bool {
        switch self {
        case .exited(let code): code != 0
        case .signaled(_, let selfInflicted, _): selfInflicted
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal, _, let name): "was killed by signal \(signal) (\(name))"
        }
    }
}

/// A duration in nanoseconds as seconds with one decimal, for messages ("5.0 s", not "5.000000123").
public func seconds(_ nanos: UInt64) -> String {
    let tenths = (nanos + 50_000_000) / 100_000_000
    return "\(tenths / 10).\(tenths % 10)"
}
