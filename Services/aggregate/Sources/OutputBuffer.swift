/// The bytes of one batch's output records, appended in place into memory reused for every batch.
///
/// Callers `reserve` an upper bound once per value and then write through `unchecked` appends,
/// so the hot loop is stores and a counter.
final class OutputBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 256 << 10) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    func removeAll() { count = 0 }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
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

    /// The next free byte; valid until the next `reserve`.
    @inline(__always)
    var end: UnsafeMutablePointer<UInt8> { base + count }

    /// Counts `n` bytes written at `end`.
    @inline(__always)
    func advance(_ n: Int) {
        precondition(count + n <= capacity)
        count += n
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        reserve(bytes.count)
        UnsafeMutableRawPointer(base + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        count += bytes.count
    }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A Float32 in its shortest round-trip form (`Float.description`'s text); finite only.
    @inline(__always)
    func append(shortest value: Float) {
        reserve(ShortestFloat.maxLength)
        count += ShortestFloat.write(value, to: base + count)
    }

    /// A Double in its shortest round-trip form (`Double.description`); finite only.
    func append(shortest value: Double) {
        precondition(value.isFinite)
        var text = value.description
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// An integer in decimal.
    @inline(__always)
    func append(decimal value: Int64) {
        reserve(20)
        var n = 0
        if value < 0 {
            base[count] = UInt8(ascii: "-")
            n = 1
        }
        n += writeDigits(value.magnitude, to: base + count + n)
        count += n
    }
}
