import ControlCore
import Glibc
import Messages
import PipelineSupervisor
import Runtime

/// `pipeline top`: a live view of a running pipeline, one frame per interval.
///
/// Two ways to show it, chosen once:
/// - `--once`, or stdout not a terminal (a pipe, a file) or `TERM=dumb`: one frame as plain
///   text, then exit 0 (scripts, tests; no control codes, no keys);
/// - a terminal: the frame redrawn in place on the alternate screen, keys read raw from stdin
///   (when it is a terminal): `q` or Ctrl-C quit, Ctrl-Z suspends, Ctrl-L redraws.
///
/// When the pipeline ends, the view closes and one line says so (exit 0). The terminal is put
/// back on every way out: keys, signals (SIGINT, SIGTERM, SIGHUP), the pipeline's end, errors.
/// No pipeline in the run directory: `.notRunning` (exit 8), with `pipeline ps`'s message.
enum TopCommand {
    /// How long the first answer may take before the pipeline counts as not running.
    static let firstAnswerMillis: Int32 = 10_000
    /// The last line, after the view closed because the supervisor went away.
    static let endedLine = "pipeline: the run ended\n"

    static func run(_ options: TopOptions) throws(PipelineError) -> ExitCode {
        let client = try StatusClient(options.target)
        let first = try client.fetch(timeoutMillis: firstAnswerMillis)
        let runDirectory = client.runDirectory.path
        let term = getenv("TERM").map { String(cString: $0) } ?? ""
        let onTerminal = Sys.isTerminal(1) && term != "dumb"

        // A reader that went away (`| head`, a closed terminal) ends top quietly: never by
        // SIGPIPE, which would leave a raw terminal raw.
        Sys.ignoreSignal(SIGPIPE)
        if options.once || !onTerminal {
            let width = onTerminal ? Sys.terminalSize(1)?.columns ?? 80 : 80
            try output(TopView.lines(first, runDirectory: runDirectory, width: width).joined(separator: "\n") + "\n")
            return .ok
        }

        let signals: Int32
        do {
            signals = try SignalPipe.install([SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGCONT])
        } catch {
            throw PipelineError(.internalError, "cannot install signal handlers: \(error)")
        }
        let view = TopLoop.View.takeTerminal()
        let loop = TopLoop(client: client, runDirectory: runDirectory, interval: options.intervalSeconds, signals: signals)
        let end: TopLoop.End
        do {
            defer { view.close() }
            end = try loop.run(first, view: view)
        }
        if end == .stopped { try output(endedLine) }
        return .ok
    }

    /// Writes to stdout; false when its reader has gone (EPIPE), which ends the view quietly.
    /// - Throws: `PipelineError` (`.io`) when stdout fails otherwise.
    @discardableResult
    static func output(_ text: String) throws(PipelineError) -> Bool {
        do {
            try Sys.writeAll(1, text)
            return true
        } catch {
            if error.errno == EPIPE { return false }
            throw PipelineError(.io, "writing stdout: \(error.reason)")
        }
    }
}

/// The interval loop of `pipeline top`: asks for a snapshot every interval, shows each answer,
/// and reacts to keys and signals meanwhile. One poll waits on all of them, so keys work even
/// while the supervisor is slow to answer (a request is never sent while one is unanswered).
struct TopLoop {
    enum End: Equatable {
        /// `q`, Ctrl-C, a signal, or the reader of stdout went away.
        case quit
        /// The supervisor closed the connection: the run is over.
        case stopped
    }

    /// Where frames go: the terminal, redrawn in place; keys from stdin when it is a terminal.
    struct View {
        let keys: RawTerminal?

        /// Sets the terminal up for drawing: raw keys from stdin when it is a terminal (else,
        /// or if that fails, the view works without keys), the alternate screen.
        /// - Important: `close()` it on every way out.
        static func takeTerminal() -> View {
            let keys = Sys.isTerminal(0) ? try? RawTerminal(0) : nil
            // A failure to write shows at the first frame.
            _ = try? TopCommand.output(TopScreen.enter)
            return View(keys: keys)
        }

        /// Draws a frame at the terminal's current size; false when the terminal has gone.
        func show(_ s: StatusSnapshot, runDirectory: String) throws(PipelineError) -> Bool {
            let size = Sys.terminalSize(1) ?? (80, 24)
            let lines = TopView.lines(s, runDirectory: runDirectory, width: size.columns, height: size.rows)
            return try TopCommand.output(TopScreen.frame(lines, width: size.columns, height: size.rows))
        }

        /// Puts the terminal back as it was.
        func close() {
            _ = try? TopCommand.output(TopScreen.leave)
            _ = try? keys?.restore()
        }

