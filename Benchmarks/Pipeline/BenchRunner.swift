import Glibc
import PipelineSupervisor
import Config
import Engine
import InferStage
import Runtime

/// Runs the things `pipeline bench` measures, each as a user would: `pipeline up` as a child
/// process, the four stages fused in this process, the Python baseline, onnxruntime.
final class BenchRunner {
    /// What one `pipeline up` run cost.
    struct ProcessRun {
        var seconds: Double
        var records: Int
        /// CPU seconds per stage (all its replicas) and of the supervisor.
        var stageCPU: [StageKind: Double]
        var supervisorCPU: Double
        /// The parts of those spent in the kernel.
        var stageSystem: [StageKind: Double] = [:]
        var supervisorSystem: Double = 0
        var stageRSS: [StageKind: Int]
        var supervisorRSS: Int
        var totalCPU: Double { stageCPU.values.reduce(supervisorCPU, +) }
    }

    let executable: String
    let work: String
    let root: String
    let environment = Spawn.currentEnvironment()

    init(work: String, root: String) throws {
        guard let executable = try? Sys.executablePath() else {
            throw PipelineError(.environment, "cannot find the pipeline executable")
        }
        self.executable = executable
        self.work = work
        self.root = root
    }

    static func now() -> Double { Double(Sys.monotonicNanos()) / 1e9 }

    static func threadCPU() -> UInt64 { Sys.threadCPUNanos() }

