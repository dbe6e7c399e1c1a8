import Glibc

/// Calls for TCP sockets: make one, bind and listen, accept, send without SIGPIPE.
extension Sys {
    /// A new TCP socket for `family`, non-blocking and close-on-exec.
    ///
    /// The corresponding C function is `socket`.
    public static func tcpSocket(_ family: SocketAddress.Family) throws(SystemError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let fd = socket(family.constant, type, Int32(IPPROTO_TCP))
        guard fd >= 0 else { throw lastError("socket") }
        return fd
    }

    /// Sets a socket option to `value` (an `Int32` flag, or a C struct such as `linger`).
    ///
    /// The corresponding C function is `setsockopt`.
    /// - Parameter name: for the error message, e.g. "SO_REUSEADDR".
    public static func setSocketOption<Value: BitwiseCopyable>(_ fd: Int32, level: Int32, option: Int32, _ value: Value,
                                                               name: String) throws(SystemError) {
        var value = value
        guard setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Value>.size)) == 0 else {
            throw lastError("setsockopt(\(name))")
        }
    }

    /// The corresponding C function is `bind`.
    public static func bind(_ fd: Int32, to address: SocketAddress) throws(SystemError) {
        let result = address.withSockaddr { Glibc.bind(fd, $0, $1) }
        guard result == 0 else { throw lastError("bind", context: address.description) }
    }

    /// The corresponding C function is `listen`.
    public static func listen(_ fd: Int32, backlog: Int32) throws(SystemError) {
        guard Glibc.listen(fd, backlog) == 0 else { throw lastError("listen") }
    }

    /// The address a socket is bound to (with the port the kernel chose, after binding port 0).
    ///
    /// The corresponding C function is `getsockname`.
    public static func localAddress(_ fd: Int32) throws(SystemError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw lastError("getsockname") }
        guard let address = SocketAddress(storage) else { throw SystemError("getsockname", errno: EAFNOSUPPORT) }
        return address
    }

    /// Accepts one pending connection of a TCP listener, non-blocking and close-on-exec; nil when
    /// none is pending. Connections that failed between the handshake and the accept are skipped.
    ///
    /// The corresponding C function is `accept` (then `fcntl`: `accept4` needs `_GNU_SOURCE`,
    /// which the Glibc module does not define).
    public static func accept(_ listener: Int32) throws(SystemError) -> Int32? {
        while true {
            let fd = Glibc.accept(listener, nil, nil)
            if fd >= 0 {
                do {
                    try setCloseOnExec(fd)
                    try setNonBlocking(fd)
                } catch {
                    close(fd)
                    throw error
                }
                return fd
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            // accept(2): Linux passes on the new connection's pending network errors; they are
            // that peer's, not the listener's, and the call should be retried.
            case ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH:
                continue
            default: throw lastError("accept")
            }
        }
    }

    /// Writes to a connected socket; a peer that has gone away gives EPIPE, never SIGPIPE.
    /// Returns bytes written, nil when it would block.
    ///
    /// The corresponding C function is `send`, with `MSG_NOSIGNAL`.
    public static func send(_ fd: Int32, from p: UnsafeRawPointer, count: Int) throws(SystemError) -> Int? {
        while true {
            let n = Glibc.send(fd, p, count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
            throw lastError("send")
        }
    }

    /// Ends the sending side of a connection: the peer reads end-of-file after what was sent.
    /// Errors (the peer already gone) are ignored: there is nothing left to send either way.
    ///
    /// The corresponding C function is `shutdown`, with `SHUT_WR`.
    public static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }
}
