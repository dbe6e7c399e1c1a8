/// The bytes of one batch's output records, in memory reused for every batch.
///
/// Writers `reserve` an upper bound for a record, write it through a `ByteCursor` at `end`, and
/// `commit` the cursor.
final class OutputBuffer {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 256 << 10) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The bytes written so far.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Forgets the contents, keeps the memory.
    func removeAll() { count = 0 }

    /// Makes room for `extra` more bytes and returns a cursor at the end.
    /// - Important: the cursor is valid until the next `reserve`; write at most `extra` bytes.
    @inline(__always)
    func reserve(_ extra: Int) -> ByteCursor {
        if count + extra > capacity { grow(count + extra) }
        return ByteCursor(base + count)
    }

    /// Takes the bytes written through `cursor` (from the last `reserve`) into the contents.
    @inline(__always)
    func commit(_ cursor: ByteCursor) {
        let end = cursor.position - base
        precondition(end >= count && end <= capacity, "OutputBuffer: wrote past the reserved room")
        count = end
    }

    private func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }
}
