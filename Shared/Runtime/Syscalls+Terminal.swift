import Glibc

/// Terminal calls: attributes (termios), window size, and reading a descriptor with a timeout.
extension Sys {
    /// The terminal attributes of `fd`.
    ///
    /// The corresponding C function is `tcgetattr`.
    /// - Throws: `SystemError`, e.g. ENOTTY when `fd` is not a terminal.
    public static func terminalAttributes(_ fd: Int32) throws(SystemError) -> termios {
        var attributes = termios()
        guard tcgetattr(fd, &attributes) == 0 else { throw lastError("tcgetattr") }
        return attributes
    }

    /// Sets the terminal attributes of `fd`, after the output already written has been sent
    /// (`TCSADRAIN`), so that a frame drawn just before is not garbled by the change.
    ///
    /// The corresponding C function is `tcsetattr`.
    /// - Throws: `SystemError`, e.g. ENOTTY when `fd` is not a terminal, EIO when the terminal
    ///   has hung up.
    public static func setTerminalAttributes(_ fd: Int32, _ attributes: termios) throws(SystemError) {
        var attributes = attributes
        while tcsetattr(fd, TCSADRAIN, &attributes) != 0 {
            if errno == EINTR { continue }
            throw lastError("tcsetattr")
        }
    }

    /// The size of the terminal `fd` is, in character cells; nil when it is not a terminal or
    /// does not know its size (a serial line may say 0 × 0).
    ///
    /// The corresponding C function is `ioctl(TIOCGWINSZ)`.
    public static func terminalSize(_ fd: Int32) -> (columns: Int, rows: Int)? {
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return nil }
        return (Int(size.ws_col), Int(size.ws_row))
    }

    /// Waits up to `timeoutMillis` (0: not at all, -1: without limit) for `fd` to be readable,
    /// then reads once. Returns the bytes read (0 at end of file), or nil when nothing came in time.
    ///
    /// For blocking descriptors shared with other processes, such as a terminal on stdin:
    /// switching those to O_NONBLOCK would change them for the shell as well, and it would stay
    /// so after this process exits. Interrupted waits resume with the time that is left.
    /// The corresponding C functions are `poll` and `read`.
    public static func read(_ fd: Int32, into p: UnsafeMutableRawPointer, count: Int,
                            timeoutMillis: Int32) throws(SystemError) -> Int? {
        let deadline = timeoutMillis < 0 ? UInt64.max : monotonicNanos() + UInt64(timeoutMillis) * 1_000_000
        var poll = PollSet()
        while true {
            poll.removeAll()
            poll.add(fd)
            let now = monotonicNanos()
            let left = deadline == .max ? -1 : now >= deadline ? 0 : Int32((deadline - now + 999_999) / 1_000_000)
            try poll.wait(timeoutMillis: left)
            if poll.readable(0) { return try read(fd, into: p, count: count) }
            if monotonicNanos() >= deadline { return nil }
        }
    }
}
