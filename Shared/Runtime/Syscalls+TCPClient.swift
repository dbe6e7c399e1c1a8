import Glibc

/// The client side of TCP: connect without blocking.
extension Sys {
    /// Starts connecting the non-blocking socket `fd` to `address`; true when connected at once,
    /// false when in progress (poll for writable, then `socketError`).
    ///
    /// The corresponding C function is `connect`.
    public static func startConnect(_ fd: Int32, to address: SocketAddress) throws(SystemError) -> Bool {
        while true {
            if address.withSockaddr({ Glibc.connect(fd, $0, $1) }) == 0 { return true }
            switch errno {
            case EINTR: continue
            case EINPROGRESS: return false
            default: throw lastError("connect", context: address.description)
            }
        }
    }

    /// The pending error of a socket (0: none), e.g. how a non-blocking connect ended.
    ///
    /// The corresponding C function is `getsockopt(SO_ERROR)`.
    public static func socketError(_ fd: Int32) throws(SystemError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { throw lastError("getsockopt(SO_ERROR)") }
        return value
    }
}
