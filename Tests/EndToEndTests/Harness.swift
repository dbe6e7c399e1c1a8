import Foundation
import Glibc

/// Paths of the things the end-to-end tests run and read.
enum Paths {
    /// The package's root directory.
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The directory holding the built executables (next to the test bundle).
    static let binaries: String = {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    }()

    static var pipeline: String { binaries + "/pipeline" }
    static var demoModel: String { root + "/models/demo.onnx" }
}

/// A fresh directory under /tmp (short, so socket paths fit), removed by `remove()`.
struct Workspace {
    let path: String

    init() {
        var template = Array("/tmp/pl-e2e-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    var runDir: String { path + "/run" }

    func write(_ name: String, _ text: String) -> String {
        let p = path + "/" + name
        precondition(FileManager.default.createFile(atPath: p, contents: Data(text.utf8)))
        return p
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The result of a finished command.
struct Finished {
    var status: Int32
    var stdout: Data
    var stderr: Data
    var out: String { String(decoding: stdout, as: UTF8.self) }
    var err: String { String(decoding: stderr, as: UTF8.self) }
    var lines: [String] { out.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
}

/// A running `pipeline` (or other) process with its stdin as a pipe and stdout/stderr collected
/// by background readers.
final class Running: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private let lock = NSCondition()
    private var stdoutData = Data()
    private var stdoutLines = 0
    private var stderrData = Data()
    private var openStreams = 2
    private var exited = false

    /// Microseconds to wait between reads of stdout (a slow consumer); 0 reads as fast as it can.
    private let readPauseMicros: UInt32

    init(_ executable: String, _ arguments: [String], stdinFile: String? = nil, environment: [String: String] = [:],
         directory: String? = nil, readPauseMicros: UInt32 = 0) throws {
        self.readPauseMicros = readPauseMicros
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let stdinFile {
            process.standardInput = FileHandle(forReadingAtPath: stdinFile)
        } else {
            process.standardInput = input
        }
        process.standardOutput = output
        process.standardError = errors
        process.terminationHandler = { [weak self] _ in
            guard let self else { return }
            self.lock.lock()
            self.exited = true
            self.lock.broadcast()
            self.lock.unlock()
        }
        try process.run()
        collect(output.fileHandleForReading, isStdout: true)
        collect(errors.fileHandleForReading, isStdout: false)
    }

    private func collect(_ handle: FileHandle, isStdout: Bool) {
        let pause = isStdout ? readPauseMicros : 0
        Thread.detachNewThread {
            while true {
                // A slow consumer: read at most 64 KiB, then pause (shapes the load; it waits on nothing).
                let chunk = pause > 0 ? handle.readData(ofLength: 64 << 10) : handle.availableData
                if pause > 0 { usleep(pause) }
                self.lock.lock()
                if chunk.isEmpty {
                    self.openStreams -= 1
                    self.lock.broadcast()
                    self.lock.unlock()
                    return
                }
                if isStdout {
                    self.stdoutData.append(chunk)
                    self.stdoutLines += chunk.withUnsafeBytes { $0.reduce(0) { $0 + ($1 == 10 ? 1 : 0) } }
                } else {
                    self.stderrData.append(chunk)
                }
                self.lock.broadcast()
                self.lock.unlock()
            }
        }
    }

    func write(_ text: String) {
        input.fileHandleForWriting.write(Data(text.utf8))
    }

    func write(_ data: Data) {
        input.fileHandleForWriting.write(data)
    }

    func closeInput() {
        try? input.fileHandleForWriting.close()
    }

    var pid: Int32 { process.processIdentifier }

    /// Lines of stdout received so far.
    var lineCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return stdoutLines
    }

    /// Bytes of stdout received so far.
    var stdoutCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return stdoutData.count
    }

    var stdoutText: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: stdoutData, as: UTF8.self)
    }

