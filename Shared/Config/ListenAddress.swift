/// The shape of a `HOST:PORT` listen address (`127.0.0.1:9464`, `localhost:0`, `[::1]:9464`),
/// checked where it is written (the config file, the command line); the socket layer resolves it.
public enum ListenAddress {
    /// What is wrong with `text`, or nil when it has the right shape.
    public static func problem(_ text: String) -> String? {
        guard let colon = text.lastIndex(of: ":") else {
            return "expected HOST:PORT, e.g. \"127.0.0.1:9464\" (port 0 picks a free one), got \"\(text)\""
        }
        let host = text[..<colon], port = text[text.index(after: colon)...]
        guard !host.isEmpty else { return "the host is missing in \"\(text)\" (use 127.0.0.1 for this machine only)" }
        if host.hasPrefix("[") != host.hasSuffix("]") || (!host.hasPrefix("[") && host.contains(":")) {
            return "an IPv6 host goes in brackets, e.g. \"[::1]:9464\", got \"\(text)\""
        }
        guard let n = Int(port), (0...65535).contains(n), port.allSatisfy(\.isASCII) else {
            return "the port must be a number from 0 to 65535, got \"\(port)\" in \"\(text)\""
        }
        return nil
    }
}
