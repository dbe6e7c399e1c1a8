import Glibc
import Testing
@testable import Runtime

/// The bench's scraper: one GET against a real `HTTPServer` whose loop runs on another thread.
@Suite struct HTTPClientTests {
    /// Runs `server`'s loop until `done` is set.
    final class Loop: @unchecked Sendable {
        let server: HTTPServer
        private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        private var stopped = false
        init(_ server: HTTPServer) {
            self.server = server
            pthread_mutex_init(lock, nil)
        }
        var done: Bool {
            get { pthread_mutex_lock(lock); defer { pthread_mutex_unlock(lock) }; return stopped }
            set { pthread_mutex_lock(lock); stopped = newValue; pthread_mutex_unlock(lock) }
        }
        func run(_ respond: @escaping (HTTPRequest) -> HTTPResponse) -> pthread_t {
            Sys.startThread { [self] in
                var poll = PollSet()
                while !done {
                    poll.removeAll()
                    let slots = server.register(in: &poll)
                    try? poll.wait(timeoutMillis: 20)
                    server.handle(poll, slots: slots, respond: respond)
                }
            }
        }
    }

    @Test func getReadsTheStatusAndTheWholeBody() throws {
        let server = try HTTPServer(address: "127.0.0.1:0")
        let loop = Loop(server)
        let body = String(repeating: "pipeline_output_records_total 42\n", count: 10_000)  // 330 KB: several reads
        let thread = loop.run { request in
            request.path == "/metrics" ? HTTPResponse(status: 200, body: body) : HTTPResponse(status: 404, body: "no\n")
        }
        defer {
            loop.done = true
            Sys.joinThread(thread)
        }
        let ok = try HTTPClient.get(server.boundAddress, "/metrics")
        #expect(ok.status == 200 && ok.body == Array(body.utf8))
        let missing = try HTTPClient.get(server.boundAddress, "/other")
        #expect(missing.status == 404 && missing.body == Array("no\n".utf8))
    }

    @Test func aRefusedConnectionAndASilentServerAreErrors() throws {
        // Nothing listens on a port just released.
        let port = try HTTPServer(address: "127.0.0.1:0").boundAddress
        #expect(throws: SystemError.self) { try HTTPClient.get(port, "/metrics") }
        // A listener whose loop never runs: the deadline ends the wait.
        let silent = try HTTPServer(address: "127.0.0.1:0")
        do {
            _ = try HTTPClient.get(silent.boundAddress, "/metrics", timeoutNanos: 100_000_000)
            Issue.record("no error from a server that never answers")
        } catch let error as SystemError {
            #expect(error.errno == ETIMEDOUT)
        }
    }
}
