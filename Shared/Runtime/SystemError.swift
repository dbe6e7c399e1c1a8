import Glibc

/// A failed system call: which one, on what, and errno.
public struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    public var call: String
    public var errno: Int32
    /// The path or peer involved, when there is one.
    public var context: String

    public init(_ call: String, errno: Int32, context: String = "") {
        self.call = call
        self.errno = errno
        self.context = context
    }

    /// What errno means, e.g. "No such file or directory".
    public var reason: String { String(cString: strerror(errno)) }

    public var description: String {
        context.isEmpty ? "\(call): \(reason)" : "\(call) \(context): \(reason)"
    }

    public static let wouldBlock = [EAGAIN, EWOULDBLOCK]
}

/// Reads errno right after a failed call and traps on errnos that can only mean a bug here.
@inline(__always)
func lastError(_ call: String, context: String = "") -> SystemError {
    let e = Glibc.errno
    // EBADF / EFAULT: we passed a closed descriptor or a bad pointer. Continuing would corrupt state.
    precondition(e != EBADF && e != EFAULT, "\(call) \(context): \(String(cString: strerror(e))) (a bug, not a runtime condition)")
    return SystemError(call, errno: e, context: context)
}
