// swift-tools-version:6.0
import PackageDescription

// Every target is built for the CPU it is built on. shared/MEASURED.md: Swift SIMD code built for
// the x86-64 baseline runs 5x slower than with the machine's real features, and
// `SIMD.addingProduct` without FMA becomes one libm `fmaf` call per lane (over 100x slower).
// `-Xcc -march=native` makes swiftc's LLVM use the host's features (FMA, AVX2, AVX-512).
// The binaries are therefore meant to run on the machine (kind) that built them.
//
// Binaries for other machines (the container image, tools/image/build.sh) are built for a named
// x86-64 level instead: `PIPELINE_MARCH=x86-64-v3 swift build --build-path .build-x86-64-v3 …`
// (AVX2 + FMA), `x86-64-v4` (AVX-512 F/BW/CD/DQ/VL), or `x86-64` (the baseline: what the
// image's `pipeline` is built for, so that it runs on any x86-64 CPU and can say which level
// the CPU lacks). Each level needs its own build path: the flag is the same for every target.
// `native` keeps its name for the targets below: it is the build's CPU, the host's by default.
let cpuLevels = ["native", "x86-64", "x86-64-v2", "x86-64-v3", "x86-64-v4"]
let march = Context.environment["PIPELINE_MARCH"].flatMap { $0.isEmpty ? nil : $0 } ?? "native"
precondition(cpuLevels.contains(march), "PIPELINE_MARCH=\(march): expected one of \(cpuLevels.joined(separator: ", "))")
let native: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=\(march)"])]

