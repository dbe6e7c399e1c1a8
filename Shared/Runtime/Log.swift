import Glibc

/// Writes one line to stderr, prefixed with this process's name. Lines from many processes
/// interleave whole (one `write` each, under PIPE_BUF for typical lines).
///
/// A status line (the supervisor's progress on a terminal) can stand below the log: each log
/// line then erases it, is written, and draws it again, in one write.
public enum Log {
    nonisolated(unsafe) public static var prefix = "pipeline"
    /// The line kept at the bottom of a terminal, or nil.
    nonisolated(unsafe) public private(set) static var statusLine: String?

    public static func info(_ message: String) { emit(message) }

    public static func error(_ message: String) { emit("error: " + message) }

    /// Draws (or replaces) the status line; nil erases it.
    public static func setStatus(_ line: String?) {
        statusLine = line
        try? Sys.writeAll(2, "\r\u{1B}[K" + (line ?? ""))
    }

    private static func emit(_ message: String) {
        if let statusLine {
            try? Sys.writeAll(2, "\r\u{1B}[K[\(prefix)] \(message)\n" + statusLine)
        } else {
            try? Sys.writeAll(2, "[\(prefix)] \(message)\n")
        }
    }
}
