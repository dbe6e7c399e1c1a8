/// An x86-64 micro-architecture level (the x86-64 psABI's), as the stage binaries of an
/// installed pipeline are built for, one directory each (`<prefix>/lib/pipeline/x86-64-v4/…`).
///
/// A binary built for a level runs only on a CPU with every feature of that level: built for
/// x86-64-v4 it dies with SIGILL on an AVX2-only CPU. The supervisor therefore starts the
/// highest level both installed and supported (`choose`).
public enum CPULevel: String, CaseIterable, Comparable, Sendable {
    /// SSE3, SSSE3, SSE4.1/4.2, POPCNT, CMPXCHG16B, LAHF/SAHF (CPUs since about 2009).
    case v2 = "x86-64-v2"
    /// v2 + AVX, AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE (Haswell, Zen 1 and later).
    case v3 = "x86-64-v3"
    /// v3 + AVX-512 F, BW, CD, DQ, VL (Skylake-X, Ice Lake, Zen 4 and later).
    case v4 = "x86-64-v4"

    public static func < (a: CPULevel, b: CPULevel) -> Bool { a.rank < b.rank }

    private var rank: Int {
        switch self {
        case .v2: 2
        case .v3: 3
        case .v4: 4
        }
    }

    /// The /proc/cpuinfo flags this level needs, its own and those of the levels below it.
    /// The kernel lists a feature only when it also saves the registers it needs (ymm, zmm), so
    /// the flags say what can run, not only what the silicon has. LZCNT is listed as `abm`;
    /// the XSAVE the AVX levels need is listed as `xsave`.
    public var requiredFlags: [String] {
        switch self {
        case .v2: ["cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"]
        case .v3: CPULevel.v2.requiredFlags + ["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"]
        case .v4: CPULevel.v3.requiredFlags + ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"]
        }
    }

    /// The flags of this level a CPU with `flags` lacks (empty: it runs the level).
    public func missing(from flags: Set<Substring>) -> [String] {
        requiredFlags.filter { !flags.contains(Substring($0)) }
    }

    /// The environment variable that names the level to start instead of the highest one.
    public static let overrideVariable = "PIPELINE_CPU_LEVEL"

    /// Parses `PIPELINE_CPU_LEVEL`'s value (`x86-64-v3`; `v3` too).
    public static func parse(_ text: String) -> CPULevel? {
        CPULevel(rawValue: text) ?? CPULevel(rawValue: "x86-64-" + text)
    }

    /// Which of the `installed` levels to start on a CPU with `flags`.
    ///
    /// - Parameters:
    ///   - installed: the levels there are stage binaries for (at least one).
    ///   - flags: the CPU's flags; nil when /proc/cpuinfo could not be read (then only an
    ///     override can choose, and is trusted).
    ///   - forced: the level `PIPELINE_CPU_LEVEL` names, if set.
    /// - Returns: the level, or why none can run, in words for the user.
    public static func choose(installed: [CPULevel], flags: Set<Substring>?,
                              forced: CPULevel?) -> Result<CPULevel, LevelProblem> {
        let installed = installed.sorted()
        let names = installed.map(\.rawValue).joined(separator: ", ")
        if let forced {
            guard installed.contains(forced) else {
                return .failure(LevelProblem("\(overrideVariable)=\(forced.rawValue), but the stage binaries are built for \(names) only"))
            }
            let lacking = flags.map(forced.missing(from:)) ?? []
            if !lacking.isEmpty {
                return .failure(LevelProblem("\(overrideVariable)=\(forced.rawValue), but this CPU lacks \(lacking.joined(separator: ", ")) (see /proc/cpuinfo)"))
            }
            return .success(forced)
        }
        guard let flags else {
            return .failure(LevelProblem("cannot read the CPU's flags in /proc/cpuinfo to choose among the stage binaries' levels (\(names)); set \(overrideVariable) to one of them"))
        }
        if let best = installed.last(where: { $0.missing(from: flags).isEmpty }) { return .success(best) }
        let lowest = installed[0]
        return .failure(LevelProblem("this CPU is below \(lowest.rawValue), the lowest x86-64 level the stage binaries are built for (\(names)): it lacks \(lowest.missing(from: flags).joined(separator: ", ")) (see /proc/cpuinfo)"))
    }

    /// The highest of all levels a CPU with `flags` runs, nil if not even v2.
    public static func highest(supportedBy flags: Set<Substring>) -> CPULevel? {
        allCases.last { $0.missing(from: flags).isEmpty }
    }

    /// The words of the first `flags` line of a /proc/cpuinfo text; nil when it has none.
    public static func flags(cpuinfo text: String) -> Set<Substring>? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return nil }
        return Set(line[line.index(after: colon)...].split(separator: " "))
    }
}

/// Why no level can be started: said to the user as is, exit code 9 (`.environment`).
public struct LevelProblem: Error, Equatable, Sendable {
    public let message: String
    init(_ message: String) { self.message = message }
}
