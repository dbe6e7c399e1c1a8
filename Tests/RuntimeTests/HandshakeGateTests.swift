import Foundation
import Glibc
import Messages
import Testing
@testable import Runtime

/// The gate in front of every listener: who gets in, who is closed, and when; the time is an
/// input, so deadlines are tested without waiting for them.
@Suite struct HandshakeGateTests {
    static let second: UInt64 = 1_000_000_000

    /// One turn of an owner's loop at time `now` (waiting at most 200 ms for something to happen).
    static func turn(_ gate: HandshakeGate, now: UInt64) throws -> [Connection] {
        var poll = PollSet()
        let slots = gate.register(in: &poll, now: now)
        try poll.wait(timeoutMillis: 200)
        return gate.handle(poll, slots: slots, now: now)
    }

    static func send(_ fd: Int32, _ body: (FrameBuffer) -> Void) {
        let out = FrameBuffer()
        body(out)
        _ = try? Sys.write(fd, from: out.base, count: out.count)
    }

    static func hello(pid: Int32 = getpid(), cookie: String = "c") -> (FrameBuffer) -> Void {
        { Hello(purpose: .data, node: .ingest, replica: 1, pid: pid, cookie: cookie).encode(into: $0) }
    }

    /// True once the other side has closed the connection.
    static func closedByPeer(_ fd: Int32) -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    func gate(_ dir: TempDirectory, maxPending: Int = 8) throws -> HandshakeGate {
        try HandshakeGate(path: dir.path + "/g.sock", cookie: "c",
                          limits: .init(deadlineNanos: Self.second, maxPending: maxPending))
    }

