import Bench
import ControlCore
import Config
import Glibc
import Messages
import PipelineSupervisor
import Runtime

/// `pipeline profile [-f FILE] [--input FILE] [--output FILE] [--bins N] [--top N]
/// [--fields a,b] [--no-predictions] < training.jsonl > reference.json`.
///
/// The records are read twice (`DriftProfiler`): a file is read again from its start; a pipe
/// is copied to a temporary file as it is read the first time (in `$TMPDIR`, removed at once).
enum ProfileCommand {
    static func run(_ options: ProfileOptions) throws(PipelineError) -> ExitCode {
        let started = Sys.monotonicNanos()
        let file = try ConfigFile.load(options.target.configPath)
        let report = try Preflight.check(file.config)
        let config = try file.checked(against: report)
        var settings = DriftProfiler.Options()
        settings.bins = options.bins
        settings.top = options.top
        settings.fields = options.fields
        settings.predictions = options.predictions
        let profiler: DriftProfiler
        do {
            profiler = try DriftProfiler(config: config, options: settings)
        } catch {
            throw PipelineError(.usage, "profile: \(error)")
        }
        if profiler.fieldNames.isEmpty && !options.predictions {
            throw PipelineError(.usage, "profile: nothing to profile: no [[feature]] reads an input field (name them with --fields)")
        }
        var input: Int32 = 0
        if let path = options.inputPath {
            do {
                input = try Sys.open(ConfigFile.absolutePath(path), O_RDONLY)
            } catch {
                throw PipelineError(.io, "profile: cannot open --input \(path): \(error.reason)")
            }
        }
        defer { if input != 0 { Sys.close(input) } }
        let records = try Records(fd: input, name: options.inputPath ?? "stdin")
        defer { records.close() }
        let profile: DriftProfile, rejected: Int, warnings: [String]
        do {
            (profile, rejected, warnings) = try profiler.run(read: records.read)
        } catch let e as DriftProfiler.Failure {
            throw PipelineError(.inputMismatch, "profile: \(e)")
        } catch let e as PipelineError {
            throw e
        } catch {
            throw PipelineError(.model, "profile: \(error)")
        }
        let text = profile.json()
        do {
            if let path = options.outputPath {
                try Sys.writeFile(ConfigFile.absolutePath(path), text)
            } else {
                try Sys.writeAll(1, text)
            }
        } catch {
            throw PipelineError(.io, "profile: cannot write \(options.outputPath ?? "stdout"): \(error.reason)")
        }
        for w in warnings { try? Sys.writeAll(2, "pipeline: warning: \(w)\n") }
        let seconds = Double(Sys.monotonicNanos() - started) / 1e9
        let watched = profile.fields.map(\.bins.name) + profile.predictions.map { "prediction." + $0.bins.name }
        Log.prefix = "pipeline"
        try? Sys.writeAll(2, "pipeline: profiled \(counted(Int(profile.records), "record"))"
                          + (rejected > 0 ? " (\(counted(rejected, "record")) rejected, not profiled)" : "")
                          + " in \(String(format1(seconds))) s: " + watched.joined(separator: ", ") + "\n")
        return .ok
    }

    private static func format1(_ x: Double) -> String {
        let tenths = Int((x * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// The input, readable twice.
    final class Records {
        let fd: Int32
        let name: String
        /// Where a pipe's bytes are kept for the second pass (-1: the input itself is seekable).
        private var spool: Int32 = -1
        private var start: Int64 = 0
        private var pass = -1
        private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)

        init(fd: Int32, name: String) throws(PipelineError) {
            self.fd = fd
            self.name = name
            if Sys.regularFileSize(fd) != nil, let at = try? Sys.seek(fd, 0, SEEK_CUR) {
                start = at
            } else {
                let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
                do {
                    spool = try Sys.anonymousFile(in: dir)
                } catch {
                    throw PipelineError(.environment, "profile: cannot make a temporary file in \(dir) to read \(name) twice: \(error.reason)")
                }
            }
        }

        func close() {
            if spool >= 0 { Sys.close(spool) }
            buffer.deallocate()
        }

        /// The next piece of pass `pass` (0 or 1); nil at the end.
        func read(_ pass: Int) throws -> UnsafeRawBufferPointer? {
            if pass != self.pass {
                self.pass = pass
                if pass == 1 {
                    do {
                        try Sys.seek(spool >= 0 ? spool : fd, spool >= 0 ? 0 : start, SEEK_SET)
                    } catch {
                        throw PipelineError(.io, "profile: cannot read \(name) again: \(error.reason)")
                    }
                }
            }
            let source = pass == 1 && spool >= 0 ? spool : fd
            let n: Int
            do {
                n = try Sys.read(source, into: buffer.baseAddress!, count: buffer.count) ?? 0
            } catch {
                throw PipelineError(.io, "profile: cannot read \(name): \(error.reason)")
            }
            guard n > 0 else { return nil }
            if pass == 0 && spool >= 0 {
                do {
                    try Sys.writeAll(spool, UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                } catch {
                    throw PipelineError(.environment, "profile: cannot keep a copy of \(name) to read it twice: \(error.reason)")
                }
            }
            return UnsafeRawBufferPointer(rebasing: buffer[0..<n])
        }
    }
}
