import Glibc

/// The run directory of one pipeline: sockets, the lock, the cookie and per-replica logs.
///
/// Created 0700; refused when it is a symlink, not a directory, not owned by this user, or
/// open to group/others. Socket paths inside must fit `UnixSocket.maxPathBytes`.
public struct RunDirectory: Sendable {
    public let path: String

    public enum Problem: Error, CustomStringConvertible, Sendable {
        case unsafe(path: String, reason: String)
        case alreadyRunning(path: String, pid: Int32)
        case notRunning(path: String)
        case system(SystemError)

        public var description: String {
            switch self {
            case .unsafe(let path, let reason): "refusing to use run directory \(path): \(reason)"
            case .alreadyRunning(let path, let pid): "a pipeline is already running in \(path) (pid \(pid)); stop it with `pipeline down` first"
            case .notRunning(let path): "no pipeline is running in \(path)"
            case .system(let e): "\(e)"
            }
        }
    }

    /// The default location for a pipeline named `name`: `$XDG_RUNTIME_DIR/pipeline/<name>`,
    /// else `/tmp/pipeline-<uid>/<name>`.
    public static func defaultPath(name: String) -> String {
        "\(defaultRoots()[0])/\(name)"
    }

    /// Where run directories are made by default, the one used first: `$XDG_RUNTIME_DIR/pipeline`
    /// when that variable is set, and `/tmp/pipeline-<uid>` (where a shell without it puts them).
    public static func defaultRoots() -> [String] {
        let tmp = "/tmp/pipeline-\(getuid())"
        if let xdg = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !xdg.isEmpty {
            return ["\(xdg)/pipeline", tmp]
        }
        return [tmp]
    }

