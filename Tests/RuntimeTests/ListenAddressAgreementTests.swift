import Config
import Testing
@testable import Runtime

/// The config and the command line check a listen address (`Config.ListenAddress`) by the
/// rules the server parses it with (`HTTPServerError.parse`): they must agree, so that `pipeline
/// check` never says ok to an address `up` then refuses.
@Suite struct ListenAddressAgreementTests {
    static let addresses = [
        "127.0.0.1:9464", "0.0.0.0:0", "localhost:9464", "LOCALHOST:1", "[::1]:9464", "[::]:0", "[::ffff:127.0.0.1]:80",
        "127.0.0.1:65535", "127.0.0.1:65536", "127.0.0.1:99999", "127.0.0.1:", ":9464", "9464", "localhost", "",
        "foo:1", "example.com:80", "[1.2.3.4]:1", "::1:9464", "[::1", "[::1]9464", "[::1]:", "1.2.3:80", "256.0.0.1:80",
        "127.0.0.1:+80", "127.0.0.1:0x50", "127.0.0.1:00080", "127.0.0.1: 80", " 127.0.0.1:80", "[zz::1]:80",
    ]

    @Test(arguments: addresses) func configAndServerAgree(_ address: String) {
        let configSays = ListenAddress.problem(address)
        let serverSays: String? = {
            do throws(HTTPServerError) {
                _ = try HTTPServerError.parse(address)
                return nil
            } catch {
                return error.description
            }
        }()
        #expect((configSays == nil) == (serverSays == nil), "config: \(configSays ?? "ok"); server: \(serverSays ?? "ok")")
    }
}
