import Foundation
import Glibc
import Messages
import Testing

/// Processes of the same user that misbehave on the run's sockets: connections that never say
/// hello, and hellos that name someone else's pid. Each run's output is compared with a
/// fault-free run of the same input.
@Suite(.serialized) struct HostilePeerTests {
    /// A process holding the cookie says hello on a replica's data socket naming another
    /// replica's pid, then sends a frame that fails validation: the kernel's pid (SO_PEERCRED)
    /// decides, so the named replica is not blamed, and nothing is killed for the frame.
    @Test func aHelloNamingAnotherReplicasPidGetsNobodyKilled() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let faults = FaultTests()
        let cfg = ws.write("pipeline.toml", faults.config())
        let first = Records.jsonl(300, seed: 71), second = Records.jsonl(300, seed: 72, firstID: 301)
        let expected = try faults.reference(ws, cfg, first + second)
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir])
        defer { kill(run.pid, SIGKILL) }
        run.write(first)
        #expect(run.waitForLines(300) == 300)
        let victims = replicaPids(ws.runDir, "featurize")
        let victim = try #require(victims.first)
        let cookie = try String(contentsOfFile: ws.runDir + "/cookie", encoding: .utf8)

        // As featurize.1, with featurize.1's pid; then as itself. Both connections end closed.
        for pid in [victim, getpid()] {
            let fd = try #require(connectBlocking(ws.runDir + "/infer.1.sock"))
            defer { close(fd) }
            sendAll(fd, hello(.data, .featurize, replica: 1, pid: pid, cookie: cookie) + garbledFrame())
            #expect(waitForClose(fd), "infer.1 closed the connection claiming pid \(pid)")
        }
        run.write(second)
        #expect(run.waitForLines(600) == 600)
        #expect(replicaPids(ws.runDir, "featurize") == victims, "featurize.1 kept its pid \(victim)")
        let result = run.finish()
        #expect(result.status == 0, "\(result.err)")
        #expect(result.stdout == expected.stdout, "byte-identical to the fault-free run")
        #expect(runSummary(result.err) == runSummary(expected.err))
        #expect(!result.err.contains("killing it") && !result.err.contains("restarting it"), "\(result.err)")
        let logs = try pipeline(["logs", "infer", "--run-dir", ws.runDir])
        #expect(logs.out.contains("claims pid \(victim)"), "infer.1 says why it refused the hello: \(logs.out)")
        #expect(logs.out.contains("bad frame magic"), "and why it closed the connection of the process that was itself")
    }

}

/// `connect` to the socket file at `path`; returns 0 or -1 (errno set).
func connectAddress(_ fd: Int32, _ path: String) -> Int32 {
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
}

/// A blocking connection to `path` whose reads give up after 10 s; nil when it cannot connect.
func connectBlocking(_ path: String) -> Int32? {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return nil }
    guard connectAddress(fd, path) == 0 else {
        close(fd)
        return nil
    }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
}

func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
        guard n > 0 else { return }
        done += n
    }
}

/// Reads until the peer closes the connection (true) or 10 s pass without a byte (false).
func waitForClose(_ fd: Int32) -> Bool {
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n == 0 || (n < 0 && errno == ECONNRESET) { return true }
        if n < 0 { return false }
    }
}

func hello(_ purpose: ConnectionPurpose, _ node: NodeKind, replica: UInt32, pid: Int32, cookie: String) -> [UInt8] {
    let out = FrameBuffer()
    Hello(purpose: purpose, node: node, replica: replica, pid: pid, cookie: cookie).encode(into: out)
    return Array(out.bytes)
}

/// A frame whose magic is broken, as a replica gone wrong would send.
func garbledFrame() -> [UInt8] {
    let out = FrameBuffer()
    out.frame(FrameHeader(kind: .errors)) { _ in }
    var bytes = Array(out.bytes)
    bytes[0] = 0x58
    return bytes
}
