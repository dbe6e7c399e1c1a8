/// What a responder gives `HTTPServer` to send: a status, a body and its type, and any further
/// header fields. The server adds `Content-Length` and `Connection: close` itself.
public struct HTTPResponse: Hashable, Sendable {
    public var status: Int
    public var contentType: String
    /// Further header fields, sent after `Content-Type` and `Content-Length`.
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    /// - Precondition: `status` is 200…599 but not 204 or 304 (a response that never has a body
    ///   must not carry the `Content-Length` this server always sends); names are tokens and no
    ///   value holds a CR, LF or other control character; `headers` has no `Content-Type`,
    ///   `Content-Length` or `Connection` (a responder's bug, never input).
    public init(status: Int, contentType: String = "text/plain; charset=utf-8", headers: [HTTPHeader] = [], body: [UInt8]) {
        precondition((200...599).contains(status) && status != 204 && status != 304,
                     "HTTPResponse status \(status): the server sends 200–599 with a body (not 204 or 304)")
        for field in headers {
            precondition(!["content-type", "content-length", "connection"].contains(field.name.lowercased()),
                         "the server sets \(field.name) itself")
        }
        for field in [HTTPHeader(name: "Content-Type", value: contentType)] + headers {
            precondition(!field.name.isEmpty && field.name.utf8.allSatisfy(Ascii.isToken), "header name \(field.name) is not a token")
            precondition(field.value.utf8.allSatisfy { $0 == Ascii.tab || $0 >= Ascii.space && $0 != 0x7f },
                         "the value of header \(field.name) holds a control character")
        }
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", headers: [HTTPHeader] = [], body: String) {
        self.init(status: status, contentType: contentType, headers: headers, body: Array(body.utf8))
    }

    /// The answer to a refused request: its status, and the reason as a line of text.
    public init(refusing error: HTTPRequestError) {
        let allow = error.status == 405 ? [HTTPHeader(name: "Allow", value: "GET, HEAD")] : []
        self.init(status: error.status, headers: allow, body: "\(error)\n")
    }

    /// The status line's reason phrase; empty for a code without one here (which HTTP allows).
    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 408: "Request Timeout"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: ""
        }
    }

    /// The bytes on the wire: status line, header fields, empty line, and the body unless
    /// `includeBody` is false (HEAD: the same `Content-Length`, no body).
    public func serialized(includeBody: Bool = true) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        head += "Content-Type: \(contentType)\r\n"
        head += "Content-Length: \(body.count)\r\n"
        for field in headers { head += "\(field.name): \(field.value)\r\n" }
        head += "Connection: close\r\n\r\n"
        var bytes = Array(head.utf8)
        if includeBody { bytes += body }
        return bytes
    }
}
