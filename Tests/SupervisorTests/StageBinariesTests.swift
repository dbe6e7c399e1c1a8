import Config
import ControlCore
import Foundation
import Testing
@testable import PipelineSupervisor

/// Which stage binaries `pipeline up` starts: the x86-64 levels, what a CPU runs, the
/// `PIPELINE_CPU_LEVEL` override and the two layouts (installed per level, or next to `pipeline`).
@Suite struct StageBinariesTests {
    // The first `flags` line of /proc/cpuinfo on four kinds of CPU (only the words that matter here).
    static let v2Flags = "fpu sse sse2 pni ssse3 cx16 sse4_1 sse4_2 popcnt lahf_lm"
    /// Sandy Bridge: AVX but not AVX2, so below x86-64-v3.
    static let sandyBridge = v2Flags + " xsave avx"
    /// Zen 2 / Haswell and later without AVX-512.
    static let avx2 = sandyBridge + " fma movbe f16c abm bmi1 avx2 bmi2"
    /// Zen 4.
    static let zen4 = avx2 + " avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni avx512_bf16"

    static func flags(_ words: String) -> Set<Substring> {
        CPULevel.flags(cpuinfo: "processor\t: 0\nflags\t\t: \(words)\nbugs\t\t: spectre_v1\n\nprocessor\t: 1\nflags\t\t: fpu\n")!
    }

    @Test func cpuinfoFlagsAreTheFirstCPUs() {
        let f = Self.flags("fpu avx2")
        #expect(f == ["fpu", "avx2"])
        #expect(CPULevel.flags(cpuinfo: "processor : 0\n") == nil)
    }

    @Test func highestLevelOfEachKindOfCPU() {
        #expect(CPULevel.highest(supportedBy: Self.flags("fpu sse sse2")) == nil)
        #expect(CPULevel.highest(supportedBy: Self.flags(Self.sandyBridge)) == .v2)
        #expect(CPULevel.highest(supportedBy: Self.flags(Self.avx2)) == .v3)
        #expect(CPULevel.highest(supportedBy: Self.flags(Self.zen4)) == .v4)
        // AVX-512 without the rest of v3 is not v4: each level includes the ones below.
        #expect(CPULevel.highest(supportedBy: Self.flags(Self.v2Flags + " avx512f avx512dq avx512cd avx512bw avx512vl")) == .v2)
    }

    @Test func theHighestInstalledLevelTheCPURunsIsChosen() {
        let both: [CPULevel] = [.v4, .v3]
        #expect(CPULevel.choose(installed: both, flags: Self.flags(Self.zen4), forced: nil) == .success(.v4))
        #expect(CPULevel.choose(installed: both, flags: Self.flags(Self.avx2), forced: nil) == .success(.v3))
        #expect(CPULevel.choose(installed: [.v3], flags: Self.flags(Self.zen4), forced: nil) == .success(.v3))
    }

    @Test func aCPUBelowTheLowestLevelIsToldWhatItLacks() throws {
        guard case .failure(let problem) = CPULevel.choose(installed: [.v3, .v4], flags: Self.flags(Self.sandyBridge), forced: nil) else {
            Issue.record("chose a level for a CPU without AVX2")
            return
        }
        #expect(problem.message == "this CPU is below x86-64-v3, the lowest x86-64 level the stage binaries are built for (x86-64-v3, x86-64-v4): it lacks avx2, bmi1, bmi2, f16c, fma, abm, movbe (see /proc/cpuinfo)")
    }

    @Test func theOverrideChoosesAnInstalledLevelTheCPURuns() {
        #expect(CPULevel.choose(installed: [.v3, .v4], flags: Self.flags(Self.zen4), forced: .v3) == .success(.v3))
        guard case .failure(let lacking) = CPULevel.choose(installed: [.v3, .v4], flags: Self.flags(Self.avx2), forced: .v4) else {
            Issue.record("forced AVX-512 binaries on an AVX2 CPU")
            return
        }
        #expect(lacking.message == "PIPELINE_CPU_LEVEL=x86-64-v4, but this CPU lacks avx512f, avx512bw, avx512cd, avx512dq, avx512vl (see /proc/cpuinfo)")
        guard case .failure(let absent) = CPULevel.choose(installed: [.v4], flags: Self.flags(Self.zen4), forced: .v3) else {
            Issue.record("forced a level that is not installed")
            return
        }
        #expect(absent.message == "PIPELINE_CPU_LEVEL=x86-64-v3, but the stage binaries are built for x86-64-v4 only")
    }

    @Test func withoutTheCPUsFlagsOnlyTheOverrideChooses() {
        guard case .failure(let problem) = CPULevel.choose(installed: [.v3, .v4], flags: nil, forced: nil) else {
            Issue.record("chose without knowing the CPU")
            return
        }
        #expect(problem.message.contains("set PIPELINE_CPU_LEVEL"), "\(problem.message)")
        #expect(CPULevel.choose(installed: [.v3, .v4], flags: nil, forced: .v4) == .success(.v4))
    }

    @Test func overrideValues() {
        #expect(CPULevel.parse("x86-64-v3") == .v3 && CPULevel.parse("v4") == .v4)
        #expect(CPULevel.parse("x86-64") == nil && CPULevel.parse("avx2") == nil && CPULevel.parse("V4") == nil)
    }

    // MARK: layouts

