import Foundation
import Glibc
import Testing

/// `pipeline top` through the real binaries: one frame (`--once`, or stdout not a terminal), no
/// pipeline running, and the live view on a terminal (a private tmux server).
@Suite(.serialized) struct TopEndToEndTests {
    /// The stage rows of a frame: stage name → its cells (READY, RECORDS/S, BUSY%, QUEUE p50,
    /// QUEUE p99, RESTARTS, RSS).
    static func stageRows(_ frame: String) -> [String: [String]] {
        let lines = frame.split(separator: "\n").map(String.init)
        guard let header = lines.firstIndex(where: { $0.hasPrefix("STAGE ") }) else { return [:] }
        var rows: [String: [String]] = [:]
        for line in lines[(header + 1)...] {
            let cells = line.split(separator: " ").map(String.init)
            guard cells.count == 8 else { continue }
            rows[cells[0]] = Array(cells.dropFirst())
        }
        return rows
    }

    static let stages = ["ingest", "featurize", "infer", "aggregate"]

    /// Writes 10 records every 50 ms to a running pipeline until stopped: a paced input stream.
    final class Feeder: @unchecked Sendable {
        private let lock = NSLock()
        private var stopping = false
        private let done = DispatchSemaphore(value: 0)

        init(_ run: Running, firstID: Int) {
            Thread.detachNewThread {
                var id = firstID
                while !self.lock.withLock({ self.stopping }) {
                    run.write(Records.jsonl(10, seed: UInt64(id), firstID: id))
                    id += 10
                    usleep(50_000)
                }
                self.done.signal()
            }
        }

        func stop() {
            lock.withLock { stopping = true }
            done.wait()
        }
    }

