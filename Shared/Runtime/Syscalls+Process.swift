import Glibc

/// Calls about this process and the machine: identity, signals, standard descriptors, sleeping.
extension Sys {
    /// The corresponding C function is `getpid`.
    public static func processID() -> Int32 {
        getpid()
    }

    /// The real user id of this process. The corresponding C function is `getuid`.
    public static func userID() -> UInt32 {
        getuid()
    }

    /// Makes this process ignore `signal` (e.g. SIGPIPE: a write to a closed pipe or socket
    /// then fails with EPIPE instead of killing the process). Children started later begin
    /// with the signal ignored too, unless their spawn resets it.
    ///
    /// The corresponding C function is `signal`, with `SIG_IGN`.
    public static func ignoreSignal(_ signal: Int32) {
        _ = Glibc.signal(signal, SIG_IGN)
    }

    /// Marks every open descriptor above `fd` close-on-exec, so that a program started next
    /// inherits none of them (only the standard ones and what its spawn passes). Call while no
    /// other thread opens files.
    ///
    /// The corresponding C function is `fcntl(F_SETFD)`, for each entry of /proc/self/fd.
    public static func setCloseOnExec(above fd: Int32) {
        for name in (try? listDirectory("/proc/self/fd")) ?? [] {
            guard let open = Int32(name), open > fd else { continue }
            // The listing's own descriptor is gone by now: EBADF is expected for it.
            let flags = fcntl(open, F_GETFD)
            if flags >= 0 { _ = fcntl(open, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// Opens /dev/null on each of the standard descriptors 0, 1 and 2 that is closed, so that
    /// the next file this process opens does not take its place (a log or lock file would
    /// then receive what is meant for stdout). Returns the descriptors that were closed.
    ///
    /// The corresponding C functions are `fcntl(F_GETFD)` and `open`. The descriptors are
    /// not close-on-exec: they stand in for the standard ones, which children inherit.
    @discardableResult
    public static func openNullOnClosedStandardDescriptors() -> [Int32] {
        var closed: [Int32] = []
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 {
            closed.append(fd)
            // open returns the lowest free descriptor: this one.
            _ = Glibc.open("/dev/null", O_RDWR)
        }
        return closed
    }

    /// Bytes per memory page. The corresponding C function is `sysconf(_SC_PAGESIZE)`.
    public static func pageSize() -> Int {
        sysconf(Int32(_SC_PAGESIZE))
    }

    /// The number of processors online. The corresponding C function is
    /// `sysconf(_SC_NPROCESSORS_ONLN)`.
    public static func processorCount() -> Int {
        sysconf(Int32(_SC_NPROCESSORS_ONLN))
    }

    /// Sleeps for `seconds` (on the monotonic clock), resuming after signals until the time has
    /// passed. For pacing (e.g. feeding one record per interval), never for synchronization.
    ///
    /// The corresponding C function is `nanosleep`.
    public static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.towardZero)) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR {
            request = remaining
        }
    }
}