    var stderrText: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: stderrData, as: UTF8.self)
    }

    /// Waits (up to `seconds`) until stdout holds at least `count` lines; returns them.
    func waitForLines(_ count: Int, seconds: Double = 60) -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        lock.lock()
        defer { lock.unlock() }
        while stdoutData.reduce(0, { $0 + ($1 == 10 ? 1 : 0) }) < count && !(exited && openStreams == 0) {
            if !lock.wait(until: deadline) { break }
        }
        return stdoutData.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
    }

    /// Waits (up to `seconds`) for the process to end on its own, stdin left open; true if it did.
    func waitForExit(seconds: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        lock.lock()
        defer { lock.unlock() }
        while !exited {
            if !lock.wait(until: deadline) { return exited }
        }
        return true
    }

    /// Waits for the process to exit and its output to be read; kills it after `seconds`.
    func finish(seconds: Double = 120) -> Finished {
        closeInput()
        let deadline = Date().addingTimeInterval(seconds)
        lock.lock()
        while !(exited && openStreams == 0) {
            if !lock.wait(until: deadline) {
                lock.unlock()
                kill(process.processIdentifier, SIGKILL)
                lock.lock()
                while !(exited && openStreams == 0) { lock.wait() }
                break
            }
        }
        let result = Finished(status: process.terminationStatus, stdout: stdoutData, stderr: stderrData)
        lock.unlock()
        return result
    }
}

/// True when two outputs are byte-identical. (An `#expect(a == b)` on large data that fails
/// makes the test library compute their difference, which takes hours for megabytes.)
func same(_ a: Data, _ b: Data) -> Bool { a == b }

/// Runs `pipeline` with `arguments` to completion, stdin from `stdinFile` (or empty), in
/// `directory` (or the tests' own) with `environment` added to the tests' own.
func pipeline(_ arguments: [String], stdinFile: String? = nil, environment: [String: String] = [:], directory: String? = nil,
              seconds: Double = 120) throws -> Finished {
    let r = try Running(Paths.pipeline, arguments, stdinFile: stdinFile ?? "/dev/null", environment: environment, directory: directory)
    return r.finish(seconds: seconds)
}

/// Waits until `condition` holds, checking every 20 ms, for at most `seconds`; returns whether it held.
@discardableResult
func waitUntil(seconds: Double = 30, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline { return false }
        usleep(20_000)
    }
    return true
}

/// The pids of `stage`'s replicas of the pipeline running in `runDir`.
func replicaPids(_ runDir: String, _ stage: String) -> [Int32] {
    processes(mentioning: "/\(stage) --control \(runDir)/control.sock")
}

/// Resident memory of a process in bytes (0 if it is gone).
func residentBytes(_ pid: Int32) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}

/// The file offset of a process's descriptor `fd` (how far it has read its stdin).
func fileOffset(_ pid: Int32, fd: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(fd)", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("pos:") }) else { return nil }
    return Int(line.dropFirst(4).trimmingCharacters(in: .whitespaces))
}

/// The children of `parent` that have exited and not been reaped (state Z in /proc/PID/stat).
func zombieChildren(of parent: Int32) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap { name -> Int32? in
        guard let pid = Int32(name), let data = FileManager.default.contents(atPath: "/proc/\(name)/stat") else { return nil }
        // "pid (comm) state ppid …": the command may hold spaces and parentheses; read after the last ')'.
        let text = String(decoding: data, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 1, fields[0] == "Z", Int32(fields[1]) == parent else { return nil }
        return pid
    }
}

/// The end-of-run summary line's counts ("N records read, M written, R rejected" and the
/// predicted classes), without its timing.
func runSummary(_ stderr: String) -> String? {
    guard let line = stderr.split(separator: "\n").last(where: { $0.contains(" records read, ") }),
          let timing = line.range(of: " in "), let rest = line.range(of: "records/s)", range: timing.upperBound..<line.endIndex)
    else { return nil }
    return String(line[..<timing.lowerBound] + line[rest.upperBound...])
}

/// Processes whose command line mentions `marker` (to prove none are left behind), optionally
/// only those running `executable` (argv[0]).
func processes(mentioning marker: String, executable: String? = nil) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap { name -> Int32? in
        guard let pid = Int32(name), let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
        if let executable, data.split(separator: 0).first.map({ String(decoding: $0, as: UTF8.self) }) != executable { return nil }
        let text = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        return text.contains(marker) ? pid : nil
    }
}

/// True once `pid` has exited (gone, or a zombie nobody has reaped yet: a detached run's parent
/// is init, or a test that has not waited).
func processGone(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return true }
    return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
}
