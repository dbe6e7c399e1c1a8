import Config
import Glibc
import Runtime

/// Where the stage executables are, and which build of them runs.
///
/// Two layouts, looked for in this order:
///
/// - installed, one directory per x86-64 level: `pipeline` in `<prefix>/bin`, the stages in
///   `<prefix>/lib/pipeline/x86-64-v3/`, `…/x86-64-v4/` (what `tools/image/build.sh` makes).
///   The highest level this CPU runs is started (`CPULevel.choose`), or the one
///   `PIPELINE_CPU_LEVEL` names; a CPU below every level present is an error, said before
///   anything starts.
/// - built: next to the `pipeline` binary (`swift build`), for the machine that built them.
public struct StageBinaries: Sendable {
    /// The directory holding `ingest`, `featurize`, `infer` and `aggregate`.
    public let directory: String
    /// The level chosen in an installed layout; nil for the binaries next to `pipeline`.
    public let level: CPULevel?
    /// The levels installed (empty next to `pipeline`).
    public let installed: [CPULevel]
    /// Whether `PIPELINE_CPU_LEVEL` chose the level.
    public let forced: Bool
    /// The highest level this CPU runs (nil: unknown, below v2, or not read: no levels installed).
    public let cpuLevel: CPULevel?

    /// Finds the stage binaries of the running `pipeline`, reading `PIPELINE_CPU_LEVEL` and
    /// /proc/cpuinfo.
    ///
    /// - Throws: `PipelineError` with `.usage` for an unknown `PIPELINE_CPU_LEVEL`, and
    ///   `.environment` when the binaries are missing or the CPU runs none of them.
    public init() throws(PipelineError) {
        guard let exe = try? Sys.executablePath() else {
            throw PipelineError(.environment, "cannot find the pipeline executable (/proc/self/exe)")
        }
        try self.init(executableDirectory: String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)]),
                      override: getenv(CPULevel.overrideVariable).map { String(cString: $0) },
                      cpuFlags: {
                          let text = (try? Sys.readFile("/proc/cpuinfo", limit: 16 << 20)).map { String(decoding: $0, as: UTF8.self) }
                          return text.flatMap(CPULevel.flags(cpuinfo:))
                      })
    }

    /// Finds the stage binaries for a `pipeline` in `executableDirectory`.
    ///
    /// - Parameters:
    ///   - override: `PIPELINE_CPU_LEVEL`'s value, if set (empty counts as not set).
    ///   - cpuFlags: reads the CPU's /proc/cpuinfo flags (nil when they cannot be read); called
    ///     only where there are levels to choose among.
    /// - Throws: as `init()`.
    public init(executableDirectory: String, override: String?, cpuFlags readFlags: () -> Set<Substring>?) throws(PipelineError) {
        var forcedLevel: CPULevel?
        if let text = override, !text.isEmpty {
            guard let level = CPULevel.parse(text) else {
                throw PipelineError(.usage, "environment variable \(CPULevel.overrideVariable)=\"\(text)\": expected "
                                    + CPULevel.allCases.map(\.rawValue).joined(separator: ", ") + " (default: the highest this CPU runs)")
            }
            forcedLevel = level
        }
        let root = Self.levelsRoot(executableDirectory: executableDirectory)
        let names = Set((try? Sys.listDirectory(root)) ?? [])
        let installed = CPULevel.allCases.filter { names.contains($0.rawValue) }
        self.installed = installed
        let cpuFlags = installed.isEmpty ? nil : readFlags()
        cpuLevel = cpuFlags.flatMap(CPULevel.highest(supportedBy:))
        if installed.isEmpty {
            if forcedLevel != nil {
                throw PipelineError(.environment, "\(CPULevel.overrideVariable) is set, but there are no stage binaries per x86-64 level in \(root) (the stages next to \(executableDirectory)/pipeline are built for the machine that built them)")
            }
            directory = executableDirectory
            level = nil
            forced = false
        } else {
            switch CPULevel.choose(installed: installed, flags: cpuFlags, forced: forcedLevel) {
            case .success(let chosen):
                directory = "\(root)/\(chosen.rawValue)"
                level = chosen
                forced = forcedLevel != nil
            case .failure(let problem):
                throw PipelineError(.environment, problem.message)
            }
        }
        for stage in StageKind.allCases {
            let path = self.path(stage)
            guard Sys.access(path, X_OK) else {
                throw PipelineError(.environment, "stage binary missing or not executable: \(path)"
                                    + (level == nil ? " (build all products: swift build -c release)" : ""))
            }
        }
    }

    /// `<prefix>/lib/pipeline` for a `pipeline` in `<prefix>/bin`.
    static func levelsRoot(executableDirectory: String) -> String {
        let parent = executableDirectory.lastIndex(of: "/").map { String(executableDirectory[..<$0]) } ?? "."
        return "\(parent)/lib/pipeline"
    }

    public func path(_ stage: StageKind) -> String { "\(directory)/\(stage.rawValue)" }

    /// What runs and why, after `binaries: ` in `ps` and in the log line at start:
    /// `/usr/local/lib/pipeline/x86-64-v4 (x86-64-v4: the highest of x86-64-v3, x86-64-v4 this CPU runs)`.
    public var summary: String {
        guard let level else { return "\(directory) (built for the machine that built them, next to pipeline)" }
        if forced {
            return "\(directory) (\(level.rawValue): set by \(CPULevel.overrideVariable)"
                + (cpuLevel.map { "; this CPU runs up to \($0.rawValue))" } ?? ")")
        }
        if installed.count == 1 { return "\(directory) (\(level.rawValue): the only level installed; this CPU runs it)" }
        return "\(directory) (\(level.rawValue): the highest of \(installed.map(\.rawValue).joined(separator: ", ")) this CPU runs)"
    }
}
