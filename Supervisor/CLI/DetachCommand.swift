import ControlCore
import Glibc
import PipelineSupervisor
import Runtime

/// `pipeline up -d`: starts `pipeline up` again with the same arguments in a new session (no
/// terminal: stdin and stdout /dev/null, the records through --input and --output), waits
/// until it says every stage is ready, prints where it runs and returns 0. If it ends before
/// that, its error and exit code are ours. (A new process, not a fork: forking a process that
/// may hold threads is not safe.)
enum DetachCommand {
    static func run(_ options: UpOptions) throws(PipelineError) -> ExitCode {
        let executable: String
        let channel: (read: Int32, write: Int32)
        do {
            executable = try Sys.executablePath()
            channel = try Sys.pipe()
        } catch {
            throw PipelineError(.environment, "cannot start a detached pipeline: \(error)")
        }
        // The background run holds nothing of ours but its three streams and the channel: whoever
        // waits for our descriptors to close (a shell's `$(…)`, a test harness) is not kept waiting by it.
        Sys.setCloseOnExec(above: 2)
        let pid: pid_t
        do {
            defer { Sys.close(channel.write) }
            pid = try Spawn.run(path: executable, arguments: [executable, "up"] + options.arguments + ["--detached-child"],
                                environment: Spawn.currentEnvironment(), stdin: .file("/dev/null"), stdout: .file("/dev/null"),
                                newSession: true, passing: [(channel.write, DetachedStarter.descriptor)])
        } catch {
            Sys.close(channel.read)
            throw PipelineError(.environment, "cannot start a detached pipeline: \(error)")
        }
        defer { Sys.close(channel.read) }

        // Until it is ready, or has closed its end (it exited, or failed before it was ready).
        var heard: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: heard, as: UTF8.self).split(separator: "\n").contains("ready") {
            let n = buffer.withUnsafeMutableBytes { (try? Sys.read(channel.read, into: $0.baseAddress!, count: $0.count)) ?? 0 }
            guard n > 0 else { break }
            heard += buffer[0..<n]
        }
        let lines = String(decoding: heard, as: UTF8.self).split(separator: "\n").map(String.init)
        // "run PID NAME RUNDIR", tab-separated, once the run directory is its own.
        let place = lines.first { $0.hasPrefix("run\t") }?.split(separator: "\t", maxSplits: 3).map(String.init)
        let name = place.map { $0[2] } ?? "the pipeline"
        let runDir = place.map { $0[3] }
        if lines.contains("ready") {
            try? Sys.writeAll(1, "started \(name): pid \(pid), run dir \(runDir ?? "?")\n")
            return .ok
        }

        let termination = Spawn.wait(pid)
        // What it said after taking the run directory went to its log: say it here.
        if let runDir, let log = try? Sys.readFile(RunDirectory(path: runDir).supervisorLogPath) {
            let text = String(decoding: log, as: UTF8.self).split(separator: "\n").map { LogLines.splitTime(String($0)).text }
            if !text.isEmpty { try? Sys.writeAll(2, text.joined(separator: "\n") + "\n") }
        }
        switch termination {
        case .exited(0):
            try? Sys.writeAll(1, "\(name) (pid \(pid)) ended before every stage was ready\n")
            return .ok
        case .exited(let code):
            return ExitCode(rawValue: code) ?? .internalError
        case .signaled(let signal):
            throw PipelineError(.internalError, "the detached pipeline (pid \(pid)) \(Spawn.Termination.signaled(signal)) before it was ready")
        case nil:
            throw PipelineError(.internalError, "lost the detached pipeline (pid \(pid)) before it was ready")
        }
    }
}

/// The side of `up -d` in the background process: descriptor 3 leads to the starter, which
/// waits to hear where the run is (`run PID NAME RUNDIR`) and that it is ready (`ready`).
final class DetachedStarter {
    static let descriptor: Int32 = 3

    /// Takes descriptor 3 from the starter.
    /// - Throws: `.usage` when it is not a pipe (`--detached-child` given by hand).
    static func adopt() throws(PipelineError) -> DetachedStarter {
        guard let st = try? Sys.fileStatus(descriptor), st.st_mode & S_IFMT == S_IFIFO else {
            throw PipelineError(.usage, "pipeline up: --detached-child is how `pipeline up -d` starts its background run; use -d")
        }
        // No replica may hold it open (the starter waits for its end), and a starter that went
        // away must not take us with it (SIGPIPE).
        try? Sys.setCloseOnExec(descriptor)
        Sys.ignoreSignal(SIGPIPE)
        return DetachedStarter()
    }

    /// Once the run directory is ours: stderr becomes `<run dir>/logs/pipeline.log` (lines
    /// timed, for `pipeline logs`), and the starter hears where we run.
    func ranIn(_ runDir: RunDirectory, name: String) throws(PipelineError) {
        do {
            let fd = try Sys.open(runDir.supervisorLogPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, mode: 0o600)
            defer { Sys.close(fd) }
            try Sys.duplicate(fd, onto: 2)
        } catch {
            throw PipelineError(.environment, "cannot write the detached pipeline's log: \(error)")
        }
        Log.timestamps = true
        send("run\t\(Sys.processID())\t\(name)\t\(runDir.path)\n")
    }

    /// Every stage has a ready replica: the starter returns.
    func ready() {
        send("ready\n")
        Sys.close(Self.descriptor)
    }

    private func send(_ text: String) {
        try? Sys.writeAll(Self.descriptor, text)
    }
}