    @Test func aHelloSentOnConnectGetsInAtOnceWithWhatFollows() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let gate = try gate(dir)
        let client = try UnixSocket.connect(path: gate.path)
        defer { Sys.close(client) }
        Self.send(client) {
            Self.hello()($0)
            $0.frame(.ready)
        }
        let admitted = try Self.turn(gate, now: 0)
        let connection = try #require(admitted.first)
        #expect(admitted.count == 1 && gate.pendingCount == 0)
        #expect(connection.hello?.node == .ingest && connection.peerPID == getpid())
        #expect(try connection.peekFrame()?.header.kind == .ready, "what followed the hello is left for the owner")
    }

    @Test func aWrongCookieSomeoneElsesPidOrGarbageIsRefused() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let gate = try gate(dir)
        let clients = try (0..<4).map { _ in try UnixSocket.connect(path: gate.path) }
        defer { clients.forEach(Sys.close) }
        Self.send(clients[0], Self.hello(cookie: "x"))
        Self.send(clients[1], Self.hello(pid: 1))
        Self.send(clients[2]) { out in Array("GET / HTTP/1.1\r\nHost: example\r\n\r\n".utf8).withUnsafeBytes { out.append(bytes: $0) } }
        // A hello announcing a payload far over what a hello needs: refused from its header.
        Self.send(clients[3]) { out in
            out.frame(FrameHeader(kind: .hello)) { body in [UInt8](repeating: 1, count: 8192).withUnsafeBytes { body.append(bytes: $0) } }
        }
        var admitted: [Connection] = []
        for _ in 0..<20 where !clients.allSatisfy(Self.closedByPeer) { admitted += try Self.turn(gate, now: 0) }
        #expect(admitted.isEmpty && gate.pendingCount == 0)
        #expect(clients.allSatisfy(Self.closedByPeer))
    }

    @Test func aSilentConnectionIsClosedAtTheDeadlineAndASlowHelloStillGetsIn() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let gate = try gate(dir)
        let silent = try UnixSocket.connect(path: gate.path)
        defer { Sys.close(silent) }
        let slow = try UnixSocket.connect(path: gate.path)
        defer { Sys.close(slow) }
        #expect(try Self.turn(gate, now: 5 * Self.second).isEmpty && gate.pendingCount == 2)
        Self.send(slow, Self.hello())
        let admitted = try Self.turn(gate, now: 5 * Self.second + Self.second / 2)
        #expect(admitted.count == 1 && admitted.first?.peerPID == getpid())
        #expect(gate.pendingCount == 1 && !Self.closedByPeer(silent))
        _ = try Self.turn(gate, now: 6 * Self.second - 1)
        #expect(gate.pendingCount == 1, "not before its deadline")
        _ = try Self.turn(gate, now: 6 * Self.second)
        #expect(gate.pendingCount == 0 && Self.closedByPeer(silent))
    }

    @Test func atTheLimitTheOldestWaitingConnectionMakesRoom() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let gate = try gate(dir, maxPending: 3)
        let idle = try (0..<5).map { _ in try UnixSocket.connect(path: gate.path) }
        defer { idle.forEach(Sys.close) }
        #expect(try Self.turn(gate, now: 0).isEmpty)
        #expect(gate.pendingCount == 3)
        #expect(idle.map(Self.closedByPeer) == [true, true, false, false, false])
        // A peer that says hello on connect gets in without pushing anyone out.
        let peer = try UnixSocket.connect(path: gate.path)
        defer { Sys.close(peer) }
        Self.send(peer, Self.hello())
        #expect(try Self.turn(gate, now: 0).count == 1)
        #expect(gate.pendingCount == 3 && !idle[2...].contains(where: Self.closedByPeer))
    }

    /// Accept as a process at its file limit sees it: `EMFILE` on the calls `fails` picks, the
    /// real accept otherwise. (Linux reserves the descriptor first, so accept fails even when the
    /// backlog is empty.)
    final class ShortOfDescriptors {
        var calls = 0
        var fails: (Int) -> Bool = { _ in true }

        func install(on gate: HandshakeGate) {
            gate.acceptCall = { [self] (listener, path) throws(SystemError) in
                calls += 1
                if fails(calls) { throw SystemError("accept", errno: EMFILE) }
                return try UnixSocket.acceptSameUser(listener, at: path)
            }
        }
    }

    @Test func outOfDescriptorsWithNobodyWaitingTheListenerRests() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let gate = try gate(dir)
        let shortage = ShortOfDescriptors()
        shortage.install(on: gate)
        let client = try UnixSocket.connect(path: gate.path)
        defer { Sys.close(client) }
        let start = 5 * Self.second, pause = gate.limits.pauseNanos
        #expect(try Self.turn(gate, now: start).isEmpty)
        #expect(shortage.calls == 1 && gate.pausedUntil == start + pause, "one failed accept, then a rest")
        _ = try Self.turn(gate, now: start + pause / 2)
        #expect(shortage.calls == 1, "a resting listener is not polled, so its loop cannot spin")
        shortage.fails = { _ in false }
        _ = try Self.turn(gate, now: start + pause)
        #expect(shortage.calls >= 2 && gate.pendingCount == 1, "accepting again after the rest")
    }

    @Test func outOfDescriptorsTheOldestWaitingConnectionMakesRoom() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let gate = try gate(dir)
        let waiting = try (0..<2).map { _ in try UnixSocket.connect(path: gate.path) }
        defer { waiting.forEach(Sys.close) }
        _ = try Self.turn(gate, now: 0)
        #expect(gate.pendingCount == 2)
        // Every other accept fails: each newcomer costs the oldest waiting connection its place.
        let shortage = ShortOfDescriptors()
        shortage.fails = { $0 % 2 == 1 }
        shortage.install(on: gate)
        let newcomers = try (0..<2).map { _ in try UnixSocket.connect(path: gate.path) }
        defer { newcomers.forEach(Sys.close) }
        _ = try Self.turn(gate, now: 0)
        #expect(gate.pendingCount == 2)
        #expect(waiting.allSatisfy(Self.closedByPeer) && !newcomers.contains(where: Self.closedByPeer))
        // The failure after the backlog emptied (the fifth call) closed nobody.
        #expect(shortage.calls == 5)
    }
}
