import ClusterExport
import PipelineSupervisor

/// `pipeline export kubernetes [options]`: `rest` is what follows `export`, without `-f`/`--run-dir`.
func parseExport(_ rest: [String], target: Target) throws(PipelineError) -> Command {
    var rest = rest
    let command = "export"
    guard let format = rest.first, !format.hasPrefix("-") else {
        throw PipelineError(.usage, "pipeline export: say what to export to: `pipeline export kubernetes` (see `pipeline export --help`)")
    }
    guard format == "kubernetes" else {
        throw PipelineError(.usage, "pipeline export: unknown target `\(format)`; there is one: kubernetes")
    }
    rest.removeFirst()
    var options = ExportOptions(target: target)
    var k = KubernetesOptions()
    let valued: Set<String> = ["--out", "--image", "--name", "--splits", "--input", "--parts", "--data-claim", "--source", "--sink",
                               "--replicas", "--model", "--model-path", "--model-claim", "--cpu", "--memory", "--extra-cpu",
                               "--extra-memory", "--metrics-port", "--uid"]
    while !rest.isEmpty {
        var arg = rest.removeFirst()
        if let eq = arg.firstIndex(of: "="), valued.contains(String(arg[..<eq])) {
            rest.insert(String(arg[arg.index(after: eq)...]), at: 0)
            arg = String(arg[..<eq])
        }
        func value() throws(PipelineError) -> String {
            guard let v = rest.first else { throw missingValue(arg, command: command) }
            rest.removeFirst()
            return v
        }
        func whole(_ range: ClosedRange<Int>) throws(PipelineError) -> Int {
            let text = try value()
            guard let n = Int(text), range.contains(n) else {
                throw PipelineError(.usage, "pipeline export kubernetes: \(arg) takes a whole number from \(range.lowerBound) to \(range.upperBound), not `\(text)`")
            }
            return n
        }
        switch arg {
        case "--out", "-o": options.outDirectory = try value()
        case "--image": k.image = try value()
        case "--name": k.name = try value()
        case "--splits": k.splits = try whole(1...100_000)
        case "--input": k.inputPath = try value()
        case "--parts": k.partsDirectory = try value()
        case "--data-claim": k.dataClaim = try value()
        case "--stream": k.stream = true
        case "--source": k.source = try value()
        case "--sink": k.sink = try value()
        case "--replicas": k.replicas = try whole(1...10_000)
        case "--model":
            let text = try value()
            guard let source = KubernetesOptions.ModelSource(rawValue: text) else {
                throw PipelineError(.usage, "pipeline export kubernetes: --model takes `image` (in the image, at --model-path) "
                                    + "or `volume` (a claim mounted at \(KubernetesOptions.modelMount)), not `\(text)`")
            }
            k.model = source
        case "--model-path": k.modelPath = try value()
        case "--model-claim": k.modelClaim = try value()
        case "--cpu": k.cpu = try cores(arg, try value())
        case "--extra-cpu": k.extraCPU = try cores(arg, try value())
        case "--memory": k.memoryMiB = try mebibytes(arg, try value())
        case "--extra-memory": k.extraMemoryMiB = try mebibytes(arg, try value())
        case "--metrics-port": k.metricsPort = try whole(1...65535)
        case "--uid": k.uid = try whole(1...2_147_483_647)
        default:
            throw PipelineError(.usage, "pipeline export kubernetes: unexpected argument `\(arg)` (see `pipeline export --help`)")
        }
    }
    do {
        try k.validate()
    } catch {
        throw PipelineError(.usage, error.message)
    }
    options.kubernetes = k
    return .export(options)
}

/// A CPU quantity: `2`, `0.5` or `500m` → cores.
private func cores(_ flag: String, _ text: String) throws(PipelineError) -> Double {
    let number = text.hasSuffix("m") ? Double(text.dropLast()).map { $0 / 1000 } : Double(text)
    guard let number, number.isFinite, number >= 0 else {
        throw PipelineError(.usage, "pipeline export kubernetes: \(flag) takes cores, such as 2, 0.5 or 500m, not `\(text)`")
    }
    return number
}

/// A memory quantity in Mi, Gi or Ti → MiB.
private func mebibytes(_ flag: String, _ text: String) throws(PipelineError) -> Int {
    let units: [(String, Int)] = [("Mi", 1), ("Gi", 1024), ("Ti", 1024 * 1024)]
    for (suffix, factor) in units where text.hasSuffix(suffix) {
        if let n = Int(text.dropLast(2)), n >= 0, n <= 4_194_304 / factor { return n * factor }
    }
    throw PipelineError(.usage, "pipeline export kubernetes: \(flag) takes a size in Mi, Gi or Ti, such as 512Mi or 2Gi, not `\(text)`")
}
