import Foundation
import Glibc
import Testing
@testable import Runtime

@Suite struct RunDirectoryTests {
    @Test func createsPrivateDirectories() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let run = RunDirectory(path: dir.path + "/a/b/run")
        try run.prepare()
        for p in [dir.path + "/a", run.path, run.logDirectory] {
            let st = try #require(try Sys.lstat(p))
            #expect(st.st_mode & 0o777 == 0o700, "\(p)")
        }
    }

    /// A new run starts with none of the last run's logs, rotated ones included; other files stay.
    @Test func staleLogsAndRotatedLogsAreRemoved() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let run = RunDirectory(path: dir.path + "/run")
        try run.prepare()
        let stale = ["events.log", "events.log.1", "events.log.12", "pipeline.log.3", "infer.2.log"]
        let kept = ["events.log.", "events.log.1x", "notes.txt", "log.1"]
        for name in stale + kept { try Sys.writeFile(run.logDirectory + "/" + name, "x") }
        mkdir(run.logDirectory + "/old.log.2", 0o700)
        run.removeStale()
        #expect(try Sys.listDirectory(run.logDirectory).sorted() == (kept + ["old.log.2"]).sorted())
    }

    @Test func refusesOpenSymlinkedOrFileDirectories() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let open = dir.path + "/open"
        mkdir(open, 0o755)
        chmod(open, 0o755)
        #expect(throws: RunDirectory.Problem.self) { try RunDirectory(path: open).prepare() }
        let link = dir.path + "/link"
        let target = dir.path + "/target"
        mkdir(target, 0o700)
        symlink(target, link)
        do {
            try RunDirectory(path: link).prepare()
            Issue.record("a symlinked run directory was accepted")
        } catch {
            #expect("\(error)".contains("symbolic link"))
        }
        let file = dir.path + "/file"
        try Sys.writeFile(file, "")
        #expect(throws: RunDirectory.Problem.self) { try RunDirectory(path: file).prepare() }
    }

    @Test func secondLockNamesTheFirstHolder() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let run = RunDirectory(path: dir.path + "/run")
        try run.prepare()
        #expect(run.runningPid() == nil)
        let fd = try run.lock()
        defer { Sys.close(fd) }
        #expect(run.runningPid() == getpid())
        // flock locks belong to the open file description: a second open conflicts even in-process.
        do {
            _ = try run.lock()
            Issue.record("second lock succeeded")
        } catch RunDirectory.Problem.alreadyRunning(_, let pid) {
            #expect(pid == getpid())
        }
    }

    @Test func spawnReportsExitStatusAndSignals() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let log = dir.path + "/log"
        let a = try Spawn.start(path: "/bin/sh", arguments: ["sh", "-c", "echo to-log >&2; exit 3"], environment: [], logPath: log)
        #expect(Spawn.wait(a) == .exited(3))
        let b = try Spawn.start(path: "/bin/sh", arguments: ["sh", "-c", "kill -9 $$"], environment: [], logPath: log)
        #expect(Spawn.wait(b) == .signaled(9))
        #expect(String(decoding: try Sys.readFile(log), as: UTF8.self) == "to-log\n")
        #expect(throws: SystemError.self) {
            _ = try Spawn.start(path: dir.path + "/missing", arguments: ["x"], environment: [], logPath: log)
        }
    }
}
