/// A growable, uninitialized array of trivial values that is reused from batch to batch, so that
/// steady-state featurizing does not allocate.
///
/// - Important: `pointer` is invalidated by the next `reserve` that grows the buffer.
final class ScratchBuffer<Element: BitwiseCopyable> {
    private(set) var pointer: UnsafeMutablePointer<Element>
    private(set) var capacity: Int

    init(capacity: Int = 1024) {
        self.capacity = max(capacity, 16)
        // 64-byte alignment: rows of floats start on cache lines, as in a frame.
        self.pointer = UnsafeMutableRawPointer.allocate(byteCount: self.capacity * MemoryLayout<Element>.stride,
                                                        alignment: 64).bindMemory(to: Element.self, capacity: self.capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` elements; the contents are not kept.
    func reserve(_ count: Int) {
        precondition(count >= 0)
        guard count > capacity else { return }
        var newCapacity = capacity
        while newCapacity < count { newCapacity *= 2 }
        pointer.deallocate()
        pointer = UnsafeMutableRawPointer.allocate(byteCount: newCapacity * MemoryLayout<Element>.stride,
                                                   alignment: 64).bindMemory(to: Element.self, capacity: newCapacity)
        capacity = newCapacity
    }

    /// Makes room for `count` elements, keeping the first `used` (a buffer filled incrementally).
    func reserve(_ count: Int, preserving used: Int) {
        precondition(used >= 0 && used <= capacity)
        guard count > capacity else { return }
        var newCapacity = capacity
        while newCapacity < count { newCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity * MemoryLayout<Element>.stride,
                                                     alignment: 64).bindMemory(to: Element.self, capacity: newCapacity)
        grown.update(from: pointer, count: used)
        pointer.deallocate()
        pointer = grown
        capacity = newCapacity
    }

    /// The first `count` elements (which must have been reserved).
    func buffer(_ count: Int) -> UnsafeBufferPointer<Element> {
        precondition(count <= capacity)
        return UnsafeBufferPointer(start: pointer, count: count)
    }
}
