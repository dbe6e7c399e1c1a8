import Foundation
import Glibc
import PipelineSupervisor
import Testing

/// `pipeline up` installed with its stages per x86-64 level (`<prefix>/bin/pipeline`,
/// `<prefix>/lib/pipeline/<level>/…`, as in the container image) starts the highest level the
/// CPU runs, or the one `PIPELINE_CPU_LEVEL` names, and says which. Both levels hold this
/// build's stages here: what is tested is the choice, not the code each level runs (the
/// kernels' tests run per level in `tools/levels/test.sh`; the image in `tools/image/test.sh`).
@Suite(.serialized) struct CPULevelTests {
    static let sample = Paths.root + "/examples/transactions.jsonl"
    static let config = Paths.root + "/compose/pipeline.toml"

    /// The highest level this CPU runs, by /proc/cpuinfo.
    static let cpuLevel: CPULevel? = {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return CPULevel.flags(cpuinfo: text).flatMap(CPULevel.highest(supportedBy:))
    }()

    /// An installed layout in `ws`: `pipeline` linked (or copied: /proc/self/exe must point into
    /// the prefix) to `bin/`, each level's directory linking the built stages.
    static func install(in ws: Workspace, levels: [CPULevel]) throws -> String {
        let fm = FileManager.default
        try fm.createDirectory(atPath: ws.path + "/prefix/bin", withIntermediateDirectories: true)
        let pipeline = ws.path + "/prefix/bin/pipeline"
        if link(Paths.pipeline, pipeline) != 0 { try fm.copyItem(atPath: Paths.pipeline, toPath: pipeline) }
        for level in levels {
            let directory = ws.path + "/prefix/lib/pipeline/" + level.rawValue
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for stage in ["ingest", "featurize", "infer", "aggregate"] {
                try fm.createSymbolicLink(atPath: directory + "/" + stage, withDestinationPath: Paths.binaries + "/" + stage)
            }
        }
        return pipeline
    }

    static func events(_ path: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func theHighestLevelTheCPURunsIsStartedAndSaid() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let installed = try Self.install(in: ws, levels: [.v3, .v4])
        let events = ws.path + "/events.jsonl"
        let run = try Running(installed, ["up", "-f", Self.config, "--run-dir", ws.runDir, "--events", events], stdinFile: Self.sample).finish()
        guard let level = Self.cpuLevel, level >= .v3 else {
            // A CPU below both levels: refused before anything starts, saying what it lacks.
            #expect(run.status == 9 && run.err.contains("pipeline: error: this CPU is below x86-64-v3"), "\(run.err)")
            return
        }
        let expected = ws.path + "/prefix/lib/pipeline/" + level.rawValue
        #expect(run.status == 0, "\(run.err)")
        #expect(run.err.hasPrefix("[pipeline] stage binaries: \(expected) (\(level.rawValue): the highest of x86-64-v3, x86-64-v4 this CPU runs)\n"), "\(run.err)")
        let reference = try pipeline(["up", "-f", Self.config, "--run-dir", ws.path + "/run-built"], stdinFile: Self.sample)
        #expect(reference.status == 0 && !reference.err.contains("stage binaries"), "\(reference.err)")
        #expect(same(run.stdout, reference.stdout), "the installed layout scores the sample as the build does")
        let started = try #require(Self.events(events).first { $0["event"] as? String == "run_started" })
        let binaries = try #require(started["binaries"] as? [String: Any])
        #expect(binaries["directory"] as? String == expected && binaries["level"] as? String == level.rawValue
                && binaries["forced"] as? Bool == false, "\(binaries)")
    }

    @Test func theOverrideStartsAnotherLevelAndPsSaysSo() throws {
        guard let level = Self.cpuLevel, level >= .v3 else { return }  // said in the test above
        let ws = Workspace()
        defer { ws.remove() }
        let installed = try Self.install(in: ws, levels: [.v3, .v4])
        let run = try Running(installed, ["up", "-f", Self.config, "--run-dir", ws.runDir],
                              environment: ["PIPELINE_CPU_LEVEL": "x86-64-v3"])
        run.write(String(decoding: try Data(contentsOf: URL(fileURLWithPath: Self.sample)), as: UTF8.self))
        #expect(run.waitForLines(1000) == 1000)
        let ps = try pipeline(["ps", "--run-dir", ws.runDir])
        let json = try pipeline(["ps", "--json", "--run-dir", ws.runDir])
        run.closeInput()
        let finished = run.finish()
        #expect(finished.status == 0, "\(finished.err)")
        let directory = ws.path + "/prefix/lib/pipeline/x86-64-v3"
        let said = "\(directory) (x86-64-v3: set by PIPELINE_CPU_LEVEL; this CPU runs up to \(level.rawValue))"
        #expect(finished.err.hasPrefix("[pipeline] stage binaries: \(said)\n"), "\(finished.err)")
        #expect(ps.lines.contains("binaries: \(said)"), "\(ps.out)")
        let object = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        let binaries = try #require(object["binaries"] as? [String: Any])
        #expect(binaries["directory"] as? String == directory && binaries["level"] as? String == "x86-64-v3"
                && binaries["forced"] as? Bool == true && binaries["installed"] as? [String] == ["x86-64-v3", "x86-64-v4"]
                && binaries["cpu_level"] as? String == level.rawValue, "\(binaries)")
    }

    @Test func aLevelNotInstalledOrUnknownIsRefused() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let installed = try Self.install(in: ws, levels: [.v3])
        let absent = try Running(installed, ["up", "-f", Self.config, "--run-dir", ws.runDir], stdinFile: Self.sample,
                                 environment: ["PIPELINE_CPU_LEVEL": "x86-64-v4"]).finish()
        #expect(absent.status == 9 && absent.out.isEmpty, "\(absent.err)")
        #expect(absent.err == "pipeline: error: PIPELINE_CPU_LEVEL=x86-64-v4, but the stage binaries are built for x86-64-v3 only\n")
        let unknown = try Running(installed, ["up", "-f", Self.config, "--run-dir", ws.runDir], stdinFile: Self.sample,
                                  environment: ["PIPELINE_CPU_LEVEL": "avx2"]).finish()
        #expect(unknown.status == 2, "\(unknown.err)")
        #expect(unknown.err == "pipeline: error: environment variable PIPELINE_CPU_LEVEL=\"avx2\": expected x86-64-v2, x86-64-v3, x86-64-v4 (default: the highest this CPU runs)\n")
    }
}
