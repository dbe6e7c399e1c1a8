import Glibc

/// `flock` the function: inside `Sys` the name finds `Sys.flock`, and `Glibc.flock` the struct.
private func cFlock(_ fd: Int32, _ operation: Int32) -> Int32 { flock(fd, operation) }

/// The kinds of `flock` lock.
public enum FileLock: Sendable {
    case shared
    case exclusive
    /// Releases the lock this descriptor holds.
    case unlocked
}

/// File-system calls: status, directories, durability, locks, paths.
extension Sys {
    /// The corresponding C function is `stat` (symbolic links are followed); nil when the path
    /// does not exist.
    public static func stat(_ path: String) throws(SystemError) -> stat? {
        var st = Glibc.stat()
        if fstatat(AT_FDCWD, path, &st, 0) == 0 { return st }
        if errno == ENOENT { return nil }
        throw lastError("stat", context: path)
    }

    /// What the file system says about the open file of `fd`.
    ///
    /// The corresponding C function is `fstat`.
    public static func fileStatus(_ fd: Int32) throws(SystemError) -> stat {
        var st = Glibc.stat()
        guard Glibc.fstat(fd, &st) == 0 else { throw lastError("fstat") }
        return st
    }

    /// The size of `fd` when it is a regular file (stdin redirected from a file), else nil.
    public static func regularFileSize(_ fd: Int32) -> UInt64? {
        guard let st = try? fileStatus(fd), st.st_mode & S_IFMT == S_IFREG else { return nil }
        return UInt64(st.st_size)
    }

    /// Moves `fd`'s file offset (`whence`: SEEK_SET, SEEK_CUR, SEEK_END); returns the new offset.
    ///
    /// The corresponding C function is `lseek`.
    @discardableResult
    public static func seek(_ fd: Int32, _ offset: Int64, _ whence: Int32) throws(SystemError) -> Int64 {
        let at = Glibc.lseek(fd, off_t(offset), whence)
        guard at >= 0 else { throw lastError("lseek") }
        return Int64(at)
    }

    /// Reads up to `count` bytes at file offset `offset`, leaving `fd`'s position alone; 0 at the
    /// end of the file.
    ///
    /// The corresponding C function is `pread`.
    public static func readAt(_ fd: Int32, into p: UnsafeMutableRawPointer, count: Int, offset: UInt64) throws(SystemError) -> Int {
        while true {
            let n = Glibc.pread(fd, p, count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { throw lastError("pread") }
        }
    }

    /// A new file in `directory`, open for reading and writing, already unlinked: it disappears
    /// with its last descriptor, whatever ends the process.
    ///
    /// The corresponding C function is `mkstemp` (then `unlink`).
    public static func anonymousFile(in directory: String) throws(SystemError) -> Int32 {
        var template = Array((directory + "/pipeline-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { Glibc.mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw lastError("mkstemp", context: directory) }
        _ = template.withUnsafeBufferPointer { Glibc.unlink($0.baseAddress!) }
        try? setCloseOnExec(fd)
        return fd
    }

    /// The corresponding C function is `isatty`: true when `fd` is a terminal.
    public static func isTerminal(_ fd: Int32) -> Bool { Glibc.isatty(fd) == 1 }

    /// The names in the directory at `path`, in the order the file system gives them, without
    /// `.` and `..`.
    ///
    /// The corresponding C functions are `opendir`, `readdir` and `closedir`.
    public static func listDirectory(_ path: String) throws(SystemError) -> [String] {
        var directory: OpaquePointer?
        while true {
            directory = opendir(path)
            if directory != nil || errno != EINTR { break }
        }
        guard let directory else { throw lastError("opendir", context: path) }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            // readdir returns nil both at the end and on failure; only errno tells them apart.
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw lastError("readdir", context: path) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// The corresponding C function is `rmdir`; a missing directory is not an error.
    public static func rmdir(_ path: String) throws(SystemError) {
        if Glibc.rmdir(path) == 0 || errno == ENOENT { return }
        throw lastError("rmdir", context: path)
    }

    /// A new directory, private to the user, named `prefix` and six random characters.
    ///
    /// The corresponding C function is `mkdtemp`.
    public static func makeTemporaryDirectory(prefix: String) throws(SystemError) -> String {
        var template = Array((prefix + "XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw lastError("mkdtemp", context: prefix)
        }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The corresponding C function is `fsync`.
    public static func fsync(_ fd: Int32) throws(SystemError) {
        while Glibc.fsync(fd) != 0 {
            if errno != EINTR { throw lastError("fsync") }
        }
    }

    /// The corresponding C function is `rename`: `to` is replaced atomically, if it exists.
    public static func rename(_ from: String, to: String) throws(SystemError) {
        guard Glibc.rename(from, to) == 0 else { throw lastError("rename", context: "\(from) to \(to)") }
    }

    /// Takes or releases an advisory lock on the open file of `fd`, waiting for it unless
    /// `wait` is false. The lock goes with the last descriptor of that open file, also when
    /// the process dies.
    ///
    /// The corresponding C function is `flock`.
    /// - Returns: false when `wait` is false and another open file holds a conflicting lock.
    @discardableResult
    public static func flock(_ fd: Int32, _ lock: FileLock, wait: Bool = true) throws(SystemError) -> Bool {
        let operation = switch lock {
        case .shared: LOCK_SH
        case .exclusive: LOCK_EX
        case .unlocked: LOCK_UN
        }
        while true {
            if cFlock(fd, operation | (wait ? 0 : LOCK_NB)) == 0 { return true }
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return false }
            throw lastError("flock")
        }
    }

    /// The corresponding C function is `ftruncate`.
    public static func truncate(_ fd: Int32, size: Int) throws(SystemError) {
        while Glibc.ftruncate(fd, off_t(size)) != 0 {
            if errno != EINTR { throw lastError("ftruncate") }
        }
    }

    /// True when this process may use `path` as `mode` says (`R_OK`, `X_OK`, …).
    ///
    /// The corresponding C function is `access`.
    public static func access(_ path: String, _ mode: Int32) -> Bool {
        Glibc.access(path, mode) == 0
    }

    /// The absolute path of this process's executable.
    ///
    /// The corresponding C function is `readlink`, on `/proc/self/exe`.
    public static func executablePath() throws(SystemError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { throw lastError("readlink", context: "/proc/self/exe") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The current working directory.
    ///
    /// The corresponding C function is `getcwd`.
    public static func currentDirectory() throws(SystemError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { throw lastError("getcwd") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Makes `target` refer to what `fd` refers to (closing what `target` was), not
    /// close-on-exec: how a file becomes this process's stdin, stdout or stderr.
    ///
    /// The corresponding C function is `dup2`.
    /// With `closeOnExec`, `target` is then made close-on-exec (as `dup3` with `O_CLOEXEC`,
    /// which Glibc's module does not offer; call it from the thread that starts processes).
    public static func duplicate(_ fd: Int32, onto target: Int32, closeOnExec: Bool = false) throws(SystemError) {
        while Glibc.dup2(fd, target) < 0 {
            if errno == EINTR { continue }
            throw lastError("dup2")
        }
        if closeOnExec && Glibc.fcntl(target, F_SETFD, FD_CLOEXEC) != 0 { throw lastError("fcntl(F_SETFD)") }
    }
}
