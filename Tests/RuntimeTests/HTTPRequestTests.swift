import Testing
@testable import Runtime

/// The request head decoder, fed all at once, byte by byte and in chunks; the requests it
/// refuses and with which status; the bytes a response becomes.
@Suite struct HTTPRequestTests {
    /// Feeds `text` in pieces of `size` bytes (0: all at once); the request, or the refusal,
    /// and after how many bytes it came.
    static func decode(_ text: String, pieces size: Int = 0, limit: Int = 8192) -> (Result<HTTPRequest, HTTPRequestError>?, fed: Int) {
        let bytes = Array(text.utf8)
        var decoder = HTTPRequestDecoder(limit: limit)
        var fed = 0
        while fed < bytes.count {
            let end = size == 0 ? bytes.count : min(bytes.count, fed + size)
            decoder.append(Array(bytes[fed..<end]))
            fed = end
            do throws(HTTPRequestError) {
                if let request = try decoder.decode() { return (.success(request), fed) }
            } catch {
                return (.failure(error), fed)
            }
        }
        return (nil, fed)
    }

    static let scrape = "GET /metrics?name[]=up&x=1 HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nUser-Agent: Prometheus/2.53\r\n"
        + "Accept:   text/plain;version=0.0.4  \r\n\r\n"

    @Test(arguments: [0, 1, 2, 3, 7, 64])
    func aScrapeDecodesTheSameWhateverThePieces(size: Int) throws {
        let (result, fed) = Self.decode(Self.scrape, pieces: size)
        let request = try #require(try result?.get())
        #expect(fed == Self.scrape.utf8.count, "not before the empty line")
        #expect(request == HTTPRequest(method: .get, path: "/metrics", query: "name[]=up&x=1", minorVersion: 1, headers: [
            HTTPHeader(name: "Host", value: "127.0.0.1:9464"), HTTPHeader(name: "User-Agent", value: "Prometheus/2.53"),
            HTTPHeader(name: "Accept", value: "text/plain;version=0.0.4"),
        ]))
        #expect(request.header("user-agent") == "Prometheus/2.53" && request.header("cookie") == nil)
    }

    @Test func bareLineFeedsLeadingEmptyLinesHEADAndHTTP10() throws {
        let request = try #require(try Self.decode("\r\n\nHEAD / HTTP/1.0\nHost: x\n\n").0?.get())
        #expect(request == HTTPRequest(method: .head, path: "/", minorVersion: 0, headers: [HTTPHeader(name: "Host", value: "x")]))
    }

    @Test func anAbsoluteTargetGivesItsPathAndQuery() throws {
        let cases = [("http://127.0.0.1:9464/metrics?a=b", "/metrics", "a=b"), ("HTTP://host", "/", nil),
                     ("https://host?q", "/", "q"), ("/?", "/", "")]
        for (target, path, query) in cases {
            let request = try #require(try Self.decode("GET \(target) HTTP/1.1\r\n\r\n").0?.get(), "\(target)")
            #expect(request.path == path && request.query == query, "\(target)")
        }
    }

    static let refused: [(head: String, status: Int)] = [
        ("garbage\r\n\r\n", 400),
        ("GET /metrics\r\n\r\n", 400),
        ("GET  /metrics HTTP/1.1\r\n\r\n", 400),
        ("GET /metrics HTTP/1.1 \r\n\r\n", 400),
        ("GET metrics HTTP/1.1\r\n\r\n", 400),
        ("GET /metrics HTTP/1.x\r\n\r\n", 400),
        ("GET /metrics HTTPS/1.1\r\n\r\n", 400),
        ("G(T /metrics HTTP/1.1\r\n\r\n", 400),
        ("GET /a\rb HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nNo colon here\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n: empty name\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nX: a\u{1}b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 400),
        ("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        ("HEAD / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\n\r\n", 505),
        ("GET / HTTP/0.9\r\n\r\n", 505),
        ("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 405),
        ("DELETE /metrics HTTP/1.1\r\n\r\n", 405),
        ("OPTIONS * HTTP/1.1\r\n\r\n", 405),
        ("CONNECT example.com:443 HTTP/1.1\r\n\r\n", 405),
        ("get /metrics HTTP/1.1\r\n\r\n", 405),
    ]

    @Test(arguments: refused.indices)
    func aRefusedHeadGetsItsStatus(index: Int) {
        let (head, status) = Self.refused[index]
        for size in [0, 1] {
            guard case .failure(let error) = Self.decode(head, pieces: size).0 else {
                Issue.record("\(head.debugDescription) was not refused")
                return
            }
            #expect(error.status == status, "\(head.debugDescription): \(error)")
        }
    }

    @Test func CONNECTAsAGetTargetIsMalformed() {
        guard case .failure(.malformed) = Self.decode("GET example.com:443 HTTP/1.1\r\n\r\n").0 else {
            Issue.record("accepted")
            return
        }
    }

    @Test func aBadRequestLineIsRefusedBeforeTheHeadEnds() {
        let (result, fed) = Self.decode("GET / HTTP/1.1 extra\r\nHost: x\r\n", pieces: 1)
        guard case .failure(.malformed) = result else { Issue.record("not refused: \(String(describing: result))"); return }
        #expect(fed == "GET / HTTP/1.1 extra\r\n".utf8.count)
        // A TLS client hello is binary from its first byte.
        let (tls, tlsFed) = Self.decode("\u{16}\u{3}\u{1}\u{2}\u{0}", pieces: 1)
        guard case .failure(.malformed) = tls else { Issue.record("TLS not refused"); return }
        #expect(tlsFed == 1)
    }

    @Test func theLimitCountsTheWholeHeadWithItsEmptyLine() throws {
        let head = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 100) + "\r\n\r\n"
        let size = head.utf8.count
        #expect(try Self.decode(head, limit: size).0?.get() != nil, "exactly at the limit")
        for pieces in [0, 1, 5] {
            let (result, fed) = Self.decode(head, pieces: pieces, limit: size - 1)
            #expect(result == .failure(.headTooLarge(limit: size - 1)))
            #expect(pieces == 0 || fed <= size, "refused once the byte over the limit came")
        }
        // No end in sight: refused at the first byte over the limit, not before.
        let endless = String(repeating: "GET /aaaa HTTP/1.1\r\nX: y\r\n", count: 400)
        let (result, fed) = Self.decode(endless, pieces: 1)
        #expect(result == .failure(.headTooLarge(limit: 8192)) && fed == 8193)
    }

    @Test func leadingEmptyLinesCountTowardsTheLimit() throws {
        // Each line is looked at once (looking back over all before it made this cost a second).
        let (flood, fed) = Self.decode(String(repeating: "\n", count: 8192) + "GET / HTTP/1.1\r\n\r\n", pieces: 1)
        #expect(flood == .failure(.headTooLarge(limit: 8192)) && fed == 8193)
        #expect(try Self.decode("\r\n\n\r\nGET /a HTTP/1.1\r\n\r\n", pieces: 1).0?.get().path == "/a")
        // CR CR LF is not an empty line, but a request line of one CR.
        let (crcr, crcrFed) = Self.decode("\r\r\nGET / HTTP/1.1\r\n\r\n", pieces: 1)
        guard case .failure(.malformed) = crcr else { Issue.record("taken for an empty line: \(String(describing: crcr))"); return }
        #expect(crcrFed == 3)
    }

    @Test func aResponseIsTheStatusLineTheHeadersAndTheBody() {
        let response = HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4", headers: [HTTPHeader(name: "Cache-Control", value: "no-store")],
                                    body: "up 1\n")
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: 5\r\n"
            + "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        #expect(String(decoding: response.serialized(), as: UTF8.self) == head + "up 1\n")
        #expect(String(decoding: response.serialized(includeBody: false), as: UTF8.self) == head)
        #expect(HTTPResponse.reason(431) == "Request Header Fields Too Large" && HTTPResponse.reason(299) == "")
        let refusal = HTTPResponse(refusing: .methodNotAllowed("POST"))
        #expect(refusal.status == 405 && refusal.headers == [HTTPHeader(name: "Allow", value: "GET, HEAD")])
    }

    @Test func aResponseWithAHeaderTheServerSetsIsABug() async {
        await #expect(processExitsWith: .failure) {
            _ = HTTPResponse(status: 200, headers: [HTTPHeader(name: "Content-Length", value: "1")], body: "")
        }
        await #expect(processExitsWith: .failure) {
            _ = HTTPResponse(status: 200, headers: [HTTPHeader(name: "X", value: "a\r\nSet-Cookie: b")], body: "")
        }
    }
}
