import Glibc

/// The descriptors one loop iteration waits on, rebuilt each time (a loop here watches tens of
/// descriptors, so rebuilding costs less than bookkeeping).
public struct PollSet {
    private var fds: [pollfd] = []

    public init() { fds.reserveCapacity(64) }

    /// Watches `fd`; returns the slot to ask about after `wait`.
    @discardableResult
    public mutating func add(_ fd: Int32, read: Bool = true, write: Bool = false) -> Int {
        var events: Int16 = 0
        if read { events |= Int16(POLLIN) }
        if write { events |= Int16(POLLOUT) }
        fds.append(pollfd(fd: fd, events: events, revents: 0))
        return fds.count - 1
    }

    public mutating func removeAll() { fds.removeAll(keepingCapacity: true) }

    /// Waits until a descriptor is ready or `timeoutMillis` passes (-1: no timeout).
    public mutating func wait(timeoutMillis: Int32) throws(SystemError) {
        _ = try Sys.poll(&fds, timeoutMillis: timeoutMillis)
    }

    /// Readable, or closed/errored (a read will tell which).
    public func readable(_ slot: Int) -> Bool {
        fds[slot].revents & Int16(POLLIN | POLLHUP | POLLERR | POLLNVAL) != 0
    }

    public func writable(_ slot: Int) -> Bool {
        fds[slot].revents & Int16(POLLOUT | POLLERR | POLLHUP) != 0
    }
}
