import Foundation
import Glibc
import Messages
import Testing

/// Processes of the same user that misbehave on the run's sockets: connections that never say
/// hello, and hellos that name someone else's pid. Each run's output is compared with a
/// fault-free run of the same input.
@Suite(.serialized) struct HostilePeerTests {
    /// A thousand idle connections to a replica's data socket and as many to the control socket,
    /// under a low file limit: each is closed within the handshake deadline, neither listener
    /// stops accepting or spins, and a replacement replica, `pipeline ps` and the stream get
    /// through while more keep coming.
    @Test func idleConnectionsAreClosedAndStarveNobody() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let faults = FaultTests()
        let cfg = ws.write("pipeline.toml", faults.config())
        let first = Records.jsonl(400, seed: 61), second = Records.jsonl(400, seed: 62, firstID: 401)
        let expected = try faults.reference(ws, cfg, first + second)
        let run = try Running("/bin/sh", ["-c", "ulimit -n 256 && exec \"$0\" \"$@\"", Paths.pipeline, "up", "-f", cfg,
                                          "--run-dir", ws.runDir],
                              environment: ["PIPELINE_HANDSHAKE_SECONDS": "1"])
        defer { kill(run.pid, SIGKILL) }
        run.write(first)
        #expect(run.waitForLines(400) == 400)
        let infer = replicaPids(ws.runDir, "infer"), featurize = replicaPids(ws.runDir, "featurize")
        try #require(infer.count == 1 && featurize.count == 1)
        let floods = [Flood(ws.runDir + "/infer.1.sock"), Flood(ws.runDir + "/control.sock")]
        defer { floods.forEach { $0.closeAll() } }

        // Both listeners keep accepting: the backlog never stays full.
        let flooded = waitUntil(seconds: 10) {
            for flood in floods { flood.open(1000 - flood.opened) }
            return floods.allSatisfy { $0.opened >= 1000 }
        }
        #expect(flooded, "1000 connections to each socket were accepted: \(floods.map(\.opened))")

        // Every one is closed by the 1 s deadline (or sooner, to make room), with no busy loop.
        let start = Date()
        let cpu = [cpuSeconds(infer[0]), cpuSeconds(run.pid)]
        let closed = waitUntil(seconds: 4) { floods.allSatisfy { $0.closeClosed() == 0 } }
        let elapsed = Date().timeIntervalSince(start)
        let used = [cpuSeconds(infer[0]) - cpu[0], cpuSeconds(run.pid) - cpu[1]]
        #expect(closed, "still open after \(elapsed) s: \(floods.map { $0.closeClosed() })")
        #expect(used.allSatisfy { $0 < 0.3 * elapsed }, "CPU seconds of infer.1 and the supervisor over \(elapsed) s: \(used)")

        // A replacement featurize replica connects to the control socket and to infer.1 while
        // new idle connections keep arriving at both; the stream completes.
        kill(featurize[0], SIGKILL)
        run.write(second)
        let streamed = waitUntil(seconds: 30) {
            for flood in floods {
                flood.closeClosed()
                flood.open(50)
            }
            return run.lineCount >= 800
        }
        #expect(streamed, "\(run.lineCount) lines")
        #expect(replicaPids(ws.runDir, "featurize").contains { $0 != featurize[0] })
        let ps = try Running(Paths.pipeline, ["ps", "--run-dir", ws.runDir], stdinFile: "/dev/null").finish(seconds: 15)
        #expect(ps.status == 0 && ps.out.contains("infer"), "\(ps.status): \(ps.out) \(ps.err)")
        floods.forEach { $0.closeAll() }

