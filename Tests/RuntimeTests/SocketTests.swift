import Foundation
import Glibc
import Messages
import Testing
@testable import Runtime

@Suite struct SocketTests {
    @Test func tooLongPathIsAClearError() {
        let path = "/tmp/" + String(repeating: "x", count: 120) + ".sock"
        #expect(throws: UnixSocket.PathTooLong.self) { _ = try UnixSocket.listen(path: path) }
        do {
            _ = try UnixSocket.connect(path: path)
        } catch {
            #expect("\(error)".contains("over the limit of 100"))
        }
    }

    @Test func listenerIs0600AndPeerIsUs() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/s.sock"
        let listener = try UnixSocket.listen(path: path)
        defer { Sys.close(listener) }
        let st = try #require(try Sys.lstat(path))
        #expect(st.st_mode & 0o777 == 0o600)
        let client = try UnixSocket.connect(path: path)
        defer { Sys.close(client) }
        var accepted: Int32?
        for _ in 0..<100 where accepted == nil {
            var poll = PollSet()
            poll.add(listener)
            try poll.wait(timeoutMillis: 100)
            accepted = try UnixSocket.accept(listener)
        }
        let server = try #require(accepted)
        defer { Sys.close(server) }
        let peer = try UnixSocket.peerCredentials(server)
        #expect(peer.uid == getuid() && peer.pid == getpid())
    }

    @Test func listenReplacesAStaleSocketButNotAFile() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/s.sock"
        Sys.close(try UnixSocket.listen(path: path))
        Sys.close(try UnixSocket.listen(path: path))
        let file = dir.path + "/plain"
        try Sys.writeFile(file, "x")
        #expect(throws: SystemError.self) { _ = try UnixSocket.listen(path: file) }
    }

    /// Upstream and downstream sets in one process: hello, cookie check, credits, join-the-shortest-queue.
    @Test func linksAuthenticateAndHonourCredit() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let sets = try (0..<2).map { i in
            try UpstreamSet(path: "\(dir.path)/d\(i).sock", cookie: "good", expected: .featurize, initialCredits: UInt32(1 + i * 2))
        }
        let sender = DownstreamSet(hello: Hello(purpose: .data, node: .featurize, replica: 1, pid: getpid(), cookie: "good"))
        sender.apply(Membership(generation: 1, members: sets.enumerated().map { i, s in .init(node: .infer, replica: UInt32(i), path: s.path) }))
        let intruder = DownstreamSet(hello: Hello(purpose: .data, node: .featurize, replica: 9, pid: getpid(), cookie: "bad"))
        intruder.apply(Membership(generation: 1, members: [.init(node: .infer, replica: 0, path: sets[0].path)]))
        // Pump until the senders hold the initial credits (1 and 3).
        for _ in 0..<200 where sender.availableCredit < 4 {
            var poll = PollSet()
            let slots = sets.map { $0.register(in: &poll) }
            let senderSlots = sender.register(in: &poll)
            let intruderSlots = intruder.register(in: &poll)
            try poll.wait(timeoutMillis: 20)
            for (s, slot) in zip(sets, slots) { s.handle(poll, slots: slot) }
            sender.handle(poll, slots: senderSlots)
            intruder.handle(poll, slots: intruderSlots)
        }
        #expect(sender.availableCredit == 4)
        #expect(intruder.availableCredit == 0, "a wrong cookie gets no credit")
        // Join the shortest queue: the replica with 3 credits first, then ties alternate.
        let first = try #require(sender.pick())
        #expect(first.member.replica == 1)
        let out = FrameBuffer()
        out.frame(FrameHeader(kind: .errors)) { _ in }
        sender.send(out.bytes, to: first)
        let second = try #require(sender.pick())
        sender.send(out.bytes, to: second)
        let third = try #require(sender.pick())
        sender.send(out.bytes, to: third)
        #expect([second.member.replica, third.member.replica].sorted() == [0, 1])
        let fourth = try #require(sender.pick())
        sender.send(out.bytes, to: fourth)
        #expect(sender.pick() == nil, "no credit left")
    }
}

/// SO_PEERCRED: a connection made by another user is closed at once, before any frame is read.
@Suite struct PeerCredentialTests {
    static var canSwitchUser: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
    }

    @Test(.enabled(if: canSwitchUser, "needs root, setpriv and python3 to connect as another user"))
    func otherUsersAreRefused() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        chmod(dir.path, 0o755)
        let path = dir.path + "/d.sock"
        let listener = try UnixSocket.listen(path: path)
        defer { Sys.close(listener) }
        chmod(path, 0o666)
        // Prints how many bytes came back before the connection ended (a reset counts as none).
        let script = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX)
            s.connect(sys.argv[1])
            try:
                s.sendall(b'x' * 64)
                print(len(s.recv(100)))
            except OSError:
                print(0)
            """
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        child.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script, path]
        let out = Pipe()
        child.standardOutput = out
        try child.run()
        var poll = PollSet()
        poll.add(listener)
        try poll.wait(timeoutMillis: 10_000)
        #expect(try UnixSocket.acceptSameUser(listener, at: path) == nil, "the other user's connection is refused")
        child.waitUntilExit()
        let answer = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(answer == "0\n", "the peer saw the connection closed without a byte")
    }
}
