import Glibc

/// Writes one line to stderr, prefixed with this process's name. Lines from many processes
/// interleave whole (one `write` each, under PIPE_BUF for typical lines).
public enum Log {
    nonisolated(unsafe) public static var prefix = "pipeline"

    public static func info(_ message: String) { emit(message) }

    public static func error(_ message: String) { emit("error: " + message) }

    private static func emit(_ message: String) {
        try? Sys.writeAll(2, "[\(prefix)] \(message)\n")
    }
}
