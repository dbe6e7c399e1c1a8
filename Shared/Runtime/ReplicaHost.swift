import Glibc
import Messages

/// The one loop every stage service runs (ingest, featurize, infer, aggregate).
///
/// Lifecycle: connect to the supervisor's control socket and say hello; receive the config;
/// build the stage's processor (a failure is reported and ends the process); listen for the
/// upstream stage; report ready; then, until drained or shut down: take data frames from
/// upstream links in turn, process each into one frame, send it to the downstream replica with
/// the most credit, and return a credit upstream. A frame is taken only when some downstream
/// replica can accept the result, so backpressure travels up the chain. Heartbeats go to the
/// supervisor from this same loop, so a stuck processor stops them.
public enum ReplicaHost {
    /// Exit codes of a replica process.
    public enum Exit: Int32 {
        case ok = 0
        case usage = 2
        case startFailed = 3
        case supervisorGone = 4
        case processingFailed = 5
    }

    /// Runs a replica of `node`; never returns.
    /// - Parameter makeProcessor: builds the stage from the config the supervisor sends and, for
    ///   featurize, infer and aggregate, one of its live model versions (nil for ingest).
    public static func main(node: NodeKind, makeProcessor: @escaping (ConfigMessage, ModelVersion?) throws -> any StageProcessor) -> Never {
        Sys.ignoreSignal(SIGPIPE)
        // Ctrl-C reaches the whole foreground process group; the supervisor decides how we stop.
        Sys.ignoreSignal(SIGINT)
        let args = CommandLine.arguments
        guard let options = ReplicaOptions(arguments: args, environment: getenv("PIPELINE_COOKIE").map { String(cString: $0) }) else {
            try? Sys.writeAll(2, """
                usage: \(node.name) --control SOCKET --replica N   (with PIPELINE_COOKIE set)
                This program is a stage of the pipeline; `pipeline up` starts it.

                """)
            exit(Exit.usage.rawValue)
        }
        Log.prefix = "\(node.name).\(options.replica)"
        // Our stderr is our log file: `pipeline logs` interleaves the logs by these times.
        Log.timestamps = true
        let replica: Replica
        do {
            replica = try Replica(node: node, options: options)
        } catch {
            Log.error("cannot reach the supervisor at \(options.controlPath): \(error)")
            exit(Exit.supervisorGone.rawValue)
        }
        exit(replica.run(makeProcessor: makeProcessor).rawValue)
    }
}

/// Command-line options of a replica process.
struct ReplicaOptions {
    var controlPath: String
    var replica: UInt32
    var cookie: String

    init?(arguments: [String], environment cookie: String?) {
        var control: String?
        var replica: UInt32?
        var i = 1
        while i + 1 < arguments.count {
            switch arguments[i] {
            case "--control": control = arguments[i + 1]
            case "--replica": replica = UInt32(arguments[i + 1])
            default: return nil
            }
            i += 2
        }
        guard i == arguments.count, let control, let replica, let cookie, !cookie.isEmpty else { return nil }
        self.controlPath = control
        self.replica = replica
        self.cookie = cookie
    }
}
