import Glibc

/// The SHA-256 of a file, computed on a thread of its own so that a poll loop can ask for it
/// (e.g. for `pipeline_model_info{sha256=…}`) without waiting: a model of hundreds of megabytes
/// takes a second or more to hash.
///
/// The file is read in chunks rather than mapped: a mapped file that is truncated meanwhile
/// kills the process with SIGBUS when the hash reaches the missing pages, and reading keeps this
/// process's resident memory at one chunk whatever the file's size. Reading from the page cache
/// costs a few percent of the hashing.
///
/// - Important: a file rewritten in place while it is read gives a digest of neither version;
///   model files are replaced by renaming a new file over them.
public final class FileDigest: @unchecked Sendable {
    public let path: String
    private let wakeup: Wakeup?
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var outcome: Result<String, SystemError>?

    /// Bytes read (and hashed) at a time.
    static let chunkBytes = 1 << 20

    /// Starts hashing the file at `path` (symbolic links followed).
    /// - Parameter wakeup: signalled once the digest or the error is there.
    public init(path: String, wakeup: Wakeup? = nil) {
        self.path = path
        self.wakeup = wakeup
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        Sys.startThread(detached: true) { [self] in
            finish(Result { () throws(SystemError) in try FileDigest.hexDigest(of: path) })
        }
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(condition)
        mutex.deallocate()
        condition.deallocate()
    }

    /// The digest in lowercase hex (as `sha256sum` prints it), once the whole file is hashed.
    public var result: String? {
        locked { try? outcome?.get() }
    }

    /// Why the file could not be hashed (it cannot be opened or read, or is not a regular file).
    public var error: SystemError? {
        locked {
            guard case .failure(let error) = outcome else { return nil }
            return error
        }
    }

    /// True once `result` or `error` is set.
    public var isDone: Bool { locked { outcome != nil } }

    /// Waits until the file is hashed and returns the digest in hex.
    /// - Important: blocks; not for a poll loop's thread.
    public func wait() throws(SystemError) -> String {
        pthread_mutex_lock(mutex)
        while outcome == nil { pthread_cond_wait(condition, mutex) }
        let outcome = outcome!
        pthread_mutex_unlock(mutex)
        return try outcome.get()
    }

    private func finish(_ outcome: Result<String, SystemError>) {
        locked {
            self.outcome = outcome
            pthread_cond_broadcast(condition)
        }
        wakeup?.signal()
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// Reads and hashes the file at `path` on the calling thread.
    public static func hexDigest(of path: String) throws(SystemError) -> String {
        // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just after);
        // the flag changes nothing for a regular file.
        let fd = try Sys.open(path, O_RDONLY | O_NONBLOCK)
        defer { Sys.close(fd) }
        guard try Sys.fileStatus(fd).st_mode & S_IFMT == S_IFREG else {
            throw SystemError("open", errno: EINVAL, context: "\(path) (not a regular file)")
        }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 64)
        defer { chunk.deallocate() }
        var hash = SHA256()
        while true {
            // A regular file never returns EAGAIN; nil is taken as the end like 0.
            let n: Int
            do throws(SystemError) {
                n = try Sys.read(fd, into: chunk.baseAddress!, count: chunk.count) ?? 0
            } catch {
                throw SystemError(error.call, errno: error.errno, context: path)
            }
            if n == 0 { return SHA256.hex(hash.finalize()) }
            hash.update(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
        }
    }
}