    /// `<prefix>/bin/pipeline` and, per level given, `<prefix>/lib/pipeline/<level>/` with the
    /// four stages (all but `missing`); `beside` puts the stages next to `pipeline` too.
    final class Prefix {
        let path: String
        var bin: String { path + "/bin" }

        init(levels: [String], beside: Bool = false, missing: String? = nil) throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("stage-binaries-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
            try FileManager.default.createDirectory(atPath: path + "/bin", withIntermediateDirectories: true)
            var directories = levels.map { "\(path)/lib/pipeline/\($0)" }
            if beside { directories.append(bin) }
            for directory in directories {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                for stage in StageKind.allCases where stage.rawValue != missing {
                    precondition(FileManager.default.createFile(atPath: "\(directory)/\(stage.rawValue)", contents: Data("#!/bin/sh\n".utf8),
                                                                attributes: [.posixPermissions: 0o755]))
                }
            }
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test func installedLevelsAreChosenAmong() throws {
        let prefix = try Prefix(levels: ["x86-64-v3", "x86-64-v4", "other"])
        let best = try StageBinaries(executableDirectory: prefix.bin, override: nil, cpuFlags: { Self.flags(Self.zen4) })
        #expect(best.directory == prefix.path + "/lib/pipeline/x86-64-v4")
        #expect(best.level == .v4 && best.installed == [.v3, .v4] && !best.forced && best.cpuLevel == .v4)
        #expect(best.path(.infer) == best.directory + "/infer")
        #expect(best.summary == best.directory + " (x86-64-v4: the highest of x86-64-v3, x86-64-v4 this CPU runs)")

        let forced = try StageBinaries(executableDirectory: prefix.bin, override: "x86-64-v3", cpuFlags: { Self.flags(Self.zen4) })
        #expect(forced.level == .v3 && forced.forced && forced.directory.hasSuffix("/lib/pipeline/x86-64-v3"))
        #expect(forced.summary == forced.directory + " (x86-64-v3: set by PIPELINE_CPU_LEVEL; this CPU runs up to x86-64-v4)")

        let avx2 = try StageBinaries(executableDirectory: prefix.bin, override: "", cpuFlags: { Self.flags(Self.avx2) })
        #expect(avx2.level == .v3 && !avx2.forced)
        let one = try Prefix(levels: ["x86-64-v3"])
        let only = try StageBinaries(executableDirectory: one.bin, override: nil, cpuFlags: { Self.flags(Self.zen4) })
        #expect(only.summary == one.path + "/lib/pipeline/x86-64-v3 (x86-64-v3: the only level installed; this CPU runs it)")
    }

    @Test func aCPUBelowEveryInstalledLevelIsAnEnvironmentError() throws {
        let prefix = try Prefix(levels: ["x86-64-v3", "x86-64-v4"])
        let error = #expect(throws: PipelineError.self) {
            try StageBinaries(executableDirectory: prefix.bin, override: nil, cpuFlags: { Self.flags(Self.sandyBridge) })
        }
        #expect(error?.code == .environment && error?.message.hasPrefix("this CPU is below x86-64-v3") == true, "\(String(describing: error))")
    }

    @Test func anUnknownOverrideIsAUsageError() throws {
        let prefix = try Prefix(levels: ["x86-64-v3"])
        let error = #expect(throws: PipelineError.self) {
            try StageBinaries(executableDirectory: prefix.bin, override: "x86-64-v5", cpuFlags: { Self.flags(Self.zen4) })
        }
        #expect(error?.code == .usage)
        #expect(error?.message == "environment variable PIPELINE_CPU_LEVEL=\"x86-64-v5\": expected x86-64-v2, x86-64-v3, x86-64-v4 (default: the highest this CPU runs)")
    }

    @Test func aMissingStageOfTheChosenLevelIsAnEnvironmentError() throws {
        let prefix = try Prefix(levels: ["x86-64-v4"], missing: "featurize")
        let error = #expect(throws: PipelineError.self) {
            try StageBinaries(executableDirectory: prefix.bin, override: nil, cpuFlags: { Self.flags(Self.zen4) })
        }
        #expect(error?.code == .environment && error?.message.hasPrefix("stage binary missing or not executable: ") == true)
        #expect(error?.message.hasSuffix("/x86-64-v4/featurize") == true, "\(String(describing: error))")
    }

    @Test func withoutLevelsTheStagesNextToPipelineRun() throws {
        let prefix = try Prefix(levels: [], beside: true)
        // The CPU is not asked: there is nothing to choose.
        let built = try StageBinaries(executableDirectory: prefix.bin, override: nil, cpuFlags: {
            Issue.record("read the CPU's flags for the binaries next to pipeline")
            return nil
        })
        #expect(built.directory == prefix.bin && built.level == nil && built.installed.isEmpty && built.cpuLevel == nil)
        #expect(built.summary == prefix.bin + " (built for the machine that built them, next to pipeline)")
        // The override names a level: with none installed it cannot be honoured.
        let error = #expect(throws: PipelineError.self) {
            try StageBinaries(executableDirectory: prefix.bin, override: "x86-64-v3", cpuFlags: { Self.flags(Self.zen4) })
        }
        #expect(error?.code == .environment && error?.message.hasPrefix("PIPELINE_CPU_LEVEL is set, but there are no stage binaries per x86-64 level") == true)
        let empty = try Prefix(levels: [])
        #expect(throws: PipelineError.self) { try StageBinaries(executableDirectory: empty.bin, override: nil, cpuFlags: { nil }) }
    }
}
