import Glibc

/// Threads: the few the processes run beside their poll loop (the output writer, a file's
/// digest, the bench's scraper).
extension Sys {
    private final class ThreadBody {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on a new thread; join it with `joinThread`, or pass `detached` to let it end alone.
    ///
    /// The corresponding C function is `pthread_create`.
    @discardableResult
    public static func startThread(detached: Bool = false, _ body: @escaping () -> Void) -> pthread_t {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        let rc = pthread_create(&thread, nil, { context in
            Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        if detached { pthread_detach(thread) }
        return thread
    }

    /// Waits for a thread from `startThread` to end.
    ///
    /// The corresponding C function is `pthread_join`.
    public static func joinThread(_ thread: pthread_t) {
        pthread_join(thread, nil)
    }
}
