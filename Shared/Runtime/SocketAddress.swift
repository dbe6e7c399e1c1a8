import Glibc

/// An IPv4 or IPv6 address with a TCP port: what `bind` takes and `getsockname` gives.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: Hashable, Sendable {
        case ipv4
        case ipv6

        var constant: Int32 { self == .ipv4 ? AF_INET : AF_INET6 }
    }

    public let family: Family
    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public let host: [UInt8]
    public let port: UInt16

    public init(ipv4 host: [UInt8], port: UInt16) {
        precondition(host.count == 4, "an IPv4 address has 4 bytes")
        self.family = .ipv4
        self.host = host
        self.port = port
    }

    public init(ipv6 host: [UInt8], port: UInt16) {
        precondition(host.count == 16, "an IPv6 address has 16 bytes")
        self.family = .ipv6
        self.host = host
        self.port = port
    }

    /// The address parsed from a literal: dotted IPv4 (`127.0.0.1`) or IPv6 without brackets
    /// (`::1`); nil for anything else, host names included.
    ///
    /// The corresponding C function is `inet_pton` (it reads text, it makes no system call).
    public init?(literal: String, port: UInt16) {
        var v4 = in_addr()
        if inet_pton(AF_INET, literal, &v4) == 1 {
            self.init(ipv4: withUnsafeBytes(of: &v4) { Array($0) }, port: port)
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, literal, &v6) == 1 {
            self.init(ipv6: withUnsafeBytes(of: &v6) { Array($0) }, port: port)
            return
        }
        return nil
    }

    /// True for `0.0.0.0` and `::`, which stand for every address of the machine.
    public var isUnspecified: Bool { host.allSatisfy { $0 == 0 } }

    /// The host in its usual text form: `127.0.0.1`, `::1` (RFC 5952, shortest).
    ///
    /// The corresponding C function is `inet_ntop`.
    public var hostText: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let ok = host.withUnsafeBytes { inet_ntop(family.constant, $0.baseAddress, &text, socklen_t(text.count)) }
        precondition(ok != nil, "inet_ntop of a well-formed address failed")
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `HOST:PORT`, with an IPv6 host in brackets: `127.0.0.1:9464`, `[::1]:9464`.
    public var description: String {
        family == .ipv4 ? "\(hostText):\(port)" : "[\(hostText)]:\(port)"
    }

    /// Calls `body` with the address as a C `sockaddr` and its length.
    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        switch family {
        case .ipv4:
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: host) }
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .ipv6:
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: host) }
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }

    /// The address in `storage` as the kernel filled it in; nil for a family other than IPv4 or IPv6.
    init?(_ storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            let address = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
            self.init(ipv4: withUnsafeBytes(of: address.sin_addr) { Array($0) }, port: UInt16(bigEndian: address.sin_port))
        case AF_INET6:
            let address = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }
            self.init(ipv6: withUnsafeBytes(of: address.sin6_addr) { Array($0) }, port: UInt16(bigEndian: address.sin6_port))
        default:
            return nil
        }
    }
}
