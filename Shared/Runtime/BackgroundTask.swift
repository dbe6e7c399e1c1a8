import Glibc

/// A piece of work run on a thread of its own, whose result a poll loop picks up when it is
/// there (the loop's `Wakeup` is signalled then): for work that takes seconds, such as checking
/// a new model and preparing its weights, while the loop must keep serving everything else.
public final class BackgroundTask<Value: Sendable>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value?

    /// Starts `work` now; `wakeup` is signalled once its result is there.
    public init(wakeup: Wakeup?, _ work: @escaping @Sendable () -> Value) {
        pthread_mutex_init(mutex, nil)
        Sys.startThread(detached: true) { [self] in
            let result = work()
            pthread_mutex_lock(mutex)
            value = result
            pthread_mutex_unlock(mutex)
            wakeup?.signal()
        }
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// The result, once the work is done; nil before.
    public var result: Value? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return value
    }
}
