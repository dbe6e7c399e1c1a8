import Glibc

/// A whole file mapped read-only and shared (`PROT_READ`, `MAP_SHARED`), unmapped when the
/// last reference goes.
///
/// Every process that maps the same file reads the same pages of the page cache, and pages
/// nobody reads are never loaded. Memory borrowed from the mapping (views, `WeightBuffer`s)
/// must keep this object alive.
///
/// - Important: the file must be replaced (written elsewhere, then renamed over), not
///   rewritten in place, while it is mapped: readers would see the new bytes mid-way.
public final class MappedFile: @unchecked Sendable {
    /// The file's bytes (an empty buffer without an address for an empty file, which mmap
    /// refuses to map).
    public let bytes: UnsafeRawBufferPointer
    /// What `fstat` said about the file when it was mapped.
    public let identity: FileIdentity
    /// The user id that owns the file.
    public let owner: UInt32

    fileprivate init(bytes: UnsafeRawBufferPointer, identity: FileIdentity, owner: UInt32) {
        self.bytes = bytes
        self.identity = identity
        self.owner = owner
    }

    /// Drops this process's pages of the mapping (they stay in the page cache, and are read
    /// again from there if touched again), so that bytes read once do not count in its RSS.
    /// Harmless on a read-only shared file mapping.
    ///
    /// The corresponding C function is `madvise(MADV_DONTNEED)`.
    public func dropResidentPages() {
        guard let base = bytes.baseAddress else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base), bytes.count, MADV_DONTNEED)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

extension Sys {
    /// Maps the regular file at `path` read-only and shared.
    ///
    /// The corresponding C functions are `open`, `fstat`, `mmap` and `close` (the mapping
    /// outlives the descriptor).
    /// - Parameter followSymlinks: false refuses a symbolic link in the last component (`O_NOFOLLOW`).
    /// - Returns: nil when `path` is not a regular file (a directory, a FIFO, a device).
    /// - Throws: `SystemError` from `open`, `fstat` or `mmap`.
    public static func mapFile(_ path: String, followSymlinks: Bool = true) throws(SystemError) -> MappedFile? {
        let fd = try open(path, O_RDONLY | (followSymlinks ? 0 : O_NOFOLLOW))
        defer { close(fd) }
        var info = Glibc.stat()
        guard Glibc.fstat(fd, &info) == 0 else { throw lastError("fstat", context: path) }
        guard info.st_mode & S_IFMT == S_IFREG else { return nil }
        let count = Int(info.st_size)
        var bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        if count > 0 {
            let address = mmap(nil, count, PROT_READ, MAP_SHARED, fd, 0)
            guard let address, address != MAP_FAILED else { throw lastError("mmap", context: path) }
            bytes = UnsafeRawBufferPointer(start: address, count: count)
        }
        return MappedFile(bytes: bytes, identity: FileIdentity(info), owner: info.st_uid)
    }
}
