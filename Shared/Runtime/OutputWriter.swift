import Glibc

/// Writes byte chunks to blocking descriptors (stdout, the errors file) on its own thread, so a
/// slow reader never stalls the supervisor's loop. Chunks are written in the order they were
/// queued and numbered from 0; `completed` tells how many are done, and the loop's `Wakeup`
/// fires after each one.
///
/// A write error stops its descriptor: later chunks for it are skipped (and still count as
/// completed). Chunks for other descriptors go on, unless the failed one is `primary` (stdout:
/// the run's result), after which nothing more is written anywhere. `failures` says, per
/// descriptor, which chunk failed and how many of its bytes the kernel had accepted, so the
/// caller can tell exactly what reached the output.
public final class OutputWriter: @unchecked Sendable {
    private struct Chunk {
        var fd: Int32
        var bytes: [UInt8]
    }

    /// Why writing to a descriptor stopped.
    public struct Failure: Sendable, Equatable {
        public var error: SystemError
        /// The number of the chunk that failed.
        public var chunk: UInt64
        /// Its bytes the kernel accepted before the error.
        public var bytesWritten: Int
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var queue: [Chunk] = []
    private var head = 0
    private var closing = false
    private var enqueued: UInt64 = 0
    private var done: UInt64 = 0
    private var failed: [Int32: Failure] = [:]
    private var thread = pthread_t()
    private let stdoutIsTerminal = Sys.isTerminal(1)
    private let wakeup: Wakeup
    private let primary: Int32?

    /// - Parameter primary: the descriptor whose failure stops every stream.
    public init(wakeup: Wakeup, primary: Int32? = nil) {
        self.wakeup = wakeup
        self.primary = primary
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        thread = Sys.startThread { [self] in run() }
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

    /// Queues `bytes` for `fd`; returns the chunk's number.
    @discardableResult
    public func enqueue(fd: Int32, bytes: [UInt8]) -> UInt64 {
        locked {
            queue.append(Chunk(fd: fd, bytes: bytes))
            enqueued += 1
            pthread_cond_signal(condition)
            return enqueued - 1
        }
    }

    /// How many chunks are done (written, failed, or skipped after their descriptor failed):
    /// chunks numbered below this.
    public var completed: UInt64 { locked { done } }

    /// True when every chunk queued so far is done.
    public var isIdle: Bool { locked { done == enqueued } }

    /// The descriptors whose writing stopped, and why.
    public var failures: [Int32: Failure] { locked { failed } }

    /// Forgets that writing to `fd` stopped, once it is closed (its number may be reused for
    /// another file). Call only when no chunk queued for it is left.
    public func forget(fd: Int32) { locked { _ = failed.removeValue(forKey: fd) } }

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
            let number = done
            queue[head].bytes = []
            head += 1
            if head > 64 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            let skip = failed[chunk.fd] != nil || primary.map { failed[$0] != nil } == true
            pthread_mutex_unlock(mutex)

            var failure: Failure?
            func writeChunk() {
                var written = 0
                chunk.bytes.withUnsafeBytes { raw in
                    while written < raw.count {
                        do throws(SystemError) {
                            guard let n = try Sys.write(chunk.fd, from: raw.baseAddress! + written, count: raw.count - written) else {
                                var p = pollfd(fd: chunk.fd, events: Int16(POLLOUT), revents: 0)
                                _ = Glibc.poll(&p, 1, -1)
                                continue
                            }
                            written += n
                        } catch {
                            failure = Failure(error: error, chunk: number, bytesWritten: written)
                            return
                        }
                    }
                }
            }
            if skip {
                // Its stream has failed: dropped.
            } else if chunk.fd == 2 || (chunk.fd == 1 && stdoutIsTerminal) {
                // The terminal that may hold the status line: written with it erased.
                Log.writingBelowStatus(writeChunk)
            } else {
                writeChunk()
            }
            locked {
                if let failure { failed[chunk.fd] = failure }
                done += 1
            }
            wakeup.signal()
        }
    }
}
