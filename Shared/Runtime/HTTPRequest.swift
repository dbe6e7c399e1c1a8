/// The methods `HTTPServer` passes to its responder; any other is answered 405 before.
public enum HTTPMethod: String, Hashable, Sendable {
    case get = "GET"
    /// Answered like GET, without the body.
    case head = "HEAD"
}

/// One header field line: a name and its value, with the spaces around the value removed.
public struct HTTPHeader: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A request head (request line and header fields) as `HTTPServer` gives it to its responder.
public struct HTTPRequest: Hashable, Sendable {
    public var method: HTTPMethod
    /// The target's path, as sent (not percent-decoded), without the query: `/metrics`. For a
    /// target in absolute form (`http://host:9464/metrics`), its path (`/` when it has none).
    public var path: String
    /// What follows the target's first `?`, as sent; nil when there is no `?`.
    public var query: String?
    /// The x of `HTTP/1.x`.
    public var minorVersion: Int
    /// The header fields in the order they came, names as sent.
    public var headers: [HTTPHeader]

    public init(method: HTTPMethod, path: String, query: String? = nil, minorVersion: Int = 1, headers: [HTTPHeader] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.minorVersion = minorVersion
        self.headers = headers
    }

    /// The value of the first header field called `name` (ignoring case), or nil.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}

/// Why a request head is refused, and the status that says so.
public enum HTTPRequestError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Not a well-formed HTTP/1.x request head (400).
    case malformed(String)
    /// No end of the head within the limit (431).
    case headTooLarge(limit: Int)
    /// A method other than GET and HEAD (405).
    case methodNotAllowed(String)
    /// A well-formed version other than HTTP/1.x (505).
    case versionNotSupported(String)

    public var status: Int {
        switch self {
        case .malformed: 400
        case .headTooLarge: 431
        case .methodNotAllowed: 405
        case .versionNotSupported: 505
        }
    }

    public var description: String {
        switch self {
        case .malformed(let reason): "bad request: \(reason)"
        case .headTooLarge(let limit): "the request head is over \(limit) bytes"
        case .methodNotAllowed(let method): "method \(method) is not allowed (only GET and HEAD)"
        case .versionNotSupported(let version): "\(version) is not supported (only HTTP/1.0 and HTTP/1.1)"
        }
    }
}

/// Collects the bytes of one request head and parses it once its empty line has come.
///
/// Incremental: `decode` returns nil while more bytes are needed, and throws as soon as the bytes
/// cannot be the start of a valid head (a request line that is not one, a head over `limit`),
/// without waiting for the rest. Lines end in CRLF, or a bare LF (RFC 9112, 2.2). Bytes after the
/// head (a body, a next request) are kept but never looked at.
public struct HTTPRequestDecoder: Sendable {
    /// The most bytes a head may have, its final empty line included.
    public let limit: Int
    public private(set) var buffer: [UInt8] = []
    /// Bytes of `buffer` already searched for the head's end.
    private var scanned = 0
    /// Where the request line ends (its LF), once seen.
    private var requestLineEnd: Int?
    /// Where the line being received starts, while no request line has come (after the empty lines before it).
    private var lineStart = 0

    public init(limit: Int = 8192) {
        precondition(limit > 0, "a request head needs some bytes")
        self.limit = limit
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        buffer += bytes
    }

    /// The request, once its head is complete and valid; nil while more bytes are needed. Not to
    /// be called again after it returned a request or threw.
    public mutating func decode() throws(HTTPRequestError) -> HTTPRequest? {
        while scanned < buffer.count {
            let i = scanned
            // Byte `limit + 1` is here and the head has not ended.
            guard i < limit else { throw .headTooLarge(limit: limit) }
            scanned += 1
            let byte = buffer[i]
            guard byte == Ascii.lf else {
                // Refuse at once what cannot be a request line (a TLS hello, binary junk).
                if requestLineEnd == nil && !(Ascii.isVisible(byte) || byte == Ascii.space || byte == Ascii.cr) {
                    throw .malformed("a request line may hold only visible ASCII characters and spaces")
                }
                continue
            }
            if requestLineEnd == nil {
                // Only this line is looked at (looking back over all the empty lines before it
                // made a head of 8 KiB of line feeds cost a second).
                let line = Self.trimCR(buffer[lineStart..<i])
                if line.isEmpty {
                    // Leading empty lines are ignored (RFC 9112, 2.2): the request line is still to come.
                    lineStart = i + 1
                } else {
                    _ = try RequestLine(line)
                    requestLineEnd = i
                }
                continue
            }
            let emptyLine = buffer[i - 1] == Ascii.lf || (buffer[i - 1] == Ascii.cr && buffer[i - 2] == Ascii.lf)
            guard emptyLine else { continue }
            return try Self.parse(buffer[..<(i + 1)])
        }
        return nil
    }