        /// Hands the terminal back to the shell and stops this process (Ctrl-Z); when it is
        /// continued (`fg`), takes the terminal again.
        func suspend() throws(PipelineError) {
            close()
            Sys.kill(Sys.processID(), SIGTSTP)
            try resume()
        }

        /// Takes the terminal again after the process was stopped and continued: the shell set
        /// its own modes meanwhile.
        func resume() throws(PipelineError) {
            _ = try? keys?.enter()
            _ = try TopCommand.output(TopScreen.enter)
        }
    }

    let client: StatusClient
    let runDirectory: String
    let intervalNanos: UInt64
    let signals: Int32

    init(client: StatusClient, runDirectory: String, interval: Double, signals: Int32) {
        self.client = client
        self.runDirectory = runDirectory
        self.intervalNanos = UInt64(interval * 1e9)
        self.signals = signals
    }

    /// Shows `first`, then a snapshot every interval, until the view ends.
    func run(_ first: StatusSnapshot, view: View) throws(PipelineError) -> End {
        var last = first
        guard try view.show(last, runDirectory: runDirectory) else { return .quit }
        var keys = view.keys
        var waiting = false
        var next = Sys.monotonicNanos() + intervalNanos
        var poll = PollSet()
        while true {
            let now = Sys.monotonicNanos()
            if !waiting && now >= next {
                do { try client.request() } catch { return .stopped }
                waiting = true
                next += intervalNanos
                if next <= now { next = now + intervalNanos }
            }
            poll.removeAll()
            let signalSlot = poll.add(signals)
            let keySlot = keys.map { poll.add($0.fd) }
            let clientSlot = poll.add(client.fd, read: true, write: client.wantsWrite)
            do {
                try poll.wait(timeoutMillis: waiting ? -1 : Int32((next - min(next, now) + 999_999) / 1_000_000))
            } catch {
                throw PipelineError(.internalError, "poll: \(error)")
            }

            if poll.readable(signalSlot) {
                for signal in SignalPipe.drain() {
                    switch signal {
                    case SIGWINCH:
                        guard try view.show(last, runDirectory: runDirectory) else { return .quit }
                    case SIGCONT:
                        try view.resume()
                        guard try view.show(last, runDirectory: runDirectory) else { return .quit }
                    default:
                        return .quit
                    }
                }
            }
            if let keySlot, let fd = keys?.fd, poll.readable(keySlot) {
                switch readKeys(fd) {
                case nil:
                    // End of input or an error: the terminal hung up (SIGHUP follows), or stdin
                    // is unusable. The view goes on without keys.
                    keys = nil
                case let bytes?:
                    for byte in bytes {
                        switch Key(byte) {
                        case .quit: return .quit
                        case .suspend:
                            try view.suspend()
                            guard try view.show(last, runDirectory: runDirectory) else { return .quit }
                        case .redraw:
                            guard try TopCommand.output("\u{1B}[2J"), try view.show(last, runDirectory: runDirectory) else { return .quit }
                        case .other: break
                        }
                    }
                }
            }
            if poll.writable(clientSlot) && client.wantsWrite {
                do { try client.flush() } catch { return .stopped }
            }
            if poll.readable(clientSlot) {
                let (snapshots, closed) = try client.receive()
                if let s = snapshots.last {
                    last = s
                    waiting = false
                    guard try view.show(last, runDirectory: runDirectory) else { return .quit }
                }
                if closed { return .stopped }
            }
        }
    }

    /// The bytes waiting on the terminal (none if they are gone); nil at end of input or on an
    /// error.
    private func readKeys(_ fd: Int32) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 64)
        var count: Int?
        var failed = false
        buffer.withUnsafeMutableBytes { raw in
            // Timeout 0: poll said readable, but the descriptor blocks: never wait here.
            do { count = try Sys.read(fd, into: raw.baseAddress!, count: raw.count, timeoutMillis: 0) } catch { failed = true }
        }
        if failed { return nil }
        guard let count else { return [] }
        return count > 0 ? Array(buffer[0..<count]) : nil
    }

    /// What a key does.
    enum Key: Equatable {
        case quit, suspend, redraw, other

        init(_ byte: UInt8) {
            switch byte {
            case UInt8(ascii: "q"), UInt8(ascii: "Q"), 3, 28: self = .quit   // Ctrl-C, Ctrl-\ (signal keys are off)
            case 26: self = .suspend                                          // Ctrl-Z
            case 12: self = .redraw                                           // Ctrl-L
            default: self = .other
            }
        }
    }
}
