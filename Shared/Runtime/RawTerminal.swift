import Glibc

/// A terminal switched to key-by-key input without echo, for a full-screen view; `restore()`
/// puts back the attributes it found.
///
/// The signal keys are turned off too: Ctrl-C, Ctrl-Z and Ctrl-\ arrive as the bytes 3, 26 and
/// 28, so that the owner restores the terminal before it quits or stops (with them on, Ctrl-Z
/// would stop the process with the terminal still raw). Ctrl-S / Ctrl-Q flow control is off, so
/// that a stray Ctrl-S cannot freeze the view. Output processing (`\n` → `\r\n`) is left on.
///
/// - Important: call `restore()` on every way out, signals included (route SIGINT, SIGTERM and
///   SIGHUP through `SignalPipe`); a process that dies otherwise leaves the shell without echo
///   (`stty sane` or `reset` repairs it).
public struct RawTerminal {
    public let fd: Int32
    /// The attributes found on entry.
    public let saved: termios

    /// Switches `fd`, a terminal, to raw input.
    /// - Throws: `SystemError` (ENOTTY when `fd` is not a terminal).
    public init(_ fd: Int32) throws(SystemError) {
        self.fd = fd
        saved = try Sys.terminalAttributes(fd)
        try enter()
    }

    /// The attributes raw input uses, derived from `attributes`.
    public static func raw(_ attributes: termios) -> termios {
        var t = attributes
        t.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG | IEXTEN)
        t.c_iflag &= ~tcflag_t(IXON)
        // Each read returns as soon as one byte is there; the caller waits with poll.
        withUnsafeMutableBytes(of: &t.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        return t
    }

    /// Switches to raw input (again, e.g. after the process was stopped and continued).
    public func enter() throws(SystemError) {
        try Sys.setTerminalAttributes(fd, Self.raw(saved))
    }

    /// Puts back the attributes found on entry.
    public func restore() throws(SystemError) {
        try Sys.setTerminalAttributes(fd, saved)
    }
}
