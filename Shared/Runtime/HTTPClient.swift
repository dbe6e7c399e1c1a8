import Glibc

/// A minimal HTTP/1.1 client for one GET at a time, with a deadline on the whole exchange: what
/// `pipeline bench` uses to scrape `/metrics` while it measures, with no tool outside this repo.
public enum HTTPClient {
    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
    }

    /// GETs `path` from `address` (`HOST:PORT`, as `HTTPServer` takes it) with `Connection: close`
    /// and reads until the server closes.
    /// - Throws: `SystemError` for a refused connection, a deadline passed (ETIMEDOUT) or an
    ///   answer that is not HTTP (EPROTO).
    public static func get(_ address: String, _ path: String, timeoutNanos: UInt64 = 5_000_000_000) throws -> Response {
        let target = try HTTPServerError.parse(address)
        let deadline = Sys.monotonicNanos() + timeoutNanos
        let fd = try Sys.tcpSocket(target.family)
        defer { Sys.close(fd) }
        func wait(write: Bool) throws(SystemError) {
            var poll = PollSet()
            while true {
                let now = Sys.monotonicNanos()
                guard now < deadline else { throw SystemError("HTTP GET \(address)\(path)", errno: ETIMEDOUT) }
                poll.removeAll()
                let slot = poll.add(fd, read: !write, write: write)
                try poll.wait(timeoutMillis: Int32(min(1000, (deadline - now) / 1_000_000 + 1)))
                if write ? poll.writable(slot) : poll.readable(slot) { return }
            }
        }
        if try !Sys.startConnect(fd, to: target) {
            try wait(write: true)
            let failure = try Sys.socketError(fd)
            guard failure == 0 else { throw SystemError("connect", errno: failure) }
        }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let n = try request.withUnsafeBytes { p throws(SystemError) in try Sys.send(fd, from: p.baseAddress! + sent, count: p.count - sent) }
            if let n { sent += n } else { try wait(write: true) }
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = try chunk.withUnsafeMutableBytes { p throws(SystemError) in try Sys.read(fd, into: p.baseAddress!, count: p.count) }
            guard let n else { try wait(write: false); continue }
            if n == 0 { break }
            response += chunk[..<n]
        }
        // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
        guard response.count >= 12, response.starts(with: Array("HTTP/1.".utf8)),
              let status = Int(String(decoding: response[9..<12], as: UTF8.self)),
              let end = (0...(response.count - 4)).first(where: { response[$0..<$0 + 4].elementsEqual([13, 10, 13, 10]) }) else {
            throw SystemError("HTTP GET \(address)\(path): not an HTTP answer", errno: EPROTO)
        }
        return Response(status: status, body: Array(response[(end + 4)...]))
    }
}
