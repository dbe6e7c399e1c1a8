import PipelineSupervisor
import Config
import Glibc
import Runtime

/// Measurements that talk to a running `pipeline up` through pipes: latency of trickling
/// records, time to first output, idle memory.
extension BenchRunner {
    /// A `pipeline up` whose stdin and stdout are pipes held by this process.
    final class Live {
        let pid: pid_t
        let input: Int32
        let output: Int32
        let runDirectory: String
        private var pending: [UInt8] = []

        init(_ runner: BenchRunner, config: String, name: String, scales: [String] = []) throws {
            let inPipe = try Sys.pipe(), outPipe = try Sys.pipe()
            runDirectory = runner.work + "/" + name
            var args = [runner.executable, "up", "-f", config, "--run-dir", runDirectory]
            for s in scales { args += ["--scale", s] }
            pid = try Spawn.run(path: runner.executable, arguments: args, environment: runner.environment,
                                stdin: .descriptor(inPipe.read), stdout: .descriptor(outPipe.write),
                                stderr: .file(runner.work + "/" + name + ".err"))
            Sys.close(inPipe.read)
            Sys.close(outPipe.write)
            input = inPipe.write
            output = outPipe.read
        }

        func send(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try Sys.writeAll(input, $0) }
        }

        /// Waits (up to `timeout` seconds) for the next output line.
        func nextLine(timeout: Double = 10) throws -> [UInt8]? {
            let deadline = BenchRunner.now() + timeout
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                if let nl = pending.firstIndex(of: 10) {
                    let line = Array(pending[..<nl])
                    pending.removeFirst(nl + 1)
                    return line
                }
                let left = deadline - BenchRunner.now()
                guard left > 0 else { return nil }
                var poll = PollSet()
                poll.add(output)
                try poll.wait(timeoutMillis: Int32(left * 1000) + 1)
                guard let n = try? chunk.withUnsafeMutableBytes({ try Sys.read(output, into: $0.baseAddress!, count: $0.count) }),
                      n > 0 else { return nil }
                pending += chunk[0..<n]
            }
        }

        /// Closes stdin and waits for the run to end.
        func finish() -> Spawn.Termination? {
            Sys.close(input)
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            while let n = try? chunk.withUnsafeMutableBytes({ try Sys.read(output, into: $0.baseAddress!, count: $0.count) }), n > 0 {}
            Sys.close(output)
            return Spawn.waitWithUsage(pid)?.termination
        }

        /// Resident memory of each replica, by stage.
        func replicaRSS() -> [(StageKind, Int)] {
            var out: [(StageKind, Int)] = []
            let marker = "--control\0\(runDirectory)/control.sock"
            for name in (try? Sys.listDirectory("/proc")) ?? [] {
                guard Int32(name) != nil, let cmd = try? Sys.readFile("/proc/\(name)/cmdline", limit: 4096) else { continue }
                let text = String(decoding: cmd, as: UTF8.self)
                guard text.contains(marker), let exe = text.split(separator: "\0").first,
                      let stage = StageKind(rawValue: String(exe.split(separator: "/").last ?? "")) else { continue }
                if let statm = try? Sys.readFile("/proc/\(name)/statm", limit: 256),
                   let pages = String(decoding: statm, as: UTF8.self).split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
                    out.append((stage, pages * Sys.pageSize()))
                }
            }
            return out
        }
    }

    /// Milliseconds from writing each record to reading its output, one record every `interval` seconds.
    func latency(config: String, workload: BenchWorkload, count: Int, interval: Double) throws -> [Double] {
        let live = try Live(self, config: config, name: "latency")
        var rng = BenchRandom(seed: 99)
        var latencies: [Double] = []
        for i in 0...count {
            var record: [UInt8] = []
            workload.record(i, into: &record, &rng)
            let start = Self.now()
            try live.send(record)
            guard try live.nextLine() != nil else { break }
            // The first record also pays for the start-up; it is not counted.
            if i > 0 { latencies.append((Self.now() - start) * 1000) }
            let wait = start + interval - Self.now()
            Sys.sleep(seconds: wait)  // paces the input: one record per interval
        }
        _ = live.finish()
        return latencies
    }

    /// Milliseconds from starting `pipeline up` to its first output line, and each stage's
    /// replica memory once idle.
    func startup(config: String, workload: BenchWorkload) throws -> (firstOutput: Double, idleRSS: [StageKind: Int]) {
        var rng = BenchRandom(seed: 7)
        var record: [UInt8] = []
        workload.record(0, into: &record, &rng)
        let start = Self.now()
        let live = try Live(self, config: config, name: "startup")
        try live.send(record)
        guard try live.nextLine() != nil else { throw PipelineError(.internalError, "bench: no output from pipeline up") }
        let first = (Self.now() - start) * 1000
        var rss: [StageKind: Int] = [:]
        for (stage, bytes) in live.replicaRSS() { rss[stage] = max(rss[stage] ?? 0, bytes) }
        _ = live.finish()
        return (first, rss)
    }
}
