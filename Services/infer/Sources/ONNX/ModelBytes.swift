import Glibc

/// The bytes of a model file, mapped read-only and shared (no Foundation).
///
/// Mapped `MAP_SHARED`, `PROT_READ`: every process that maps the same file reads the same pages
/// of the page cache, and pages nobody reads (initializers whose packed form comes from the
/// weight cache) are never loaded. Initializers keep views into these bytes instead of copies,
/// and retain this object for as long as they live.
///
/// - Important: a model file must be replaced (written elsewhere, then renamed), not rewritten
///   in place while a process maps it: the engine would see the new bytes under the old graph.
///   Every exporter and `cp` to a new name replace; the weight cache keys on the file's inode
///   and modification time, so it notices either way.
final class ModelBytes: @unchecked Sendable {
    let base: UnsafeRawPointer
    let count: Int
    /// What `stat` said about the file when it was mapped (nil for bytes given in memory).
    let identity: FileIdentity?
    private let mapped: Bool

    /// The corresponding C functions are `open`, `fstat`, `mmap` and `close`; EINTR is retried.
    init(mapping path: String) throws(ModelError) {
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw Self.ioError("cannot open", path) }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Self.ioError("cannot stat", path) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw ModelError(.io, "not a regular file", file: path)
        }
        identity = FileIdentity(info)
        count = Int(info.st_size)
        guard count > 0 else {
            // mmap refuses empty mappings; the decoder reports the empty file.
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64))
            mapped = false
            return
        }
        let address = mmap(nil, count, PROT_READ, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else { throw Self.ioError("cannot map", path) }
        base = UnsafeRawPointer(address)
        mapped = true
    }

    /// A private copy of `bytes` (for `OnnxModel.load(bytes:name:)`, which does not retain them).
    init(copying bytes: UnsafeRawBufferPointer) {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        if let source = bytes.baseAddress { memory.copyMemory(from: source, byteCount: bytes.count) }
        base = UnsafeRawPointer(memory)
        count = bytes.count
        identity = nil
        mapped = false
    }

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Unmaps the pages this process has read (they stay in the page cache, and are read
    /// again from there if ever needed): once the weights are packed, a model loaded without a
    /// cache does not need its initializers' bytes, and they would count in its RSS.
    /// The corresponding C function is `madvise(MADV_DONTNEED)`, harmless on a read-only shared
    /// file mapping.
    func dropResidentPages() {
        if mapped { _ = madvise(UnsafeMutableRawPointer(mutating: base), count, MADV_DONTNEED) }
    }

    deinit {
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    private static func ioError(_ what: String, _ path: String) -> ModelError {
        let code = errno
        let text = strerror(code).map { String(cString: $0) } ?? "errno \(code)"
        return ModelError(.io, "\(what) the model file: \(text)", file: path)
    }
}

/// Which file, and which version of it: device, inode, size, modification and change times.
/// Replacing a file (new inode) or writing to it (new mtime, ns resolution) changes it.
struct FileIdentity: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: timespec
    var changed: timespec

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = info.st_mtim
        changed = info.st_ctim
    }

    /// The identity of the file at `path` now, or nil if it cannot be read.
    static func current(_ path: String) -> FileIdentity? {
        var info = stat()
        return stat(path, &info) == 0 ? FileIdentity(info) : nil
    }

    static func == (a: FileIdentity, b: FileIdentity) -> Bool {
        a.device == b.device && a.inode == b.inode && a.size == b.size
            && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
            && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
    }

    /// A one-line text form, stored in the cache file's header and compared on open.
    var text: String {
        "dev=\(device) ino=\(inode) size=\(size) mtime=\(modified.tv_sec).\(modified.tv_nsec) ctime=\(changed.tv_sec).\(changed.tv_nsec)"
    }
}