    @Test func onceShowsEachStageAndFollowsScaling() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config(batchRows: 32))
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--quiet"])
        run.write(Records.jsonl(200))
        #expect(run.waitForLines(200) == 200)

        let first = try pipeline(["top", "--once", "--run-dir", ws.runDir])
        #expect(first.status == 0 && first.err.isEmpty, "\(first.err)")
        let lines = first.lines
        #expect(lines.count == 10, "\(first.out)")
        #expect(lines.allSatisfy { $0.count <= 80 && $0.unicodeScalars.allSatisfy { (0x20..<0x7F).contains($0.value) } })
        #expect(lines.first?.hasPrefix("pipeline \(ws.runDir)  up ") == true, "\(first.out)")
        #expect(lines.dropFirst().first?.hasPrefix("records read 200  written 200  rejected 0  rate ") == true, "\(first.out)")
        // The demo model's version: its file's sha256 prefix.
        #expect(lines.count > 3 && lines[3] == "primary aadff3884d0b (200 records)", "\(first.out)")
        var rows = Self.stageRows(first.out)
        #expect(rows.keys.sorted() == Self.stages.sorted(), "\(first.out)")
        for stage in Self.stages { #expect(rows[stage]?.first == "1/1", "\(stage): \(first.out)") }

        // stdout not a terminal and no --once: the same single frame, no control codes.
        let piped = try pipeline(["top", "--run-dir", ws.runDir, "--interval", "0.1"], seconds: 20)
        #expect(piped.status == 0 && !piped.out.contains("\u{1B}") && piped.lines.count == 10, "\(piped.out)\(piped.err)")
        #expect(Self.stageRows(piped.out)["infer"]?.first == "1/1", "\(piped.out)")

        // With records streaming in, every stage shows a rate.
        let feeder = Feeder(run, firstID: 201)
        var last = ""
        let flowing = waitUntil {
            last = (try? pipeline(["top", "--once", "--run-dir", ws.runDir]).out) ?? ""
            let rows = Self.stageRows(last)
            return Self.stages.allSatisfy { rows[$0].map { $0[1] != "0" && $0[1] != "-" } ?? false }
        }
        #expect(flowing, "\(last)")

        // `scale` answers once the stage has its replicas: top shows them at once.
        let scale = try pipeline(["scale", "--run-dir", ws.runDir, "infer=2"])
        #expect(scale.status == 0, "\(scale.out)\(scale.err)")
        let scaled = try pipeline(["top", "--once", "--run-dir", ws.runDir])
        #expect(scaled.status == 0, "\(scaled.err)")
        rows = Self.stageRows(scaled.out)
        #expect(rows["infer"]?.first == "2/2", "\(scaled.out)")
        for stage in ["ingest", "featurize", "aggregate"] { #expect(rows[stage]?.first == "1/1", "\(stage): \(scaled.out)") }

        feeder.stop()
        let result = run.finish()
        #expect(result.status == 0, "\(result.err)")
        // The run directory is still there, the pipeline is not.
        let after = try pipeline(["top", "--once", "--run-dir", ws.runDir])
        #expect(after.status == 8 && after.out.isEmpty && after.err == "pipeline: error: no pipeline is running in \(ws.runDir)\n",
                "\(after.status) \(after.err)")
    }

    /// A shadow in progress: the versions line names it, the next line has its figures, the
    /// same as `pipeline ps`'s; once aborted, only the primary is left.
    @Test func onceShowsAShadowInProgressAsPsDoes() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config(batchRows: 32))
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--quiet"])
        defer { _ = run.finish() }
        run.write(Records.jsonl(200))
        #expect(run.waitForLines(200) == 200)
        let reply = try pipeline(["rollout", "--run-dir", ws.runDir, Paths.root + "/models/demo_v2.onnx", "--shadow"])
        #expect(reply.status == 0 && reply.out.hasPrefix("shadow 574b9f2ab86c started at input line 201"), "\(reply.out)\(reply.err)")
        run.write(Records.jsonl(300, seed: 2, firstID: 201))
        #expect(run.waitForLines(500) == 500)

        // The figures come from committed batches: wait for the last of them.
        var top = Finished(status: -1, stdout: Data(), stderr: Data())
        let compared = waitUntil {
            top = (try? pipeline(["top", "--once", "--run-dir", ws.runDir])) ?? top
            return top.lines.count > 4 && top.lines[4].hasPrefix("shadow 300 records compared  ")
        }
        #expect(compared && top.status == 0 && top.err.isEmpty, "\(top.out)\(top.err)")
        let ps = try pipeline(["ps", "--run-dir", ws.runDir]).out
        #expect(top.lines.count == 11 && top.lines.allSatisfy { $0.count <= 80 }, "\(top.out)")
        #expect(top.lines[3] == "primary aadff3884d0b (500 records)  shadow 574b9f2ab86c scores every batch too", "\(top.out)")
        #expect(ps.contains("versions: aadff3884d0b primary (500 records), 574b9f2ab86c shadow (0 records)"), "\(ps)")
        // The share of labels that differ and the largest difference: ps's numbers.
        let theirs = try #require(ps.firstMatch(of: #/shadow 574b9f2ab86c: 300 records compared: labels differ on [0-9]+ \(([0-9.]+) %\); largest probability difference ([0-9.e-]+), /#),
                                  "\(ps)")
        #expect(top.lines[4] == "shadow 300 records compared  labels differ \(theirs.1) %  largest difference \(theirs.2)", "\(top.out)\n\(ps)")

        #expect(try pipeline(["rollout", "--run-dir", ws.runDir, "--abort"]).status == 0)
        let after = try pipeline(["top", "--once", "--run-dir", ws.runDir])
        #expect(after.lines.count == 10 && after.lines[3] == "primary aadff3884d0b (500 records)", "\(after.out)")
        #expect(run.finish().status == 0)
    }

    @Test func withoutAPipelineItSaysSoAndExitsEight() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let ps = try pipeline(["ps", "--run-dir", ws.runDir])
        #expect(ps.status == 8)
        for arguments in [["top", "--once", "--run-dir", ws.runDir], ["top", "--run-dir", ws.runDir]] {
            let top = try pipeline(arguments)
            #expect(top.status == 8, "\(arguments)")
            #expect(top.out.isEmpty)
            #expect(top.err == "pipeline: error: no pipeline is running in \(ws.runDir)\n", "\(top.err)")
            #expect(top.err == ps.err, "the same line as `pipeline ps`")
        }
    }

    // MARK: - The live view on a terminal

    /// A private tmux server (its own socket name, no config file) with one session, started by
    /// `init` and killed by `kill()`.
    ///
    /// The client that starts the server is not waited for until the server is gone: the server
    /// forks from it and inherits the socket through which Foundation's `Process` learns that
    /// the client exited, so that `Process` sees the client end only when the server ends.
    final class Tmux {
        static let path: String? = {
            let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            return dirs.map { "\($0)/tmux" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        }()

        let name = "pl-top-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        private var starter: Running?
        private var serverPid: Int32?
        private var socketPath: String?

        /// Starts the server with a `columns` x `rows` session running `command`.
        ///
        /// Spawned with no signal blocked: a child inherits the mask of the thread that spawns it,
        /// and the test threads (libdispatch workers) block nearly every signal. The server and
        /// the shells in its panes would keep them blocked: `kill-server` (a SIGTERM) and the
        /// SIGHUP it sends the panes would do nothing, and `top` would run in a terminal unlike
        /// a user's.
        init(columns: Int, rows: Int, command: String) throws {
            var none = sigset_t()
            var saved = sigset_t()
            sigemptyset(&none)
            pthread_sigmask(SIG_SETMASK, &none, &saved)
            defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
            starter = try Running("/usr/bin/env", Self.prefix(name) + ["new-session", "-d", "-s", name, "-x", "\(columns)",
                                                                        "-y", "\(rows)", command], stdinFile: "/dev/null")
            var server: [String] = []
            let up = waitUntil(seconds: 20) {
                let out = (try? self.run(["display-message", "-p", "-t", self.name, "#{pid} #{socket_path}"]).out) ?? ""
                server = out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ", maxSplits: 1).map(String.init)
                return server.count == 2 && Int32(server[0]) != nil
            }
            if up {
                serverPid = Int32(server[0])
                socketPath = server[1]
            } else {
                kill()
            }
            try #require(up, "the tmux server did not start: \(starter?.stderrText ?? "")")
        }

        /// `env -u TMUX tmux -L NAME -f /dev/null` (without $TMUX, should the tests run in tmux).
        private static func prefix(_ name: String) -> [String] { ["-u", "TMUX", path!, "-L", name, "-f", "/dev/null"] }

        /// Runs a tmux command against this server.
        @discardableResult
        func run(_ arguments: [String]) throws -> Finished {
            try Running("/usr/bin/env", Self.prefix(name) + arguments, stdinFile: "/dev/null").finish(seconds: 20)
        }

        func pane() -> String { (try? run(["capture-pane", "-p", "-t", name]).out) ?? "" }

        /// `#{alternate_on} #{cursor_flag}`: whether the pane shows the alternate screen, and
        /// whether its cursor is visible ("1 0" while top draws, "0 1" on the shell's screen).
        func modes() -> String {
            ((try? run(["display-message", "-p", "-t", name, "#{alternate_on} #{cursor_flag}"]).out) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Kills the server (and with it what still runs in its pane; SIGKILL if `kill-server` does
        /// not do it), then reaps the client that started it.
        func kill() {
            _ = try? run(["kill-server"])
            if let pid = serverPid, !waitUntil(seconds: 10, { Self.gone(pid) }) { Glibc.kill(pid, SIGKILL) }
            // The server leaves its socket file behind.
            if let socketPath { unlink(socketPath) }
            _ = starter?.finish(seconds: 10)
            starter = nil
        }

        /// True when `pid` has exited (the server's parent, init, may leave it a zombie).
        static func gone(_ pid: Int32) -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return true }
            return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
        }
    }

    enum Quit: String, CaseIterable, CustomTestStringConvertible {
        case q, ctrlC, sigterm, runEnds
        var testDescription: String { rawValue }
    }

    /// Starts `pipeline top` in an 80x24 tmux pane (a plain terminal), waits for its frame, ends it `how`, and
    /// checks that it exited 0 and gave the terminal back as it found it: same terminal modes
    /// (`stty -g` before and after), normal screen, visible cursor.
    @Test(.enabled(if: Tmux.path != nil, "tmux is not installed"), arguments: Quit.allCases)
    func theLiveViewQuitsAndRestoresTheTerminal(how: Quit) throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config(batchRows: 32))
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--quiet"])
        defer { _ = run.finish() }
        run.write(Records.jsonl(100))
        #expect(run.waitForLines(100) == 100)

        // The pane runs a shell that records the terminal's modes around `top` (its pid in a file),
        // then keeps the pane open with `read`, a builtin: no process another test might kill.
        let script = ws.write("top.sh", """
            stty -g > '\(ws.path)/stty.before'
            sh -c 'echo $$ > "$0/top.pid"; exec "$1" top --run-dir "$2" --interval 0.2' '\(ws.path)' '\(Paths.pipeline)' '\(ws.runDir)'
            echo "top exited $?"
            stty -g > '\(ws.path)/stty.after'
            read line
            """)
        let tmux = try Tmux(columns: 80, rows: 24, command: "sh '\(script)'")
        defer { tmux.kill() }

        var screen = ""
        let shown = waitUntil(seconds: 30) {
            screen = tmux.pane()
            return screen.contains("STAGE      READY") && screen.contains("aggregate    1/1")
        }
        try #require(shown, "no frame: \(screen)")
        #expect(screen.contains("pipeline \(ws.runDir)  up "), "\(screen)")
        #expect(screen.contains("records read 100  written 100  rejected 0"), "\(screen)")
        // Nothing wrapped: every stage row whole on its own line.
        for stage in ["ingest", "featurize", "infer", "aggregate"] {
            #expect(screen.split(separator: "\n").contains { $0.hasPrefix(stage) && $0.split(separator: " ").count == 8 }, "\(stage): \(screen)")
        }
        #expect(!screen.contains("top exited"))
        #expect(tmux.modes() == "1 0", "alternate screen, cursor hidden: \(tmux.modes())")
        let pid = try #require(Int32(try String(contentsOfFile: ws.path + "/top.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))

        switch how {
        case .q: try tmux.run(["send-keys", "-t", tmux.name, "q"])
        case .ctrlC: try tmux.run(["send-keys", "-t", tmux.name, "C-c"])
        case .sigterm: #expect(kill(pid, SIGTERM) == 0)
        case .runEnds:
            let result = run.finish()
            #expect(result.status == 0, "\(result.err)")
        }

        let exited = waitUntil(seconds: 30) {
            screen = tmux.pane()
            return screen.contains("top exited")
        }
        #expect(exited, "still running: \(screen)")
        #expect(screen.contains("top exited 0"), "\(screen)")
        #expect(kill(pid, 0) == -1 && errno == ESRCH, "the process is gone")
        if how == .runEnds {
            #expect(screen.contains("pipeline: the run ended\ntop exited 0"), "\(screen)")
        } else {
            #expect(!screen.contains("the run ended"), "\(screen)")
        }
        // Back on the shell's screen, where the frame never was.
        #expect(!screen.contains("STAGE"), "\(screen)")
        #expect(tmux.modes() == "0 1", "normal screen, cursor shown: \(tmux.modes())")
        let before = try String(contentsOfFile: ws.path + "/stty.before", encoding: .utf8)
        var after = ""
        #expect(waitUntil(seconds: 10) {
            after = (try? String(contentsOfFile: ws.path + "/stty.after", encoding: .utf8)) ?? ""
            return !after.isEmpty
        })
        #expect(!before.isEmpty && after == before, "terminal modes: \(before) then \(after)")
    }
}