        let result = run.finish(seconds: 30)
        #expect(result.status == 0, "\(result.err.suffix(2000))")
        #expect(same(result.stdout, expected.stdout), "byte-identical to the fault-free run")
        #expect(runSummary(result.err) == runSummary(expected.err))
        // Waiting connections are capped well under the file limit: descriptors never ran out.
        let logs = try pipeline(["logs", "--run-dir", ws.runDir])
        let exhausted = (result.err + logs.out).components(separatedBy: "Too many open files").count - 1
        #expect(exhausted == 0, "\(exhausted) lines about exhausted descriptors")
        #expect(result.err.contains("sent no hello within 1 s"), "\(result.err.suffix(2000))")
        #expect(processes(mentioning: ws.path).isEmpty)
    }

    /// A process holding the cookie says hello on a replica's data socket naming another
    /// replica's pid, then sends a frame that fails validation: the kernel's pid (SO_PEERCRED)
    /// decides, so the named replica is not blamed, and nothing is killed for the frame.
    @Test func aHelloNamingAnotherReplicasPidGetsNobodyKilled() throws {
        var victim: Int32 = 0
        let logs = try streamAroundAnAttack(seed: 71) { runDir, cookie in
            victim = try #require(replicaPids(runDir, "featurize").first)
            // As featurize.1, with featurize.1's pid; then as itself. Both connections end closed.
            for pid in [victim, getpid()] {
                let fd = try #require(connectBlocking(runDir + "/infer.1.sock"))
                defer { close(fd) }
                sendAll(fd, hello(.data, .featurize, replica: 1, pid: pid, cookie: cookie) + garbledFrame())
                #expect(waitForClose(fd), "infer.1 closed the connection claiming pid \(pid)")
            }
        }
        #expect(logs.contains("claims pid \(victim)"), "infer.1 says why it refused the hello: \(logs)")
        #expect(logs.contains("bad frame magic"), "and why it closed the connection of the process that was itself")
    }

    /// A process holding the cookie says hello on the control socket as a starting replica,
    /// naming that replica's pid: the supervisor matches replicas by the kernel's pid, so the
    /// impostor gets no config and does not take the replica's place.
    @Test func aControlHelloMustComeFromTheReplicaItNames() throws {
        let ws = Workspace()
        defer { ws.remove() }
        // The real binaries, but a featurize replica that starts and never connects (so that it
        // stays "starting"); it leaves its pid next to itself.
        let bin = ws.path + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for name in ["pipeline", "ingest", "infer", "aggregate"] {
            try FileManager.default.copyItem(atPath: Paths.binaries + "/" + name, toPath: bin + "/" + name)
        }
        // Written by another process, as in FaultTests (ETXTBSY from an inherited descriptor).
        let script = "#!/bin/sh\necho $$ > \"$0.pid\"\nexec sleep 120\n"
        let writer = try Running("/bin/sh", ["-c", "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"", "sh", script, bin + "/featurize"])
        #expect(writer.finish().status == 0)
        let cfg = ws.write("pipeline.toml", FaultTests().config())
        let run = try Running(bin + "/pipeline", ["up", "-f", cfg, "--run-dir", ws.runDir])
        defer { kill(run.pid, SIGKILL) }
        var starting: Int32?
        #expect(waitUntil {
            starting = (try? String(contentsOfFile: bin + "/featurize.pid", encoding: .utf8))
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return starting != nil
        })
        let pid = try #require(starting)
        defer { kill(pid, SIGKILL) }
        let cookie = try String(contentsOfFile: ws.runDir + "/cookie", encoding: .utf8)

        let fd = try #require(connectBlocking(ws.runDir + "/control.sock"))
        defer { close(fd) }
        sendAll(fd, hello(.control, .featurize, replica: 1, pid: pid, cookie: cookie))
        let received = readUntilClose(fd)
        #expect(received == 0, "the impostor was sent \(received) bytes (featurize.1's config)")
        let result = run.finish(seconds: 30)
        #expect(result.err.contains("claims pid \(pid)"), "the supervisor says why it refused the hello: \(result.err)")
        #expect(waitUntil { kill(pid, 0) != 0 }, "the starting replica was stopped with the run")
        #expect(processes(mentioning: ws.path).isEmpty)
    }
}

/// Idle connections to one socket, made without blocking and never written to.
final class Flood {
    let path: String
    private(set) var fds: [Int32] = []
    /// Connections made so far, including those since closed.
    private(set) var opened = 0

    init(_ path: String) { self.path = path }

    /// Opens up to `count` more connections; stops early when the listener's backlog is full.
    func open(_ count: Int) {
        for _ in 0..<max(count, 0) {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return }
            guard connectAddress(fd, path) == 0 else {
                close(fd)
                return
            }
            fds.append(fd)
            opened += 1
        }
    }

    /// Closes the connections the other side has closed; returns how many are still open.
    @discardableResult
    func closeClosed() -> Int {
        fds.removeAll { fd in
            var byte: UInt8 = 0
            let n = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
            guard n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) else { return false }
            close(fd)
            return true
        }
        return fds.count
    }

    func closeAll() {
        fds.forEach { close($0) }
        fds.removeAll()
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

/// Bytes received until the peer closes the connection or 10 s pass without a byte.
func readUntilClose(_ fd: Int32) -> Int {
    var buffer = [UInt8](repeating: 0, count: 4096)
    var total = 0
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { return total }
        total += n
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

/// User plus system CPU time of process `pid` so far, in seconds (0 once it is gone).
func cpuSeconds(_ pid: Int32) -> Double {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return 0 }
    // "pid (comm) state ppid …": utime and stime are fields 14 and 15, counted from 1.
    let text = String(decoding: data, as: UTF8.self)
    guard let close = text.lastIndex(of: ")") else { return 0 }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Streams 300 records, lets `attack` (given the run directory and the run's cookie) do its
/// worst to a running pipeline, then streams 300 more, and checks what every such test must:
/// the output and summary byte-identical to a fault-free run, featurize's replicas still the
/// same processes, nobody killed or restarted. Returns infer's log, for what it refused.
func streamAroundAnAttack(seed: UInt64, _ attack: (_ runDir: String, _ cookie: String) throws -> Void) throws -> String {
    let ws = Workspace()
    defer { ws.remove() }
    let faults = FaultTests()
    let cfg = ws.write("pipeline.toml", faults.config())
    let first = Records.jsonl(300, seed: seed), second = Records.jsonl(300, seed: seed + 1, firstID: 301)
    let expected = try faults.reference(ws, cfg, first + second)
    let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir])
    defer { kill(run.pid, SIGKILL) }
    run.write(first)
    #expect(run.waitForLines(300) == 300)
    let victims = replicaPids(ws.runDir, "featurize")
    let cookie = try String(contentsOfFile: ws.runDir + "/cookie", encoding: .utf8)
    try attack(ws.runDir, cookie)
    run.write(second)
    #expect(run.waitForLines(600) == 600)
    #expect(replicaPids(ws.runDir, "featurize") == victims, "featurize kept its replicas \(victims)")
    let result = run.finish()
    #expect(result.status == 0, "\(result.err)")
    #expect(same(result.stdout, expected.stdout), "byte-identical to the fault-free run")
    #expect(runSummary(result.err) == runSummary(expected.err))
    #expect(!result.err.contains("killing it") && !result.err.contains("restarting it"), "\(result.err)")
    return try pipeline(["logs", "infer", "--run-dir", ws.runDir]).out
}
