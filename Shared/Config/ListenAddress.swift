import Glibc

/// A `HOST:PORT` listen address (`127.0.0.1:9464`, `localhost:0`, `[::1]:9464`), checked where
/// it is written (the config file, the command line) by the same rules the socket layer
/// (`HTTPServer`) parses it with: the host is an IPv4 address, `localhost`, or an IPv6 address in
/// brackets (names are not looked up); the port is 0…65535, 0 picking a free one.
/// `Tests/SupervisorTests` checks that both agree on a table of addresses.
public enum ListenAddress {
    /// What is wrong with `text`, or nil when it can be listened on (as far as its text says).
    public static func problem(_ text: String) -> String? {
        let host: Substring, port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return "no \"]\" after the IPv6 address in \"\(text)\"" }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return "no \":PORT\" after \"]\" in \"\(text)\"" }
            port = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                return "expected HOST:PORT, e.g. \"127.0.0.1:9464\" (port 0 picks a free one), got \"\(text)\""
            }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            if host.contains(":") { return "an IPv6 host goes in brackets, e.g. \"[::1]:9464\", got \"\(text)\"" }
        }
        guard !host.isEmpty else { return "the host is missing in \"\(text)\" (use 127.0.0.1 for this machine only)" }
        guard !port.isEmpty, port.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), port.count <= 5, let n = Int(port), n <= 65535 else {
            return "the port must be a number from 0 to 65535, got \"\(port)\" in \"\(text)\""
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        if text.hasPrefix("[") {
            guard inet_pton(AF_INET6, String(host), &bytes) == 1 else { return "\"\(host)\" is not an IPv6 address in \"\(text)\"" }
        } else if host.lowercased() != "localhost" {
            guard inet_pton(AF_INET, String(host), &bytes) == 1 else {
                return "\"\(host)\" is not an IPv4 address or localhost (host names are not looked up) in \"\(text)\""
            }
        }
        return nil
    }
}
