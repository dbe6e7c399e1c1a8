import Glibc
import Testing
@testable import Runtime

/// The terminal wrappers and raw mode, on a pseudo-terminal of the test's own (not the
/// controlling terminal: nothing here touches the terminal the tests run in).
@Suite struct TerminalTests {
    /// A pseudo-terminal: the side a terminal emulator holds, and the side a program reads.
    struct PseudoTerminal {
        let master: Int32
        let slave: Int32

        /// Linux's TIOCSPTLCK and TIOCGPTN (`_IOW('T', 0x31, int)`, `_IOR('T', 0x30, unsigned
        /// int)`): macros Swift does not import, nor `posix_openpt`, `unlockpt` and `ptsname`
        /// (Glibc's module hides them behind _XOPEN_SOURCE).
        static let setLock: UInt = 0x4004_5431
        static let getNumber: UInt = 0x8004_5430

        init() throws {
            master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
            try #require(master >= 0)
            var unlock: Int32 = 0
            var number: UInt32 = 0
            try #require(ioctl(master, Self.setLock, &unlock) == 0 && ioctl(master, Self.getNumber, &number) == 0)
            slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY | O_CLOEXEC)
            try #require(slave >= 0)
        }

        /// Types `bytes` as if at the keyboard.
        func type(_ bytes: [UInt8]) {
            #expect(bytes.withUnsafeBytes { Glibc.write(master, $0.baseAddress, $0.count) } == bytes.count)
        }

        func close() {
            Glibc.close(slave)
            Glibc.close(master)
        }
    }

    func bytes(_ t: termios) -> [UInt8] { withUnsafeBytes(of: t) { Array($0) } }

    func read(_ fd: Int32, timeoutMillis: Int32) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = try buffer.withUnsafeMutableBytes { try Sys.read(fd, into: $0.baseAddress!, count: 64, timeoutMillis: timeoutMillis) }
        return n.map { Array(buffer[0..<$0]) }
    }

    @Test func rawModeDeliversEachKeyAndRestoresWhatItFound() throws {
        let pty = try PseudoTerminal()
        defer { pty.close() }
        let before = try Sys.terminalAttributes(pty.slave)
        #expect(before.c_lflag & tcflag_t(ICANON | ECHO | ISIG) == tcflag_t(ICANON | ECHO | ISIG), "a new terminal is cooked")

        // Cooked: a key without Enter is not readable yet.
        pty.type([UInt8(ascii: "x")])
        #expect(try read(pty.slave, timeoutMillis: 50) == nil)
        pty.type([10])
        #expect(try read(pty.slave, timeoutMillis: 5000) == Array("x\n".utf8))

        // What the cooked terminal echoed.
        try Sys.setNonBlocking(pty.master)
        var echoed = [UInt8](repeating: 0, count: 64)
        #expect(echoed.withUnsafeMutableBytes { Glibc.read(pty.master, $0.baseAddress, 64) } > 0)

        let raw = try RawTerminal(pty.slave)
        let during = try Sys.terminalAttributes(pty.slave)
        #expect(during.c_lflag & tcflag_t(ICANON | ECHO | ISIG | IEXTEN) == 0)
        #expect(during.c_iflag & tcflag_t(IXON) == 0)
        #expect(during.c_oflag == before.c_oflag, "output processing is left alone")
        #expect(bytes(during) == bytes(RawTerminal.raw(before)))
        // Raw: each key at once, Ctrl-C and Ctrl-Z as bytes, nothing echoed back.
        pty.type([UInt8(ascii: "q")])
        #expect(try read(pty.slave, timeoutMillis: 5000) == [UInt8(ascii: "q")])
        pty.type([3, 26])
        #expect(try read(pty.slave, timeoutMillis: 5000) == [3, 26])
        #expect(echoed.withUnsafeMutableBytes { Glibc.read(pty.master, $0.baseAddress, 64) } == -1 && errno == EAGAIN,
                "no echo of the raw keys")

        try raw.restore()
        #expect(bytes(try Sys.terminalAttributes(pty.slave)) == bytes(before))
        try raw.enter()
        #expect(bytes(try Sys.terminalAttributes(pty.slave)) == bytes(during), "enter again after a stop")
        try raw.restore()
        #expect(bytes(try Sys.terminalAttributes(pty.slave)) == bytes(before))
    }

    @Test func terminalSizeIsTheWindowsOrNil() throws {
        let pty = try PseudoTerminal()
        defer { pty.close() }
        var size = winsize(ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0)
        #expect(ioctl(pty.master, UInt(TIOCSWINSZ), &size) == 0)
        #expect(Sys.terminalSize(pty.slave).map { [$0.columns, $0.rows] } == [80, 24])
        size = winsize(ws_row: 50, ws_col: 132, ws_xpixel: 0, ws_ypixel: 0)
        #expect(ioctl(pty.master, UInt(TIOCSWINSZ), &size) == 0)
        #expect(Sys.terminalSize(pty.slave).map { [$0.columns, $0.rows] } == [132, 50])
        size = winsize(ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0)
        #expect(ioctl(pty.master, UInt(TIOCSWINSZ), &size) == 0)
        #expect(Sys.terminalSize(pty.slave) == nil, "a terminal that does not know its size")

        let pipe = try Sys.pipe()
        defer { Sys.close(pipe.read); Sys.close(pipe.write) }
        #expect(Sys.terminalSize(pipe.read) == nil)
        let error = #expect(throws: SystemError.self) { try Sys.terminalAttributes(pipe.read) }
        #expect(error?.call == "tcgetattr" && error?.errno == ENOTTY)
        #expect(throws: SystemError.self) { try RawTerminal(pipe.read) }
    }

    @Test func readWithTimeoutWaitsAtMostThatLong() throws {
        let pipe = try Sys.pipe()
        defer { Sys.close(pipe.read); Sys.close(pipe.write) }
        let start = Sys.monotonicNanos()
        #expect(try read(pipe.read, timeoutMillis: 100) == nil)
        #expect(Sys.monotonicNanos() - start >= 100_000_000)
        #expect(try read(pipe.read, timeoutMillis: 0) == nil)

        try Sys.writeAll(pipe.write, "ab")
        #expect(try read(pipe.read, timeoutMillis: 0) == Array("ab".utf8))
        try Sys.writeAll(pipe.write, "c")
        #expect(try read(pipe.read, timeoutMillis: -1) == Array("c".utf8), "-1: no limit")
        let ended = try Sys.pipe()
        defer { Sys.close(ended.read) }
        Sys.close(ended.write)
        #expect(try read(ended.read, timeoutMillis: 1000) == [], "end of file")
    }
}
