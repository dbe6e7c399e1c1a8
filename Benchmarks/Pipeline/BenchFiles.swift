/// Where `pipeline bench` finds what it reads in the repository, relative to its root.
enum BenchFiles {
    /// The workloads' models (made by tools/make_bench_models.py).
    static let models = "Benchmarks/models"
    /// The hand-written analysis appended to BENCHMARKS.md.
    static let analysis = "Benchmarks/ANALYSIS.md"
    /// The Python pipeline a user would write instead: the generic one (per-field lists).
    static let pythonBaseline = "Benchmarks/python/python_baseline.py"
    /// The strongest natural Python pipeline (one vectorized call per batch): the headline.
    static let vectorizedBaseline = "Benchmarks/python/vectorized_baseline.py"
    /// onnxruntime's rows/s on a model, for the kernel comparison.
    static let onnxruntimeKernel = "Benchmarks/python/ort_kernel.py"
}
