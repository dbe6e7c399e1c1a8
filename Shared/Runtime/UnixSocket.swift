import Glibc

/// Unix-domain stream sockets: listen, connect, accept, and the peer's credentials.
///
/// Only filesystem sockets are used (never the abstract namespace), so the run directory's
/// permissions guard them.
public enum UnixSocket {
    /// Longest socket path accepted. `sun_path` holds 108 bytes; DESIGN.md keeps a margin.
    public static let maxPathBytes = 100

    /// Thrown for a path too long for `sun_path`, before any system call.
    public struct PathTooLong: Error, CustomStringConvertible, Sendable {
        public let path: String
        public var description: String {
            "socket path is \(path.utf8.count) bytes, over the limit of \(UnixSocket.maxPathBytes): \(path) (use a shorter --run-dir)"
        }
    }

    static func address(_ path: String) throws -> sockaddr_un {
        guard !path.isEmpty, path.utf8.count <= maxPathBytes else { throw PathTooLong(path: path) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.initializeMemory(as: UInt8.self, repeating: 0)
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        return addr
    }

    /// Creates a listening socket at `path` (replacing a stale socket file there), mode 0600.
    /// The descriptor is non-blocking and close-on-exec.
    public static func listen(path: String, backlog: Int32 = 64) throws -> Int32 {
        var addr = try address(path)
        if let st = try Sys.lstat(path) {
            guard (st.st_mode & S_IFMT) == S_IFSOCK else {
                throw SystemError("bind", errno: EEXIST, context: "\(path) (exists and is not a socket)")
            }
            try Sys.unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw lastError("socket") }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let e = lastError("bind", context: path)
            Sys.close(fd)
            throw e
        }
        // 0600 right after bind (before listen, so nobody can connect yet). Not umask: it is
        // process-wide, and another thread creating files meanwhile would inherit it.
        guard Glibc.chmod(path, 0o600) == 0 else {
            let e = lastError("chmod", context: path)
            Sys.close(fd)
            throw e
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let e = lastError("listen", context: path)
            Sys.close(fd)
            throw e
        }
        return fd
    }

    /// Connects to the socket at `path`. Blocking connect (local, immediate), then non-blocking.
    public static func connect(path: String) throws -> Int32 {
        var addr = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw lastError("socket") }
        while true {
            let r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if r == 0 { break }
            if errno == EINTR { continue }
            let e = lastError("connect", context: path)
            Sys.close(fd)
            throw e
        }
        do {
            // The listener must be this user's too: a socket file planted by someone else must
            // not receive our hello (with the run's cookie) or our records.
            let peer = try peerCredentials(fd)
            guard peer.uid == getuid() else {
                throw SystemError("connect", errno: EACCES, context: "\(path) (the listener runs as uid \(peer.uid), not \(getuid()))")
            }
            try Sys.setNonBlocking(fd)
        } catch {
            Sys.close(fd)
            throw error
        }
        return fd
    }

    /// Accepts one pending connection (non-blocking, close-on-exec); nil when none is pending.
    public static func accept(_ listener: Int32) throws(SystemError) -> Int32? {
        while true {
            // accept4 needs _GNU_SOURCE, which the Glibc module does not define: accept, then set flags.
            let fd = Glibc.accept(listener, nil, nil)
            if fd >= 0 {
                do {
                    try Sys.setCloseOnExec(fd)
                    try Sys.setNonBlocking(fd)
                } catch {
                    Sys.close(fd)
                    throw error
                }
                return fd
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            // The peer gave up before we accepted: not our error.
            case ECONNABORTED, EPROTO: continue
            default: throw lastError("accept")
            }
        }
    }

    /// A connection `acceptSameUser` accepted, and the process that made it.
    public struct AcceptedPeer: Equatable, Sendable {
        public let fd: Int32
        /// The connecting process, as the kernel recorded it at `connect` (SO_PEERCRED): the only
        /// pid to believe about a peer; what it says about itself is a claim.
        public let pid: pid_t
    }

    /// Accepts one pending connection made by this same user; connections from other users are
    /// closed and logged (SO_PEERCRED). nil when none is pending.
    public static func acceptSameUser(_ listener: Int32, at path: String) throws(SystemError) -> AcceptedPeer? {
        while true {
            guard let fd = try accept(listener) else { return nil }
            do {
                let peer = try peerCredentials(fd)
                if peer.uid == getuid() { return AcceptedPeer(fd: fd, pid: peer.pid) }
                Log.error("refused a connection on \(path) from uid \(peer.uid) (pid \(peer.pid)): not this user")
            } catch {
                Log.error("refused a connection on \(path): \(error)")
            }
            Sys.close(fd)
        }
    }

    /// The peer's process id, user id and group id (SO_PEERCRED).
    public static func peerCredentials(_ fd: Int32) throws(SystemError) -> (pid: pid_t, uid: uid_t, gid: gid_t) {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } is hidden behind _GNU_SOURCE in the
        // Glibc module; its layout is fixed by the Linux ABI.
        var cred = PeerCredentials()
        var len = socklen_t(MemoryLayout<PeerCredentials>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 else { throw lastError("getsockopt(SO_PEERCRED)") }
        return (cred.pid, cred.uid, cred.gid)
    }

    /// Half-closes the sending side: the peer reads end-of-file after what was sent.
    public static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }
}

/// Linux `struct ucred`.
struct PeerCredentials {
    var pid: pid_t = 0
    var uid: uid_t = 0
    var gid: gid_t = 0
}
