/// Immutable memory that kernels read their weights from: either allocated here (64-byte
/// aligned, freed with the last reference) or borrowed from memory someone else keeps alive,
/// such as a read-only file mapping shared by every process that maps the same file.
///
/// The one place that holds the raw pointer; kernels reach it through `WeightArray`.
public final class WeightBuffer: @unchecked Sendable {
    /// The first byte; 64-byte aligned when allocated here.
    public let base: UnsafeRawPointer
    /// The number of bytes from `base`.
    public let byteCount: Int
    /// Keeps borrowed memory alive; nil when the memory was allocated here (then freed in deinit).
    private let owner: AnyObject?

    /// Allocates `byteCount` zeroed bytes, 64-byte aligned, and lets `initialize` fill them.
    public init(byteCount: Int, initialize: (UnsafeMutableRawBufferPointer) -> Void = { _ in }) {
        precondition(byteCount >= 0, "WeightBuffer: negative size \(byteCount)")
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
        initialize(UnsafeMutableRawBufferPointer(start: memory, count: byteCount))
        base = UnsafeRawPointer(memory)
        self.byteCount = byteCount
        owner = nil
    }

    /// Borrows `byteCount` bytes at `base`, which stay valid and unchanged while `owner` lives.
    ///
    /// - Important: the memory must never change while any kernel may read it (a read-only
    ///   mapping of a file that is replaced by rename, never rewritten in place).
    public init(borrowing base: UnsafeRawPointer, byteCount: Int, owner: AnyObject) {
        precondition(byteCount >= 0, "WeightBuffer: negative size \(byteCount)")
        self.base = base
        self.byteCount = byteCount
        self.owner = owner
    }

    /// True when the memory belongs to someone else (a mapping), false when allocated here.
    public var isBorrowed: Bool { owner != nil }

    /// The memory as raw bytes (to write it to a file).
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: byteCount) }

    /// Reads one byte of every 4 KiB page, so that a lazily mapped file is mapped in now rather
    /// than by page faults in the middle of the first batch. Returns a value that depends on
    /// every byte read, so the reads cannot be optimised away.
    @discardableResult
    public func prefault() -> UInt8 {
        var sum: UInt8 = 0
        var offset = 0
        while offset < byteCount {
            sum &+= base.load(fromByteOffset: offset, as: UInt8.self)
            offset += 4096
        }
        return sum
    }

    deinit {
        if owner == nil { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }
}

/// A fixed-size array of plain values in a `WeightBuffer`: what the kernels' immutable storage
/// (packed GEMM panels, tree node arrays) is made of, so that it may live in shared memory.
public struct WeightArray<Element: BitwiseCopyable>: Sendable {
    /// The memory the values are in (shared by copies of the array).
    public let buffer: WeightBuffer
    /// The number of values.
    public let count: Int

    /// Copies `values` into a new 64-byte aligned buffer.
    public init(_ values: [Element]) {
        let stride = MemoryLayout<Element>.stride
        buffer = WeightBuffer(byteCount: values.count * stride) { bytes in
            values.withUnsafeBytes { source in bytes.copyMemory(from: source) }
        }
        count = values.count
    }

    /// A new zero-filled array of `count` values, filled by `initialize`.
    public init(zeroedCount count: Int, initialize: (UnsafeMutableBufferPointer<Element>) -> Void) {
        precondition(count >= 0, "WeightArray: negative count \(count)")
        buffer = WeightBuffer(byteCount: count * MemoryLayout<Element>.stride) { bytes in
            initialize(bytes.bindMemory(to: Element.self))
        }
        self.count = count
    }

    /// Views `buffer` as `buffer.byteCount / stride` values; nil when its size is not a whole
    /// number of values or its start is not aligned for `Element`.
    public init?(viewing buffer: WeightBuffer) {
        let stride = MemoryLayout<Element>.stride
        guard buffer.byteCount % stride == 0,
              UInt(bitPattern: buffer.base) % UInt(MemoryLayout<Element>.alignment) == 0 else { return nil }
        self.buffer = buffer
        count = buffer.byteCount / stride
    }

    /// Calls `body` with the values in place.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        // Binding plain values read-only: the memory holds nothing but bytes of this type.
        try body(UnsafeBufferPointer(start: buffer.base.bindMemory(to: Element.self, capacity: count), count: count))
    }

    /// The value at `index`, bounds-checked like `Array`.
    public subscript(index: Int) -> Element {
        precondition(index >= 0 && index < count, "WeightArray: index \(index) out of range 0..<\(count)")
        return buffer.base.load(fromByteOffset: index * MemoryLayout<Element>.stride, as: Element.self)
    }

    /// True when there are no values.
    public var isEmpty: Bool { count == 0 }

    /// The values as an array (tests, rarely used slow paths).
    public var array: [Element] { withUnsafeBufferPointer { Array($0) } }

    /// Whether any value satisfies `predicate`.
    public func contains(where predicate: (Element) -> Bool) -> Bool {
        withUnsafeBufferPointer { $0.contains(where: predicate) }
    }
}
