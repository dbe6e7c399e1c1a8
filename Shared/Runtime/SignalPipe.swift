import Glibc

/// Delivers signals to a poll loop: a handler writes the signal number into a pipe, whose read
/// end the loop watches (Swift's Glibc module has no signalfd).
public enum SignalPipe {
    nonisolated(unsafe) private static var writeEnd: Int32 = -1
    nonisolated(unsafe) private static var readEnd: Int32 = -1

    /// Routes `signals` to the pipe and returns its read end (non-blocking). Call once.
    public static func install(_ signals: [Int32]) throws(SystemError) -> Int32 {
        precondition(readEnd < 0, "SignalPipe.install called twice")
        (readEnd, writeEnd) = try Sys.nonBlockingPipe()
        // A parent may have started us with these signals blocked (some test runners and process
        // managers do); unblock them, or the handlers would never run.
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        sigprocmask(SIG_UNBLOCK, &set, nil)
        for s in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                var byte = UInt8(truncatingIfNeeded: signal)
                // Only async-signal-safe calls here; a full pipe just drops the byte.
                _ = Glibc.write(SignalPipe.writeEnd, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(s, &action, nil)
        }
        return readEnd
    }

    /// The signals received since the last call.
    public static func drain() -> [Int32] {
        var out: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(readEnd, $0.baseAddress, 64) }
            guard n > 0 else { return out }
            out += buffer[0..<n].map { Int32($0) }
        }
    }
}

/// A pipe that another thread writes to wake a poll loop.
public final class Wakeup: @unchecked Sendable {
    public let readEnd: Int32
    private let writeEnd: Int32

    public init() throws(SystemError) {
        (readEnd, writeEnd) = try Sys.nonBlockingPipe()
    }

    deinit {
        Sys.close(readEnd)
        Sys.close(writeEnd)
    }

    /// Wakes the loop (safe from any thread).
    public func signal() {
        var byte: UInt8 = 1
        _ = Glibc.write(writeEnd, &byte, 1)
    }

    /// Clears pending wake-ups (on the loop's thread).
    public func clear() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while buffer.withUnsafeMutableBytes({ Glibc.read(readEnd, $0.baseAddress, 64) }) > 0 {}
    }
}
