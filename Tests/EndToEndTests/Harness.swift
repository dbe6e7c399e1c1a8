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
    private var stderrData = Data()
    private var openStreams = 2
    private var exited = false

    init(_ executable: String, _ arguments: [String], stdinFile: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
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
        Thread.detachNewThread {
            while true {
                let chunk = handle.availableData
                self.lock.lock()
                if chunk.isEmpty {
                    self.openStreams -= 1
                    self.lock.broadcast()
                    self.lock.unlock()
                    return
                }
                if isStdout { self.stdoutData.append(chunk) } else { self.stderrData.append(chunk) }
                self.lock.broadcast()
                self.lock.unlock()
            }
        }
    }

    func write(_ text: String) {
        input.fileHandleForWriting.write(Data(text.utf8))
    }

    func closeInput() {
        try? input.fileHandleForWriting.close()
    }

    var pid: Int32 { process.processIdentifier }

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

/// Runs `pipeline` with `arguments` to completion, stdin from `stdinFile` (or empty).
func pipeline(_ arguments: [String], stdinFile: String? = nil, seconds: Double = 120) throws -> Finished {
    let r = try Running(Paths.pipeline, arguments, stdinFile: stdinFile ?? "/dev/null")
    return r.finish(seconds: seconds)
}

/// Processes whose command line mentions `marker` (to prove none are left behind).
func processes(mentioning marker: String) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap { name -> Int32? in
        guard let pid = Int32(name), let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
        let text = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        return text.contains(marker) ? pid : nil
    }
}
