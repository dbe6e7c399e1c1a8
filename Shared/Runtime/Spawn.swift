import Glibc

/// Starting and reaping child processes with `posix_spawn` (Foundation's `Process` polls every
/// 50 ms when waited on; shared/MEASURED.md).
public enum Spawn {
    /// How a child ended.
    public enum Termination: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        /// A crash or abort of the process's own doing (a fault, a trap, an assertion, an
        /// error exit), as opposed to a signal sent from outside (SIGKILL, SIGTERM, SIGINT ...).
        public var isSelfInflicted: Bool {
            switch self {
            case .exited(let code): code != 0
            case .signaled(let s): [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS].contains(s)
            }
        }

        public var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signaled(let sig): "was killed by signal \(sig) (\(String(cString: strsignal(sig))))"
            }
        }
    }

    /// Starts `path` with `arguments` (argv[0] included) and `environment` ("K=V"), stdin from
    /// /dev/null, stdout and stderr appended to `logPath`, in its own process group, with default
    /// signal dispositions and an empty signal mask.
    /// - Returns: the child's pid.
    public static func start(path: String, arguments: [String], environment: [String], logPath: String) throws(SystemError) -> pid_t {
        // Own process group: a terminal's Ctrl-C goes to the supervisor, which drains the replicas.
        try run(path: path, arguments: arguments, environment: environment, stdin: .file("/dev/null"),
                stdout: .append(logPath), stderr: .descriptor(1), ownProcessGroup: true)
    }

    /// CPU time of a process. (Not its peak memory: a child started by posix_spawn inherits
    /// its parent's ru_maxrss, so the replicas report VmHWM themselves.)
    public struct Usage: Sendable, Equatable {
        public var userSeconds: Double
        public var systemSeconds: Double

        public init(userSeconds: Double = 0, systemSeconds: Double = 0) {
            self.userSeconds = userSeconds
            self.systemSeconds = systemSeconds
        }

        init(_ r: rusage) {
            userSeconds = Double(r.ru_utime.tv_sec) + Double(r.ru_utime.tv_usec) / 1e6
            systemSeconds = Double(r.ru_stime.tv_sec) + Double(r.ru_stime.tv_usec) / 1e6
        }

        /// This process's own usage (all its threads).
        public static func ofSelf() -> Usage {
            var r = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &r)
            return Usage(r)
        }
    }

    /// Where a started command's standard stream goes.
    public enum Stream: Sendable {
        /// This process's own descriptor.
        case inherit
        /// A file: read (stdin) or created/truncated (stdout, stderr).
        case file(String)
        /// A file appended to (created 0600 if missing).
        case append(String)
        /// A descriptor of this process (e.g. a pipe end), duplicated onto the stream.
        case descriptor(Int32)
    }

    /// Starts `path` with its standard streams as given (set up in order: stdin, stdout, stderr;
    /// a `.descriptor` refers to the child's descriptors at that point), default signal
    /// dispositions and an empty signal mask; in its own process group if asked, or in a new
    /// session (`setsid`: no controlling terminal, so a terminal's hang-up or Ctrl-C never
    /// reaches it).
    /// - Parameter passing: descriptors of this process the child gets as the numbers given
    ///   (above 2), after the standard streams are set up; nothing else is passed but what is
    ///   not close-on-exec.
    public static func run(path: String, arguments: [String], environment: [String], stdin: Stream = .inherit,
                           stdout: Stream = .inherit, stderr: Stream = .inherit,
                           ownProcessGroup: Bool = false, newSession: Bool = false,
                           passing: [(fd: Int32, as: Int32)] = []) throws(SystemError) -> pid_t {
        precondition(passing.allSatisfy { $0.as > 2 }, "passed descriptors go above the standard three")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let streams: [(Int32, Stream)] = [(0, stdin), (1, stdout), (2, stderr)] + passing.map { ($0.as, .descriptor($0.fd)) }
        for (fd, stream) in streams {
            switch stream {
            case .inherit: break
            case .file(let p):
                posix_spawn_file_actions_addopen(&actions, fd, p, fd == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            case .append(let p): posix_spawn_file_actions_addopen(&actions, fd, p, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            case .descriptor(let d): posix_spawn_file_actions_adddup2(&actions, d, fd)
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGHUP, SIGXFSZ] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        // POSIX_SPAWN_SETSID (glibc 2.26): spawn.h declares it only under _GNU_SOURCE, which
        // Swift's Glibc module does not define.
        if newSession { flags |= 0x80 }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw SystemError("posix_spawn", errno: rc, context: path) }
        return pid
    }

    /// Waits for `pid` to exit (blocking) and returns how it ended and what it used.
    public static func waitWithUsage(_ pid: pid_t) -> (termination: Termination, usage: Usage)? {
        var status: Int32 = 0
        var usage = rusage()
        while true {
            let r = wait4(pid, &status, 0, &usage)
            if r == pid { return (decode(status), Usage(usage)) }
            if r < 0 && errno == EINTR { continue }
            return nil
        }
    }

    /// This process's environment, as "K=V" strings.
    public static func currentEnvironment() -> [String] {
        var out: [String] = []
        var p = environ
        while let entry = p.pointee {
            out.append(String(cString: entry))
            p += 1
        }
        return out
    }

    /// Reaps one exited child without blocking; nil when none has exited.
    public static func reap() -> (pid: pid_t, termination: Termination, usage: Usage)? {
        var status: Int32 = 0
        var usage = rusage()
        while true {
            let pid = wait4(-1, &status, WNOHANG, &usage)
            if pid > 0 { return (pid, decode(status), Usage(usage)) }
            if pid < 0 && errno == EINTR { continue }
            return nil
        }
    }

    /// Waits for `pid` to exit (blocking).
    public static func wait(_ pid: pid_t) -> Termination? {
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, 0)
            if r == pid { return decode(status) }
            if r < 0 && errno == EINTR { continue }
            return nil
        }
    }

    static func decode(_ status: Int32) -> Termination {
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }
}