    /// Runs `pipeline up` on `input`; `scales` like ["infer=2"]; `options` more flags of `up`;
    /// `during` runs on its own thread while `up` does, with the path of `up`'s stderr; it must
    /// end by itself once `up` has.
    /// `environment`: variables set for this run on top of the bench's own.
    func processes(config: String, input: String, output: String, scales: [String], options: [String] = [],
                   environment extra: [String: String] = [:], during: ((String) -> Void)? = nil) throws -> ProcessRun {
        let stats = work + "/stats.json"
        var args = [executable, "up", "-f", config, "--run-dir", work + "/run", "--stats", stats] + options
        for s in scales { args += ["--scale", s] }
        let errors = work + "/up.err"
        try? Sys.unlink(errors)
        let start = Self.now()
        let variables = environment.filter { entry in !extra.keys.contains { entry.hasPrefix($0 + "=") } } + extra.map { "\($0)=\($1)" }
        let pid = try Spawn.run(path: executable, arguments: args, environment: variables, stdin: .file(input),
                                stdout: .file(output), stderr: .file(errors))
        let helper = during.map { body in Sys.startThread { body(errors) } }
        let waited = Spawn.waitWithUsage(pid)
        let seconds = Self.now() - start  // not counting the helper's last wait to notice the end
        if let helper { Sys.joinThread(helper) }
        guard let (termination, _) = waited, termination == .exited(0) else {
            let log = (try? Sys.readFile(errors)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            throw PipelineError(.internalError, "bench: pipeline up failed: \(log)")
        }
        let text = String(decoding: try Sys.readFile(stats), as: UTF8.self)
        var run = ProcessRun(seconds: seconds, records: Int(JSONScan.number(text, ["records_read"]) ?? 0), stageCPU: [:],
                             supervisorCPU: JSONScan.number(text, ["supervisor", "cpu_seconds"]) ?? 0, stageRSS: [:],
                             supervisorRSS: Int(JSONScan.number(text, ["supervisor", "max_rss_bytes"]) ?? 0))
        run.supervisorSystem = JSONScan.number(text, ["supervisor", "system_seconds"]) ?? 0
        for stage in StageKind.allCases {
            run.stageCPU[stage] = JSONScan.number(text, ["stages", stage.rawValue, "cpu_seconds"]) ?? 0
            run.stageSystem[stage] = JSONScan.number(text, ["stages", stage.rawValue, "system_seconds"]) ?? 0
            run.stageRSS[stage] = Int(JSONScan.number(text, ["stages", stage.rawValue, "max_rss_bytes"]) ?? 0)
        }
        return run
    }

    /// The four stages in this process over the input file `input`, read with read(2) in 1 MiB
    /// pieces and the output written to a file with write(2) batch by batch, as `pipeline up`
    /// reads stdin and writes stdout: seconds, CPU seconds per stage, in all (cutting the input
    /// into batches and the I/O included) and in the I/O alone, and, with `keepOutput`, the
    /// output (read back afterwards; empty otherwise).
    func fused(config: PipelineConfig, input: String, outputName: String = "fused.out", keepOutput: Bool = false) throws
        -> (seconds: Double, stageCPU: [Double], cpu: Double, ioCPU: Double, output: [UInt8]) {
        var pipeline = try FusedPipeline(config: config)
        let outputPath = work + "/" + outputName
        let inputFD = try Sys.open(input, O_RDONLY)
        defer { Sys.close(inputFD) }
        let outputFD = try Sys.open(outputPath, O_WRONLY | O_CREAT | O_TRUNC)
        defer { Sys.close(outputFD) }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { chunk.deallocate() }
        var ioNanos: UInt64 = 0
        let start = Self.now()
        let cpuStart = Self.threadCPU()
        _ = try pipeline.run(read: {
            let t = Self.threadCPU()
            defer { ioNanos += Self.threadCPU() - t }
            guard let n = try Sys.read(inputFD, into: chunk.baseAddress!, count: chunk.count), n > 0 else { return nil }
            return UnsafeRawBufferPointer(rebasing: chunk[0..<n])
        }, write: { bytes in
            let t = Self.threadCPU()
            defer { ioNanos += Self.threadCPU() - t }
            try Sys.writeAll(outputFD, bytes)
        }, clock: Self.threadCPU)
        let cpu = Double(Self.threadCPU() - cpuStart) / 1e9
        let seconds = Self.now() - start
        let output = keepOutput ? try Sys.readFile(outputPath, limit: 1 << 40) : []
        return (seconds, pipeline.stageNanos.map { Double($0) / 1e9 }, cpu, Double(ioNanos) / 1e9, output)
    }

    /// Two fused runs at once, on two threads (every core of a 2-core machine busy, as the
    /// processes keep them): the CPU per record of each, in all. What the machine charges for
    /// running two things at once (shared caches, memory, the hypervisor), which a fused run
    /// alone never pays and the processes always do.
    func fusedSideBySide(config: PipelineConfig, input: String) throws -> [Double] {
        nonisolated(unsafe) var results: [Double?] = [nil, nil]
        nonisolated(unsafe) var failure: (any Error)?
        let threads = (0..<2).map { k in
            Sys.startThread {
                do {
                    results[k] = try self.fused(config: config, input: input, outputName: "fused-\(k).out").cpu
                } catch {
                    failure = error
                }
            }
        }
        for thread in threads { Sys.joinThread(thread) }
        if let failure { throw failure }
        return results.compactMap { $0 }
    }

    /// The seconds of a Python baseline (`script`, relative to the root), or nil when Python
    /// or its packages are missing.
    func python(_ script: String, config: String, input: String, output: String) -> Double? {
        let script = root + "/" + script
        let start = Self.now()
        guard let pid = try? Spawn.run(path: "/usr/bin/env", arguments: ["env", "python3", script, config, input, output],
                                       environment: environment, stdout: .file(work + "/py.out"), stderr: .file(work + "/py.err")),
              let (termination, _) = Spawn.waitWithUsage(pid), termination == .exited(0) else { return nil }
        return Self.now() - start
    }

    /// True when python3 can import every module in `modules`.
    func pythonHas(_ modules: [String]) -> Bool {
        guard let pid = try? Spawn.run(path: "/usr/bin/env", arguments: ["env", "python3", "-c", "import " + modules.joined(separator: ", ")],
                                       environment: environment, stdout: .file("/dev/null"), stderr: .file("/dev/null")),
              let (termination, _) = Spawn.waitWithUsage(pid) else { return false }
        return termination == .exited(0)
    }

    /// onnxruntime's rows/s on `model` (one thread, batch `batch`), or nil without it. With
    /// `check`, it runs on those rows and returns what it computed for that output.
    func onnxruntime(model: String, batch: Int, seconds: Double,
                     check: (input: [Float], output: String)? = nil) -> (rate: Double, output: [Float]?)? {
        let out = work + "/ort.out", inputFile = work + "/ort.in", outputFile = work + "/ort.values"
        var arguments = ["env", "python3", root + "/" + BenchFiles.onnxruntimeKernel, model, "\(batch)", "\(seconds)"]
        if let check {
            let bytes = check.input.flatMap { value -> [UInt8] in
                let bits = value.bitPattern
                return [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                        UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)]
            }
            guard (try? Sys.writeFile(inputFile, bytes)) != nil else { return nil }
            arguments += [inputFile, check.output, outputFile]
        }
        guard let pid = try? Spawn.run(path: "/usr/bin/env", arguments: arguments,
                                       environment: environment, stdout: .file(out), stderr: .file(work + "/ort.err")),
              let (termination, _) = Spawn.waitWithUsage(pid), termination == .exited(0),
              let text = try? Sys.readFile(out),
              let rate = Double(String(decoding: text, as: UTF8.self).split(separator: "\n").first ?? "") else { return nil }
        guard check != nil, let bytes = try? Sys.readFile(outputFile) else { return (rate, nil) }
        let values = bytes.withUnsafeBytes { raw in (0..<(bytes.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        return (rate, values)
    }

    /// Our engine's rows/s on `model` (this thread, batch `batch`), random input: the best of 10
    /// repetitions of thread CPU time (the machine is shared; the best repetition is the one
    /// least disturbed), as Benchmarks/python/ort_kernel.py measures onnxruntime; and the input rows,
    /// the output's name and what we computed on them.
    func ourEngine(model: String, batch: Int, seconds: Double) throws -> (rate: Double, input: [Float], output: String, values: [Float]) {
        var session = try InferenceSession(model: try OnnxModel.load(path: model), maxBatch: batch)
        var rng = BenchRandom(seed: 1)
        let input = (0..<(batch * session.inputWidth)).map { _ in Float(rng.gaussian()) }
        var output = [Float](repeating: 0, count: batch * session.outputWidth)
        var best = 0.0
        try input.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBufferPointer { y in
                func call() throws { try session.run(rows: batch, input: x.baseAddress!, output: y.baseAddress!) }
                // Calls per repetition: about a tenth of the time allowed.
                var calls = 1
                let start = Self.threadCPU()
                for _ in 0..<3 { try call() }
                let each = max(Double(Self.threadCPU() - start) / 3e9, 1e-7)
                calls = max(1, Int(seconds / 10 / each))
                for _ in 0..<10 {
                    let t0 = Self.threadCPU()
                    for _ in 0..<calls { try call() }
                    best = max(best, Double(calls * batch) / (Double(Self.threadCPU() - t0) / 1e9))
                }
            }
        }
        return (best, input, session.outputName, output)
    }
}

/// Reads numbers out of the small JSON documents this program writes itself (`--stats`).
enum JSONScan {
    /// The number at `path` (object keys), or nil.
    static func number(_ text: String, _ path: [String]) -> Double? {
        var rest = Substring(text)
        for key in path {
            guard let range = rest.firstRange(of: "\"\(key)\":") else { return nil }
            rest = rest[range.upperBound...]
        }
        let digits = rest.prefix { "0123456789.eE+-".contains($0) }
        return Double(digits)
    }

    /// The string value of `key` (without escapes), or nil.
    static func string(_ text: String, _ key: String) -> String? {
        guard let range = text.firstRange(of: "\"\(key)\":\"") else { return nil }
        return String(text[range.upperBound...].prefix { $0 != "\"" })
    }
}
