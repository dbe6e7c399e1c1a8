import Glibc

/// Writes byte chunks to blocking descriptors (stdout, the errors file) on its own thread, so a
/// slow reader never stalls the supervisor's loop. Each chunk may carry a batch sequence number;
/// `writtenThrough` tells the loop which batches are fully written, and the loop's `Wakeup`
/// fires after each one.
public final class OutputWriter: @unchecked Sendable {
    private struct Chunk {
        var fd: Int32
        var bytes: [UInt8]
        var sequence: UInt64?
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var queue: [Chunk] = []
    private var head = 0
    private var queuedBytes = 0
    private var closing = false
    private var written: UInt64?
    private var failed: SystemError?
    private var thread = pthread_t()
    private let wakeup: Wakeup

    public init(wakeup: Wakeup) {
        self.wakeup = wakeup
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { context in
            let writer = Unmanaged<OutputWriter>.fromOpaque(context!).takeRetainedValue()
            writer.run()
            return nil
        }, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(condition)
        mutex.deallocate()
        condition.deallocate()
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// Queues `bytes` for `fd`; `sequence` marks the end of that batch's output.
    public func enqueue(fd: Int32, bytes: [UInt8], sequence: UInt64? = nil) {
        locked {
            queue.append(Chunk(fd: fd, bytes: bytes, sequence: sequence))
            queuedBytes += bytes.count
            pthread_cond_signal(condition)
        }
    }

    /// The highest batch sequence number whose output is fully written.
    public var writtenThrough: UInt64? { locked { written } }

    /// The write error that stopped the writer (EPIPE when the reader went away), if any.
    public var failure: SystemError? { locked { failed } }

    /// Bytes queued and not yet written.
    public var pendingBytes: Int { locked { queuedBytes } }

    /// Writes what is queued, then ends the thread and waits for it.
    public func finish() {
        locked {
            closing = true
            pthread_cond_signal(condition)
        }
        pthread_join(thread, nil)
    }

    private func run() {
        while true {
            pthread_mutex_lock(mutex)
            while head == queue.count && !closing { pthread_cond_wait(condition, mutex) }
            if head == queue.count {
                pthread_mutex_unlock(mutex)
                return
            }
            let chunk = queue[head]
            queue[head].bytes = []
            head += 1
            if head > 64 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            let stopped = failed != nil
            pthread_mutex_unlock(mutex)

            var error: SystemError?
            if !stopped {
                error = chunk.bytes.withUnsafeBytes { (raw) -> SystemError? in
                    do throws(SystemError) {
                        try Sys.writeAll(chunk.fd, raw)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            locked {
                queuedBytes -= chunk.bytes.count
                if let error, failed == nil { failed = error }
                if let s = chunk.sequence { written = s }
            }
            wakeup.signal()
        }
    }
}
