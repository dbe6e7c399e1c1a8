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
        if let statusLine {
            try? Sys.writeAll(2, "\r\u{1B}[K[\(prefix)] \(message)\n" + statusLine)
            statusShown = true
        } else {
            try? Sys.writeAll(2, "[\(prefix)] \(message)\n")
        }
    }
}