    public init(path: String) {
        self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    public var lockPath: String { "\(path)/lock" }
    public var cookiePath: String { "\(path)/cookie" }
    public var controlPath: String { "\(path)/control.sock" }
    public var sinkPath: String { "\(path)/sink.sock" }
    public var logDirectory: String { "\(path)/logs" }
    /// Holds the absolute path of the running pipeline's config file (for `pipeline ls`).
    public var configRecordPath: String { "\(path)/config-path" }
    /// The supervisor's own stderr when it runs detached (`up -d`).
    public var supervisorLogPath: String { "\(logDirectory)/pipeline.log" }
    public func socketPath(node: String, replica: Int) -> String { "\(path)/\(node).\(replica).sock" }
    public func logPath(node: String, replica: Int) -> String { "\(logDirectory)/\(node).\(replica).log" }

    /// Creates the directory (and missing parents, 0700) or checks an existing one.
    public func prepare() throws(Problem) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            try checkAncestor(prefix.isEmpty ? "/" : prefix)
            prefix += "/" + part
            try makePrivate(prefix)
        }
        try check(path)
        try makePrivate(logDirectory)
        try check(logDirectory)
    }

    /// Creates `dir` with mode exactly 0700 if it does not exist (whatever the umask).
    private func makePrivate(_ dir: String) throws(Problem) {
        do {
            if try Sys.mkdir(dir, mode: 0o700) { try Sys.chmod(dir, 0o700) }
        } catch {
            throw .system(error)
        }
    }

    /// Refuses a path that is not a real directory owned by us with mode 0700 (no group/other bits).
    public func check(_ dir: String) throws(Problem) {
        let st: stat?
        do { st = try Sys.lstat(dir) } catch { throw .system(error) }
        guard let st else { throw .unsafe(path: dir, reason: "it does not exist") }
        if (st.st_mode & S_IFMT) == S_IFLNK { throw .unsafe(path: dir, reason: "it is a symbolic link") }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw .unsafe(path: dir, reason: "it is not a directory") }
        guard st.st_uid == getuid() else { throw .unsafe(path: dir, reason: "it is owned by uid \(st.st_uid), not \(getuid())") }
        guard st.st_mode & 0o077 == 0 else {
            throw .unsafe(path: dir, reason: "its mode is \(String(st.st_mode & 0o777, radix: 8)); it must be 0700 (no access for group or others)")
        }
    }

    /// Refuses a directory above the run directory that another user could change: it must be
    /// owned by root or this user, and if others may write to it, it must be sticky (like /tmp),
    /// so nobody else can rename or replace what lies below it.
    func checkAncestor(_ dir: String) throws(Problem) {
        var st = stat()
        // fstatat, not stat: in Swift the name `stat` is taken by the struct.
        guard fstatat(AT_FDCWD, dir, &st, 0) == 0 else { throw .system(SystemError("stat", errno: errno, context: dir)) }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw .unsafe(path: dir, reason: "it is not a directory") }
        guard st.st_uid == 0 || st.st_uid == getuid() else {
            throw .unsafe(path: dir, reason: "it is owned by uid \(st.st_uid), neither root nor \(getuid()), so that user could replace what is inside")
        }
        if st.st_mode & 0o022 != 0 && st.st_mode & S_ISVTX == 0 {
            throw .unsafe(path: dir, reason: "others may write to it and it is not sticky, so they could replace what is inside")
        }
    }

    /// Checks every socket path this run will use fits `sun_path`.
    public func checkSocketPaths(longestNode: String, maxReplica: Int) throws {
        for p in [controlPath, sinkPath, socketPath(node: longestNode, replica: maxReplica)]
        where p.utf8.count > UnixSocket.maxPathBytes {
            throw UnixSocket.PathTooLong(path: p)
        }
    }

    /// Takes the run's lock (held until the process exits) and writes our pid into it.
    /// - Throws: `.alreadyRunning` with the holder's pid.
    public func lock() throws(Problem) -> Int32 {
        let fd: Int32
        do { fd = try Sys.open(lockPath, O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o600) } catch { throw .system(error) }
        let locked: Bool
        do { locked = try Sys.flock(fd, .exclusive, wait: false) } catch {
            Sys.close(fd)
            throw .system(error)
        }
        if !locked {
            let holder = (try? Sys.readFile(lockPath, limit: 64)).flatMap { String(validating: $0, as: UTF8.self) }
            Sys.close(fd)
            let pid = Int32(holder?.split(separator: "\n").first ?? "") ?? 0
            throw .alreadyRunning(path: path, pid: pid)
        }
        do {
            try Sys.truncate(fd, size: 0)
            try Sys.writeAll(fd, "\(Sys.processID())\n")
        } catch {
            throw .system(error)
        }
        return fd
    }

    /// The pid of the running pipeline, or nil when the lock is free (nothing is running).
    public func runningPid() -> Int32? {
        guard let fd = try? Sys.open(lockPath, O_RDONLY | O_NOFOLLOW) else { return nil }
        defer { Sys.close(fd) }
        if (try? Sys.flock(fd, .shared, wait: false)) == true {
            _ = try? Sys.flock(fd, .unlocked)
            return nil
        }
        let holder = (try? Sys.readFile(lockPath, limit: 64)).flatMap { String(validating: $0, as: UTF8.self) }
        return Int32(holder?.split(separator: "\n").first ?? "") ?? 0
    }

    /// Removes what a previous run left behind: its sockets and its logs, rotated ones
    /// (`events.log.1`, and a rotation's new file not yet renamed) included (only those kinds of files, only directly inside). Call with
    /// the lock held.
    public func removeStale() {
        remove(in: path, suffix: ".sock", type: S_IFSOCK)
        remove(in: logDirectory, suffix: ".log", type: S_IFREG)
        remove(in: logDirectory, suffix: ".log.rotating", type: S_IFREG)
        for name in (try? Sys.listDirectory(logDirectory)) ?? [] {
            guard let dot = name.lastIndex(of: "."), name[..<dot].hasSuffix(".log"),
                  name[name.index(after: dot)...].allSatisfy({ $0.isASCII && $0.isNumber }), name.index(after: dot) < name.endIndex else { continue }
            let full = "\(logDirectory)/\(name)"
            if let st = try? Sys.lstat(full), (st.st_mode & S_IFMT) == S_IFREG { try? Sys.unlink(full) }
        }
    }

    /// Removes the infer stage's weight caches (`infer-weights-*`), at the end of a run.
    public func removeWeightCaches() {
        for name in (try? Sys.listDirectory(path)) ?? [] {
            let full = "\(path)/\(name)"
            if name.hasPrefix("infer-weights-"), let st = try? Sys.lstat(full), (st.st_mode & S_IFMT) == S_IFREG {
                try? Sys.unlink(full)
            }
        }
    }

    private func remove(in directory: String, suffix: String, type: mode_t) {
        for name in (try? Sys.listDirectory(directory)) ?? [] where name.hasSuffix(suffix) {
            let full = "\(directory)/\(name)"
            if let st = try? Sys.lstat(full), (st.st_mode & S_IFMT) == type { try? Sys.unlink(full) }
        }
    }
}
