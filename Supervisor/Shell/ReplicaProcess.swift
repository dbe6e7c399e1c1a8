import ControlCore
import Glibc
import Messages
import Runtime

/// What the shell holds for one replica process: its files, its control connection, and the
/// figures its heartbeats report (for `ps`). Its state is the control core's
/// (`Reconciler.Replica`); nothing here decides anything.
final class ReplicaProcess {
    let id: ReplicaID
    let pid: pid_t
    let startedNanos: UInt64
    let socketPath: String
    let logPath: String
    var control: Connection?
    var heartbeat = Heartbeat()
    var lastBeatNanos: UInt64
    /// Busy share over the last two heartbeats, 0...1.
    var busy: Double = 0

    init(id: ReplicaID, pid: pid_t, socketPath: String, logPath: String, now: UInt64) {
        self.id = id
        self.pid = pid
        self.socketPath = socketPath
        self.logPath = logPath
        self.startedNanos = now
        self.lastBeatNanos = now
    }

    /// Its state page (which batch it is processing), next to its socket.
    var statePath: String { String(socketPath.dropLast(".sock".count)) + ".state" }

    var member: Membership.Member { .init(node: id.stage.node, replica: UInt32(id.index), path: socketPath) }

    func record(_ beat: Heartbeat, now: UInt64) {
        let elapsed = Double(now - lastBeatNanos)
        if elapsed > 0 && beat.busyNanos >= heartbeat.busyNanos {
            busy = min(1, Double(beat.busyNanos - heartbeat.busyNanos) / elapsed)
        }
        heartbeat = beat
        lastBeatNanos = now
    }
}

/// The last lines of a replica's log, for error messages.
enum LogTail {
    static func excerpt(_ path: String, lines: Int = 5) -> String {
        guard let bytes = try? Sys.readFile(path, limit: 1 << 20) else { return "" }
        let text = String(decoding: bytes, as: UTF8.self)
        let tail = text.split(separator: "\n").suffix(lines)
        guard !tail.isEmpty else { return "" }
        return "\n  its log (\(path)):\n" + tail.map { "    " + $0 }.joined(separator: "\n")
    }
}
