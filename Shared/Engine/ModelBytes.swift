/// The serialized bytes of a model, which a loaded model keeps views into: large initializers
/// are read in place, not copied, and retain this object for as long as they live.
///
/// The engine does no I/O: the bytes are either a private copy made here or memory that an
/// owner keeps alive and unchanged, such as a read-only mapping of the model file shared by
/// every process that maps it (pages nobody reads, like initializers whose packed form comes
/// from a weight cache, are then never loaded).
public final class ModelBytes: @unchecked Sendable {
    let base: UnsafeRawPointer
    let count: Int
    /// Keeps borrowed bytes alive; nil when they were copied here (then freed in deinit).
    private let owner: AnyObject?

    private init(base: UnsafeRawPointer, count: Int, owner: AnyObject?) {
        self.base = base
        self.count = count
        self.owner = owner
    }

    /// A private copy of `bytes`.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        if let source = bytes.baseAddress { memory.copyMemory(from: source, byteCount: bytes.count) }
        self.init(base: UnsafeRawPointer(memory), count: bytes.count, owner: nil)
    }

    /// Borrows `bytes`, which must stay valid and unchanged while `owner` lives (empty bytes
    /// are copied: they may have no address).
    ///
    /// - Important: a mapped model file must be replaced (written elsewhere, then renamed), not
    ///   rewritten in place while it is mapped: the engine would see the new bytes under the old
    ///   graph.
    public convenience init(borrowing bytes: UnsafeRawBufferPointer, owner: AnyObject & Sendable) {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            self.init(copying: bytes)
            return
        }
        self.init(base: base, count: bytes.count, owner: owner)
    }

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    deinit {
        if owner == nil { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }
}
