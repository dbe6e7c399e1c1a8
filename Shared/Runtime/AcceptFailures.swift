import Glibc
import Messages

/// What the two listeners that face other processes (the handshake gate, the metrics server)
/// do alike when `accept` fails: tell a shortage of descriptors from other failures, look
/// whether anyone waits in the backlog, and log each episode of failures once (its start and
/// its end), not once per poll.
struct AcceptFailures {
    /// How log lines name the listener: "/run/x/control.sock", "HTTP 127.0.0.1:9464".
    let listenerName: String
    /// In an episode of failing accepts.
    private(set) var failing = false
    private var count = 0

    init(listenerName: String) { self.listenerName = listenerName }

    /// The process or the system is out of descriptors or memory: closing a connection of ours
    /// can make room.
    static func isShortage(_ error: SystemError) -> Bool {
        [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errno)
    }

    /// True when a connection waits in `listener`'s backlog (a poll that does not wait).
    ///
    /// Linux reserves the descriptor before it looks at the backlog: with none free, `accept`
    /// fails even when nobody is waiting, and nobody should be closed for that.
    static func backlogHasConnections(_ listener: Int32) -> Bool {
        var poll = PollSet()
        let slot = poll.add(listener)
        guard (try? poll.wait(timeoutMillis: 0)) != nil else { return true }
        return poll.readable(slot)
    }

    /// Counts a failed accept; the first of an episode is logged with what the listener does
    /// about it (`remedy`, then "resting the listener for … s at a time").
    mutating func failed(_ error: SystemError, remedy: String, pauseNanos: UInt64) {
        count += 1
        guard !failing else { return }
        failing = true
        Log.error("accept on \(listenerName): \(error); \(remedy)resting the listener for \(Self.seconds(pauseNanos)) s at a time until it works again")
    }

    /// An accept worked after an episode of failures: its end is logged.
    mutating func recovered() {
        guard failing else { return }
        failing = false
        Log.info("accepting on \(listenerName) again, after \(counted(count, "failed accept"))")
        count = 0
    }

    /// "5", "0.25": seconds for log lines.
    static func seconds(_ nanos: UInt64) -> String {
        nanos % 1_000_000_000 == 0 ? "\(nanos / 1_000_000_000)" : "\(Double(nanos) / 1e9)"
    }
}
