import Foundation
import Glibc
import Testing

/// The run directory and its sockets are closed to others, and garbage on any socket closes
/// that connection only.
@Suite(.serialized) struct SecurityTests {
    @Test func unsafeRunDirectoriesAreRefused() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        func up(_ dir: String) throws -> Finished { try pipeline(["up", "-f", cfg, "--run-dir", dir]) }

        let open = ws.path + "/open"
        mkdir(open, 0o755)
        chmod(open, 0o755)
        let a = try up(open)
        #expect(a.status == 9 && a.err.contains("its mode is 755"), "\(a.err)")

        let link = ws.path + "/link"
        symlink(ws.path + "/elsewhere", link)
        mkdir(ws.path + "/elsewhere", 0o700)
        let b = try up(link)
        #expect(b.status == 9 && b.err.contains("symbolic link"), "\(b.err)")

        if getuid() == 0 {
            let foreign = ws.path + "/foreign"
            mkdir(foreign, 0o700)
            chown(foreign, 65534, 65534)
            let c = try up(foreign)
            #expect(c.status == 9 && c.err.contains("owned by uid 65534"), "\(c.err)")
        }

        let long = ws.path + "/" + String(repeating: "d", count: 90)
        let d = try up(long)
        #expect(d.status == 9 && d.err.contains("socket path"), "\(d.err)")
        #expect(!FileManager.default.fileExists(atPath: long), "a refused run directory is not created")
        #expect(processes(mentioning: ws.path).isEmpty)
    }

    @Test func socketsAndTheirDirectoryArePrivate() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir])
        run.write(Records.jsonl(10))
        #expect(run.waitForLines(10) == 10)
        var st = stat()
        let found = lstat(ws.runDir, &st)
        #expect(found == 0)
        #expect(st.st_mode & 0o777 == 0o700, "mode \(String(st.st_mode & 0o777, radix: 8))")
        let entries = try FileManager.default.contentsOfDirectory(atPath: ws.runDir)
        let sockets = entries.filter { $0.hasSuffix(".sock") }
        #expect(sockets.count == 6, "control, sink and one per replica: \(sockets)")
        for name in sockets + ["cookie"] {
            var file = stat()
            let exists = lstat(ws.runDir + "/" + name, &file)
            #expect(exists == 0 && file.st_mode & 0o777 == 0o600, "\(name): mode \(String(file.st_mode & 0o777, radix: 8))")
        }
        #expect(run.finish().status == 0)
    }

    /// Sends `bytes` on a new connection to `path`; returns true once the peer has closed it.
    func sendGarbage(_ path: String, _ bytes: [UInt8]) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { return false }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 || (n < 0 && errno == ECONNRESET) { return true }
            if n < 0 { return false }
        }
    }

    @Test func garbageOnAnySocketClosesOnlyThatConnection() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config(batchRows: 16))
        let first = Records.jsonl(200, seed: 51), second = Records.jsonl(200, seed: 52, firstID: 201)
        let expected = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir + "-ref"], stdinFile: ws.write("all", first + second))
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir])
        run.write(first)
        #expect(run.waitForLines(200) == 200)
        let garbage: [UInt8] = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8) + Array(repeating: 0xAB, count: 100)
        var header = [UInt8](repeating: 0, count: 64)
        header.replaceSubrange(0..<8, with: [0x50, 0x49, 0x50, 0x4C, 1, 0, 1, 0])   // valid magic, then a payload
        header.replaceSubrange(24..<28, with: [0xE0, 0xFF, 0xFF, 0x7F])               // of 2 GiB: refused by its header
        for name in ["control", "sink", "ingest.1", "featurize.1", "infer.1", "aggregate.1"] {
            #expect(sendGarbage("\(ws.runDir)/\(name).sock", garbage), "\(name) closed a garbage connection")
            #expect(sendGarbage("\(ws.runDir)/\(name).sock", header), "\(name) closed an oversized frame")
        }
        run.write(second)
        let result = run.finish()
        #expect(result.status == 0, "\(result.err)")
        #expect(same(result.stdout, expected.stdout), "the run is unaffected")
        #expect(result.err.contains("bad frame magic"), "the supervisor logs why it closed the connection")
        let logs = try pipeline(["logs", "--run-dir", ws.runDir])
        #expect(logs.out.contains("infer.1 | ") && logs.out.contains("bad frame magic") && logs.out.contains("exceeds the limit"),
                "\(logs.out)")
    }
}
