import Foundation
import Testing
@testable import Runtime

/// SHA-256 against the FIPS 180-4 examples, against `sha256sum` around the padding boundaries,
/// and fed in pieces of every awkward size.
@Suite struct SHA256Tests {
    static let vectors: [(message: String, digest: String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ]

    /// Bytes that differ from position to position and do not repeat with any short period.
    static func bytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var x = seed
        return (0..<count).map { _ in
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: x >> 56)
        }
    }

    /// What `sha256sum` says about `bytes` (given on its standard input).
    static func sha256sum(_ bytes: [UInt8]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        try input.fileHandleForWriting.write(contentsOf: Data(bytes))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.prefix(64))
    }

    @Test(arguments: vectors.indices)
    func fipsExamples(index: Int) {
        let (message, digest) = Self.vectors[index]
        #expect(SHA256.hex(SHA256.hash(Array(message.utf8))) == digest)
    }

    @Test func oneMillionAs() {
        let digest = SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        #expect(SHA256.hex(digest) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// The lengths where padding takes one more block or ends exactly on one.
    @Test(arguments: [1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 4099])
    func lengthsAroundBlockBoundariesMatchSha256sum(count: Int) throws {
        let bytes = Self.bytes(count, seed: UInt64(count))
        #expect(SHA256.hex(SHA256.hash(bytes)) == (try Self.sha256sum(bytes)))
    }

    @Test(arguments: [1, 3, 7, 13, 55, 63, 64, 65, 127, 1000])
    func streamingInPiecesEqualsOneShot(piece: Int) {
        let bytes = Self.bytes(10_007)
        var hash = SHA256()
        var start = 0
        var size = piece
        while start < bytes.count {
            let end = min(bytes.count, start + size)
            hash.update(Array(bytes[start..<end]))
            start = end
            size = size == piece ? piece * 2 + 1 : piece  // alternate two sizes, so pieces start everywhere in a block
        }
        #expect(hash.finalize() == SHA256.hash(bytes))
    }

    @Test func emptyUpdatesChangeNothingAndFinalizeLeavesTheHashGoingOn() {
        var hash = SHA256()
        hash.update([UInt8]())
        hash.update("ab")
        hash.update(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(SHA256.hex(hash.finalize()) == SHA256.hex(SHA256.hash(Array("ab".utf8))))
        hash.update("c")
        #expect(SHA256.hex(hash.finalize()) == Self.vectors[1].digest)
    }

    @Test func hexIsLowercaseTwoDigitsAByte() {
        #expect(SHA256.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(SHA256.hex([]) == "")
    }
}

/// Throughput of SHA-256 on a 100 MB file, in memory and through `FileDigest`. Opt-in (it
/// measures, it does not assert a time): `PIPELINE_BENCH=1 swift test -c release --filter SHA256Benchmark`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["PIPELINE_BENCH"] != nil))
struct SHA256Benchmark {
    @Test func hundredMegabytes() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let count = 100_000_000
        let bytes = SHA256Tests.bytes(count)
        let path = dir.path + "/100MB"
        try Sys.writeFile(path, bytes)
        var best = Double.infinity
        for _ in 0..<3 {
            let start = Sys.threadCPUNanos()
            _ = SHA256.hash(bytes)
            best = min(best, Double(Sys.threadCPUNanos() - start) / 1e9)
        }
        let start = Sys.monotonicNanos()
        let digest = try FileDigest(path: path).wait()
        let file = Double(Sys.monotonicNanos() - start) / 1e9
        #expect(digest == (try FileDigestTests.sha256sum(file: path)))
        print("SHA-256: in memory \(Int(Double(count) / 1e6 / best)) MB/s (thread CPU time); "
              + "FileDigest of a 100 MB file \(Int(Double(count) / 1e6 / file)) MB/s (wall)")
    }
}
