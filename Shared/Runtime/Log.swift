import Glibc

/// Writes one line to stderr, prefixed with this process's name. Lines from many processes
/// interleave whole (one `write` each, under PIPE_BUF for typical lines).
///
/// A status line (the supervisor's progress on a terminal) can stand below the log: each log
/// line then erases it, is written, and draws it again, in one write. Output written to the same
/// terminal by another thread (rejected records on stderr) goes through `writingBelowStatus`,
/// which erases the line first; the next `setStatus` draws it again.
public enum Log {
    nonisolated(unsafe) public static var prefix = "pipeline"
    /// The line kept at the bottom of a terminal, or nil.
    nonisolated(unsafe) public private(set) static var statusLine: String?
    /// The status line is on the screen now (not erased for another thread's output).
    nonisolated(unsafe) private static var statusShown = false
    /// Orders the writes to the terminal: log lines, the status line, other threads' output.
    nonisolated(unsafe) private static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()
    /// Whether each line starts with the wall-clock time and a space: set where stderr is a
    /// log file (a replica's, a detached supervisor's) that `pipeline logs` merges with the
    /// others by time.
    nonisolated(unsafe) public static var timestamps = false

    public static func info(_ message: String) { emit(message) }

    public static func error(_ message: String) { emit("error: " + message) }

    /// Draws (or replaces) the status line; nil erases it.
    public static func setStatus(_ line: String?) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        statusLine = line
        statusShown = line != nil
        try? Sys.writeAll(2, "\r\u{1B}[K" + (line ?? ""))
    }

    /// Runs `write` (another thread's output to the status line's terminal) with the status
    /// line erased; it is drawn again at its next update.
    public static func writingBelowStatus(_ write: () -> Void) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if statusShown {
            try? Sys.writeAll(2, "\r\u{1B}[K")
            statusShown = false
        }
        write()
    }

    private static func emit(_ message: String) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        let line = (timestamps ? timestamp(Sys.wallSeconds()) + " " : "") + "[\(prefix)] \(message)\n"
        if let statusLine {
            try? Sys.writeAll(2, "\r\u{1B}[K" + line + statusLine)
            statusShown = true
        } else {
            try? Sys.writeAll(2, line)
        }
    }

    /// RFC 3339 in UTC with milliseconds, 24 characters: 2026-12-06T04:15:02.123Z. (Strings of
    /// this one shape sort as the times they name.)
    public static func timestamp(_ seconds: Double) -> String {
        var t = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        let millis = min(999, Int((seconds - seconds.rounded(.down)) * 1000))
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)Z"
    }
}
