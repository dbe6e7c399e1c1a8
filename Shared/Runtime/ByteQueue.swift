import Messages

/// A byte queue kept 64-byte aligned at every frame boundary: what a connection has received.
///
/// Frames are taken from the front in place (`Frame.payload` points in here). Unread bytes are
/// moved back to the aligned start only when room is needed; since every frame is a multiple of
/// 64 bytes long, each frame boundary then sits on a 64-byte boundary again.
final class ByteQueue {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    private(set) var readIndex = 0
    private(set) var writeIndex = 0

    init(capacity: Int = 256 << 10) {
        self.capacity = capacity
        self.base = .allocate(byteCount: capacity, alignment: FrameHeader.alignment)
    }

    deinit { base.deallocate() }

    var unread: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base + readIndex, count: writeIndex - readIndex) }
    var isEmpty: Bool { readIndex == writeIndex }

    /// Marks `n` bytes at the front as read.
    func consume(_ n: Int) {
        precondition(n >= 0 && readIndex + n <= writeIndex)
        readIndex += n
        if readIndex == writeIndex {
            readIndex = 0
            writeIndex = 0
        }
    }

    /// Free space after the unread bytes, at least `minimum` bytes (compacting, then growing).
    func writableSpace(minimum: Int) -> UnsafeMutableRawBufferPointer {
        if capacity - writeIndex < minimum && readIndex > 0 {
            let unreadCount = writeIndex - readIndex
            base.copyMemory(from: base + readIndex, byteCount: unreadCount)
            readIndex = 0
            writeIndex = unreadCount
        }
        if capacity - writeIndex < minimum {
            var newCapacity = capacity
            while newCapacity - writeIndex < minimum { newCapacity *= 2 }
            let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: FrameHeader.alignment)
            newBase.copyMemory(from: base + readIndex, byteCount: writeIndex - readIndex)
            base.deallocate()
            base = newBase
            writeIndex -= readIndex
            readIndex = 0
            capacity = newCapacity
        }
        return UnsafeMutableRawBufferPointer(start: base + writeIndex, count: capacity - writeIndex)
    }

    /// Records that `n` bytes were written into the space `writableSpace` returned.
    func commitWrite(_ n: Int) {
        precondition(n >= 0 && writeIndex + n <= capacity)
        writeIndex += n
    }

    /// Gives back memory after a burst of large frames (keeps `keep` bytes).
    func shrinkIfIdle(keep: Int) {
        guard isEmpty, capacity > keep * 4 else { return }
        base.deallocate()
        capacity = keep
        base = .allocate(byteCount: keep, alignment: FrameHeader.alignment)
    }
}

extension ByteQueue {
    /// Reads what the descriptor has (up to `limit` bytes); returns bytes read, 0 at end of file,
    /// nil when nothing was available.
    /// Descriptors that come with the bytes (SCM_RIGHTS, on a Unix socket) are appended to
    /// `descriptors`.
    func fill(from fd: Int32, minimumSpace: Int, limit: Int, descriptors: inout [Int32],
              lostDescriptors: inout Bool) throws(SystemError) -> Int? {
        var total = 0
        while total < limit {
            let space = writableSpace(minimum: minimumSpace)
            guard let n = try Sys.receive(fd, into: space.baseAddress!, count: space.count, descriptors: &descriptors,
                                          lostDescriptors: &lostDescriptors) else {
                return total > 0 ? total : nil
            }
            if n == 0 { return total > 0 ? total : 0 }
            commitWrite(n)
            total += n
            if n < space.count { return total }
        }
        return total
    }
}
