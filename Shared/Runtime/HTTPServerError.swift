import Glibc

/// Why an `HTTPServer` could not start: an address it cannot use, or the kernel refusing it.
public enum HTTPServerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not `HOST:PORT`.
    case malformedAddress(String, reason: String)
    /// A port that is not 0…65535.
    case portOutOfRange(String, port: String)
    /// A host that is neither an IP address nor `localhost` (names are not looked up).
    case hostNotLiteral(String, host: String)
    /// `socket`, `setsockopt`, `bind`, `listen` or `getsockname` failed (e.g. EADDRINUSE).
    case cannotListen(String, SystemError)

    public var description: String {
        let expected = "expected HOST:PORT, e.g. 127.0.0.1:9464, 0.0.0.0:9464, localhost:9464 or [::1]:9464"
        return switch self {
        case .malformedAddress(let address, let reason):
            "invalid listen address \"\(address)\": \(reason) (\(expected))"
        case .portOutOfRange(let address, let port):
            "invalid listen address \"\(address)\": port \(port) is out of range (0–65535)"
        case .hostNotLiteral(let address, let host):
            "invalid listen address \"\(address)\": \"\(host)\" is not an IP address or localhost (host names are not looked up)"
        case .cannotListen(let address, let error):
            "cannot listen on \(address): \(error.call): \(error.reason.lowercased())"
        }
    }

    /// The address `text` (`HOST:PORT`) names: IPv4 dotted, `localhost` (127.0.0.1), or IPv6
    /// in brackets; port 0 asks the kernel to pick one.
    static func parse(_ text: String) throws(HTTPServerError) -> SocketAddress {
        guard !text.isEmpty else { throw .malformedAddress(text, reason: "it is empty") }
        let host: Substring, port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .malformedAddress(text, reason: "no \"]\" after the IPv6 address") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .malformedAddress(text, reason: "no \":PORT\" after \"]\"") }
            port = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .malformedAddress(text, reason: "no port") }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            if host.contains(":") { throw .malformedAddress(text, reason: "an IPv6 address goes in brackets") }
        }
        guard !host.isEmpty else { throw .malformedAddress(text, reason: "no host") }
        guard !port.isEmpty else { throw .malformedAddress(text, reason: "no port") }
        guard port.utf8.allSatisfy(Ascii.isDigit) else { throw .malformedAddress(text, reason: "the port \"\(port)\" is not a number") }
        // Digit by digit, so that no length of digits can overflow.
        var number = 0
        for digit in port.utf8 {
            number = number * 10 + Int(digit - UInt8(ascii: "0"))
            guard number <= 65535 else { throw .portOutOfRange(text, port: String(port)) }
        }
        let name = host.lowercased()
        if name == "localhost" { return SocketAddress(ipv4: [127, 0, 0, 1], port: UInt16(number)) }
        guard let address = SocketAddress(literal: String(host), port: UInt16(number)),
              text.hasPrefix("[") == (address.family == .ipv6) else {
            if text.hasPrefix("[") { throw .malformedAddress(text, reason: "\"\(host)\" is not an IPv6 address") }
            throw .hostNotLiteral(text, host: String(host))
        }
        return address
    }
}