    /// Parses a complete head (ending with its empty line).
    static func parse(_ head: ArraySlice<UInt8>) throws(HTTPRequestError) -> HTTPRequest {
        var lines = head.split(separator: Ascii.lf, omittingEmptySubsequences: false).map(trimCR)
        while lines.first?.isEmpty == true { lines.removeFirst() }
        guard let first = lines.first else { throw .malformed("an empty request") }
        let line = try RequestLine(first)
        var headers: [HTTPHeader] = []
        for field in lines.dropFirst() where !field.isEmpty {
            headers.append(try parseField(field))
        }
        guard let method = HTTPMethod(rawValue: line.method) else { throw .methodNotAllowed(line.method) }
        let request = HTTPRequest(method: method, path: line.path, query: line.query,
                                  minorVersion: line.minorVersion, headers: headers)
        // A body would have to be read, and then could hide a next request; GET and HEAD need none.
        if request.headers.contains(where: { $0.name.lowercased() == "transfer-encoding" }) {
            throw .malformed("a \(method.rawValue) request with a body (Transfer-Encoding)")
        }
        for field in request.headers where field.name.lowercased() == "content-length" {
            guard !field.value.isEmpty, field.value.utf8.allSatisfy(Ascii.isDigit) else {
                throw .malformed("Content-Length is not a number: \(field.value)")
            }
            guard field.value.utf8.allSatisfy({ $0 == UInt8(ascii: "0") }) else {
                throw .malformed("a \(method.rawValue) request with a body (Content-Length: \(field.value))")
            }
        }
        return request
    }

    /// `name: value`, the name a token right before the colon.
    static func parseField(_ line: ArraySlice<UInt8>) throws(HTTPRequestError) -> HTTPHeader {
        if line.first == Ascii.space || line.first == Ascii.tab {
            throw .malformed("a header line folded onto the next (obsolete line folding)")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw .malformed("a header line without a colon")
        }
        let name = line[..<colon]
        guard !name.isEmpty, name.allSatisfy(Ascii.isToken) else {
            throw .malformed("a header name that is empty or holds characters other than letters, digits and !#$%&'*+-.^_`|~")
        }
        var value = line[(colon + 1)...]
        while let b = value.first, b == Ascii.space || b == Ascii.tab { value.removeFirst() }
        while let b = value.last, b == Ascii.space || b == Ascii.tab { value.removeLast() }
        // Visible characters, spaces, tabs and obs-text (bytes 0x80 and up); no controls.
        guard value.allSatisfy({ $0 == Ascii.tab || $0 >= Ascii.space && $0 != 0x7f }) else {
            throw .malformed("a control character in the value of \(String(decoding: name, as: UTF8.self))")
        }
        return HTTPHeader(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }

    private static func trimCR(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.last == Ascii.cr ? line.dropLast() : line
    }
}

/// `METHOD SP TARGET SP HTTP/1.x`, checked.
private struct RequestLine {
    var method: String
    var path: String
    var query: String?
    var minorVersion: Int

    init(_ line: ArraySlice<UInt8>) throws(HTTPRequestError) {
        let parts = line.split(separator: Ascii.space, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("a request line is METHOD TARGET VERSION, with one space between") }
        let (method, target, version) = (parts[0], parts[1], parts[2])
        guard !method.isEmpty, method.allSatisfy(Ascii.isToken) else { throw .malformed("the method is empty or not a token") }
        guard !target.isEmpty, target.allSatisfy(Ascii.isVisible) else { throw .malformed("the target is empty or holds characters other than visible ASCII") }
        self.method = String(decoding: method, as: UTF8.self)
        // HTTP/DIGIT.DIGIT
        let v = Array(version)
        guard v.count == 8, v[..<5].elementsEqual("HTTP/".utf8), Ascii.isDigit(v[5]), v[6] == UInt8(ascii: "."),
              Ascii.isDigit(v[7]) else {
            throw .malformed("the version is not HTTP/x.y")
        }
        guard v[5] == UInt8(ascii: "1") else { throw .versionNotSupported(String(decoding: v, as: UTF8.self)) }
        minorVersion = Int(v[7] - UInt8(ascii: "0"))
        var rest = target
        if rest.first != UInt8(ascii: "/") {
            // Absolute form (RFC 9112, 3.2.2): scheme://authority, then the path.
            let text = String(decoding: target, as: UTF8.self).lowercased()
            guard let scheme = ["http://", "https://"].first(where: text.hasPrefix) else {
                // Authority form (CONNECT) and asterisk form (OPTIONS) belong to other methods.
                if self.method != HTTPMethod.get.rawValue && self.method != HTTPMethod.head.rawValue { path = ""; return }
                throw .malformed("the target is neither a path (/…) nor an absolute URL")
            }
            rest = target.dropFirst(scheme.utf8.count)
            rest = rest[(rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? rest.endIndex)...]
        }
        if let mark = rest.firstIndex(of: UInt8(ascii: "?")) {
            path = String(decoding: rest[..<mark], as: UTF8.self)
            query = String(decoding: rest[(mark + 1)...], as: UTF8.self)
        } else {
            path = String(decoding: rest, as: UTF8.self)
        }
        if path.isEmpty { path = "/" }
    }
}

/// The bytes the HTTP grammar speaks of.
enum Ascii {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0a
    static let cr: UInt8 = 0x0d
    static let space: UInt8 = 0x20

    static func isVisible(_ b: UInt8) -> Bool { b > 0x20 && b < 0x7f }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// tchar (RFC 9110, 5.6.2): letters, digits and !#$%&'*+-.^_`|~
    static func isToken(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5a, 0x61...0x7a: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }
}
