import Glibc

/// Thin wrappers over the system calls the pipeline uses: each retries EINTR, reads errno at
/// once, and throws `SystemError` (trapping only on errnos that mean a bug). Nothing else in the
/// project calls these functions directly.
public enum Sys {
    /// The corresponding C function is `read`. Returns 0 at end of file, nil when it would block.
    public static func read(_ fd: Int32, into p: UnsafeMutableRawPointer, count: Int) throws(SystemError) -> Int? {
        while true {
            let n = Glibc.read(fd, p, count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
            throw lastError("read")
        }
    }

    /// The corresponding C function is `write`. Returns bytes written, nil when it would block.
    public static func write(_ fd: Int32, from p: UnsafeRawPointer, count: Int) throws(SystemError) -> Int? {
        while true {
            let n = Glibc.write(fd, p, count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
            throw lastError("write")
        }
    }

    /// Writes everything, blocking as needed (for blocking descriptors such as stdout and logs).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            guard let n = try write(fd, from: bytes.baseAddress! + done, count: bytes.count - done) else {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = Glibc.poll(&p, 1, -1)
                continue
            }
            done += n
        }
    }

    public static func writeAll(_ fd: Int32, _ text: String) throws(SystemError) {
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBytes { (raw) -> SystemError? in
            do throws(SystemError) { try writeAll(fd, raw); return nil } catch { return error }
        }
        if let result { throw result }
    }

    /// The corresponding C function is `close`. Errors other than EBADF are ignored: the
    /// descriptor is gone either way (Linux closes it even on EINTR).
    public static func close(_ fd: Int32) {
        let r = Glibc.close(fd)
        precondition(r == 0 || errno != EBADF, "close of a descriptor that is not open: a bug")
    }

    /// The corresponding C function is `poll`. Returns the number of ready descriptors (0 on timeout or EINTR).
    public static func poll(_ fds: inout [pollfd], timeoutMillis: Int32) throws(SystemError) -> Int {
        let n = fds.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, nfds_t($0.count), timeoutMillis) }
        if n >= 0 { return Int(n) }
        if errno == EINTR { return 0 }
        throw lastError("poll")
    }

    /// Sets O_NONBLOCK and FD_CLOEXEC.
    public static func setNonBlocking(_ fd: Int32) throws(SystemError) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else { throw lastError("fcntl(O_NONBLOCK)") }
    }

    public static func setCloseOnExec(_ fd: Int32) throws(SystemError) {
        let flags = fcntl(fd, F_GETFD)
        guard flags >= 0, fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0 else { throw lastError("fcntl(FD_CLOEXEC)") }
    }

    /// A pipe whose two ends are close-on-exec (blocking).
    /// The corresponding C function is `pipe`.
    public static func pipe() throws(SystemError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw lastError("pipe") }
        for fd in fds { try setCloseOnExec(fd) }
        return (fds[0], fds[1])
    }

    /// A pipe whose two ends are non-blocking and close-on-exec (a wake-up channel for a poll loop).
    public static func nonBlockingPipe() throws(SystemError) -> (read: Int32, write: Int32) {
        let fds = try pipe()
        try setNonBlocking(fds.read)
        try setNonBlocking(fds.write)
        return fds
    }

    /// The corresponding C function is `open`.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws(SystemError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw lastError("open", context: path)
        }
    }

    /// Reads a whole (small) file.
    public static func readFile(_ path: String, limit: Int = 64 << 20) throws(SystemError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var out: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n = try read(fd, into: chunk.baseAddress!, count: chunk.count) ?? 0
            if n == 0 { return out }
            out += chunk[0..<n]
            guard out.count <= limit else { throw SystemError("read", errno: EFBIG, context: path) }
        }
    }

    /// Writes a whole file (created 0600, truncated).
    public static func writeFile(_ path: String, _ text: String) throws(SystemError) {
        let fd = try open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
        defer { close(fd) }
        try writeAll(fd, text)
    }

    /// Writes a whole file of bytes (created 0600, truncated).
    public static func writeFile(_ path: String, _ bytes: [UInt8]) throws(SystemError) {
        let fd = try open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
        defer { close(fd) }
        var failure: SystemError?
        bytes.withUnsafeBytes { raw in
            do throws(SystemError) { try writeAll(fd, raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// The corresponding C function is `lstat`; nil when the path does not exist.
    public static func lstat(_ path: String) throws(SystemError) -> stat? {
        var st = Glibc.stat()
        if Glibc.lstat(path, &st) == 0 { return st }
        if errno == ENOENT { return nil }
        throw lastError("lstat", context: path)
    }

    /// The corresponding C function is `mkdir`; false when it already exists.
    @discardableResult
    public static func mkdir(_ path: String, mode: mode_t) throws(SystemError) -> Bool {
        if Glibc.mkdir(path, mode) == 0 { return true }
        if errno == EEXIST { return false }
        throw lastError("mkdir", context: path)
    }

    /// The corresponding C function is `unlink`; a missing file is not an error.
    public static func unlink(_ path: String) throws(SystemError) {
        if Glibc.unlink(path) == 0 || errno == ENOENT { return }
        throw lastError("unlink", context: path)
    }

    public static func chmod(_ path: String, _ mode: mode_t) throws(SystemError) {
        guard Glibc.chmod(path, mode) == 0 else { throw lastError("chmod", context: path) }
    }

    /// The corresponding C function is `kill`; false when the process is already gone.
    @discardableResult
    public static func kill(_ pid: pid_t, _ signal: Int32) -> Bool {
        Glibc.kill(pid, signal) == 0
    }

    /// The soft limit on this process's open descriptors (RLIMIT_NOFILE); Int.max when unlimited.
    /// The corresponding C function is `getrlimit`.
    public static func openFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0,
              limit.rlim_cur < rlim_t(Int.max) else { return .max }  // RLIM_INFINITY is all ones
        return Int(limit.rlim_cur)
    }

    /// Nanoseconds on the monotonic clock.
    public static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Nanoseconds of CPU time the calling thread has used (user and system): unlike wall
    /// time, it does not count the time other processes held the core.
    /// The corresponding C function is `clock_gettime(CLOCK_THREAD_CPUTIME_ID)`.
    public static func threadCPUNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Seconds since the epoch (wall clock), for display.
    public static func wallSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Resident set size of this process in bytes, from /proc/self/statm.
    public static func residentBytes() -> UInt64 {
        guard let bytes = try? readFile("/proc/self/statm", limit: 4096),
              let text = String(validating: bytes, as: UTF8.self) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = UInt64(fields[1]) else { return 0 }
        return pages * UInt64(pageSize())
    }

    /// Peak resident set size of this process in bytes (VmHWM in /proc/self/status).
    public static func peakResidentBytes() -> UInt64 {
        guard let bytes = try? readFile("/proc/self/status", limit: 1 << 16),
              let text = String(validating: bytes, as: UTF8.self),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        let kb = line.split(separator: " ").compactMap { UInt64($0) }.first ?? 0
        return kb * 1024
    }

    /// Random bytes from the kernel (/dev/urandom).
    public static func randomBytes(_ count: Int) throws(SystemError) -> [UInt8] {
        let fd = try open("/dev/urandom", O_RDONLY)
        defer { close(fd) }
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        defer { out.deallocate() }
        var done = 0
        while done < count {
            guard let n = try read(fd, into: out.baseAddress! + done, count: count - done), n > 0 else {
                throw SystemError("read", errno: EIO, context: "/dev/urandom")
            }
            done += n
        }
        return Array(out)
    }
}