// Dynamic exclusivity checks (swift_beginAccess on class properties and captured variables)
// took ~16% of the featurize stage's time on text (perf: __tls_get_addr, AccessSet::insert,
// SwiftTLSContext::get). Release builds of the stage libraries, and of the modules every batch
// goes through on its way (Messages, Runtime, the source, the sink, the control core), skip
// them; debug builds, which run the tests, keep them.
let stage: [SwiftSetting] = native + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "pipeline",
    products: [
        .executable(name: "pipeline", targets: ["pipeline"]),
        .executable(name: "ingest", targets: ["ingest"]),
        .executable(name: "featurize", targets: ["featurize"]),
        .executable(name: "infer", targets: ["infer"]),
        .executable(name: "aggregate", targets: ["aggregate"]),
    ],
    targets: [
        // Pure modules: no Foundation, no syscalls.
        .target(name: "Messages", path: "Shared/Messages", swiftSettings: stage),
        .target(name: "Kernels", dependencies: ["Int8VNNI", "Int8AVX2"], path: "Shared/Kernels", swiftSettings: native),
        // The int8 GEMM's two SIMD paths, each a module with its own fixed target features (not
        // the host's) so that both are built and tested on any x86-64 host; `Kernels` picks one at
        // run time from /proc/cpuinfo. `-parse-stdlib` lets them call LLVM's x86 intrinsics through
        // `Builtin` (Swift's SIMD types never lower to vpdpbusd or vpmaddwd).
        .target(name: "Int8VNNI", path: "Shared/KernelsInt8/VNNI",
                swiftSettings: [.unsafeFlags(["-parse-stdlib", "-Xcc", "-march=x86-64-v4", "-Xcc", "-mavx512vnni"])]),
        .target(name: "Int8AVX2", path: "Shared/KernelsInt8/AVX2",
                swiftSettings: [.unsafeFlags(["-parse-stdlib", "-Xcc", "-march=x86-64-v3"])]),
        .target(name: "Config", dependencies: ["Messages"], path: "Shared/Config", swiftSettings: native),
        // The supervisor's decisions (replicas, batches, the run's end) as pure values.
        .target(name: "ControlCore", dependencies: ["Config"], path: "Supervisor/Control", swiftSettings: stage),
        // The ONNX reader and execution engine: pure too (libm through Glibc, no syscalls). It reads
        // model bytes it is given; the infer stage maps the files. Built like the stage libraries:
        // it is what the infer stage spends its time in.
        .target(name: "Engine", dependencies: ["Kernels"], path: "Shared/Engine", swiftSettings: stage),
        // The only module that talks to the OS.
        .target(name: "Runtime", dependencies: ["Messages"], path: "Shared/Runtime", swiftSettings: stage),

        // Stage logic as libraries, so one process can run them all (tests, fused benchmark).
        .target(name: "IngestStage", dependencies: ["Messages", "Config"],
                path: "Services/ingest/Sources", swiftSettings: stage),
        .target(name: "FeaturizeStage", dependencies: ["Messages", "Config", "Kernels"],
                path: "Services/featurize/Sources", swiftSettings: stage),
        .target(name: "InferStage", dependencies: ["Messages", "Config", "Kernels", "Engine", "Runtime"],
                path: "Services/infer/Sources", swiftSettings: stage),
        .target(name: "AggregateStage", dependencies: ["Messages", "Config", "Kernels"],
                path: "Services/aggregate/Sources", swiftSettings: stage),

        // `pipeline`: the data path's two ends, the shell that carries out the control core's
        // decisions, and the command line.
        .target(name: "PipelineSource", dependencies: ["Messages", "Config", "Runtime", "IngestStage", "ControlCore"],
                path: "Supervisor/Source", swiftSettings: stage),
        .target(name: "PipelineSink", dependencies: ["Messages", "Runtime", "ControlCore"],
                path: "Supervisor/Sink", swiftSettings: stage),
        .target(name: "PipelineSupervisor",
                dependencies: ["Messages", "Config", "ControlCore", "Runtime", "PipelineSource", "PipelineSink",
                               "Engine", "IngestStage", "InferStage", "FeaturizeStage", "AggregateStage"],
                path: "Supervisor/Shell", swiftSettings: stage),
        // `pipeline bench` and the four stages fused in one process (its baseline, and the
        // reference the end-to-end tests compare the processes with). Not the CLI: it dispatches here.
        .target(name: "Bench",
                dependencies: ["Messages", "Config", "ControlCore", "Runtime", "PipelineSource", "PipelineSupervisor",
                               "Engine", "IngestStage", "FeaturizeStage", "InferStage", "AggregateStage"],
                path: "Benchmarks/Pipeline", swiftSettings: native),
        // `pipeline export kubernetes`: manifests as a pure function of the config and the options.
        .target(name: "ClusterExport", dependencies: ["Config"], path: "Supervisor/Export", swiftSettings: native),
        .target(name: "PipelineCLI",
                dependencies: ["Messages", "Config", "ControlCore", "Runtime", "PipelineSource", "PipelineSink", "PipelineSupervisor", "Engine", "Bench",
                               "ClusterExport"],
                path: "Supervisor/CLI", swiftSettings: native),

        // The executables: a few lines each.
        .executableTarget(name: "ingest", dependencies: ["Runtime", "IngestStage"],
                          path: "Services/ingest/Main", swiftSettings: native),
        .executableTarget(name: "featurize", dependencies: ["Runtime", "FeaturizeStage"],
                          path: "Services/featurize/Main", swiftSettings: native),
        .executableTarget(name: "infer", dependencies: ["Runtime", "InferStage"],
                          path: "Services/infer/Main", swiftSettings: native),
        .executableTarget(name: "aggregate", dependencies: ["Runtime", "AggregateStage"],
                          path: "Services/aggregate/Main", swiftSettings: native),
        .executableTarget(name: "pipeline", dependencies: ["PipelineCLI"],
                          path: "Supervisor/Main", swiftSettings: native),

        // What several test targets (and the stage benchmarks) share: a seeded generator, columns.
        .target(name: "TestSupport", dependencies: ["Messages"], path: "Tests/TestSupport", swiftSettings: native),
        .testTarget(name: "MessagesTests", dependencies: ["Messages", "TestSupport"], swiftSettings: native),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"], swiftSettings: native),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "Messages"], swiftSettings: native),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "Messages", "Config"], swiftSettings: native),
        .testTarget(name: "IngestTests", dependencies: ["IngestStage", "Messages", "Config", "TestSupport"],
                    swiftSettings: native),
        .testTarget(name: "FeaturizeTests", dependencies: ["FeaturizeStage", "Messages", "Config", "TestSupport"],
                    resources: [.copy("Vectors")], swiftSettings: native),
        // Model builders and fixture readers shared by EngineTests and InferTests; the fixtures
        // themselves are EngineTests' resources.
        .target(name: "EngineTestSupport", dependencies: ["Engine"], path: "Tests/EngineTestSupport",
                swiftSettings: native),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "EngineTestSupport", "TestSupport"],
                    resources: [.copy("Fixtures")], swiftSettings: native),
        .testTarget(name: "InferTests", dependencies: ["InferStage", "Engine", "EngineTestSupport"],
                    swiftSettings: native),
        .testTarget(name: "AggregateTests", dependencies: ["AggregateStage", "Messages", "Config", "TestSupport"],
                    swiftSettings: native),
        .testTarget(name: "ClusterExportTests", dependencies: ["ClusterExport", "Config"], swiftSettings: native),
        .testTarget(name: "ControlCoreTests", dependencies: ["ControlCore", "Config", "Messages", "TestSupport"], swiftSettings: native),
        .testTarget(name: "SupervisorTests", dependencies: ["PipelineCLI", "PipelineSupervisor", "PipelineSource", "PipelineSink",
                                                    "Bench", "ControlCore", "Config", "Messages", "Runtime"],
                    swiftSettings: native),
        // Opt-in timing of single stages; without PIPELINE_BENCH its suites are skipped:
        // PIPELINE_BENCH=1 swift test -c release --no-parallel --filter StageBenchmarks
        .testTarget(name: "StageBenchmarks", dependencies: ["AggregateStage", "FeaturizeStage", "Messages", "Config", "TestSupport"],
                    path: "Benchmarks/Stages", swiftSettings: native),
        // Runs the built binaries (pipeline + the four services) in temporary run directories.
        .testTarget(name: "EndToEndTests",
                    dependencies: ["pipeline", "ingest", "featurize", "infer", "aggregate", "PipelineCLI", "PipelineSupervisor", "Bench",
                                   "ControlCore", "ClusterExport", "Config", "Messages", "Runtime", "EngineTestSupport"],
                    swiftSettings: native),
    ]
)

// `PIPELINE_TEST_TARGETS=KernelsTests,EngineTests` keeps only the test targets named, so that
// `swift test` builds only what they test: tools/levels/test.sh runs the tests of the SIMD code
// per x86-64 level this way, each level in its own build path.
if let names = Context.environment["PIPELINE_TEST_TARGETS"], !names.isEmpty {
    let kept = Set(names.split(separator: ",").map(String.init))
    let known = Set(package.targets.filter { $0.type == .test }.map(\.name))
    precondition(kept.isSubset(of: known), "PIPELINE_TEST_TARGETS: no test target \(kept.subtracting(known).sorted())")
    package.targets.removeAll { $0.type == .test && !kept.contains($0.name) }
}
