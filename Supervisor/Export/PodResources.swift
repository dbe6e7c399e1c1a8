import Config

/// Each pod's CPU and memory (requests and limits alike), from the config and what was
/// measured. The figures and their reasons are README's "Running on a cluster".
public struct PodResources: Sendable, Equatable {
    /// CPU, in thousandths of a core.
    public var millicores: Int
    public var memoryMiB: Int
    /// The replica processes the memory is sized for.
    public var replicas: Int
    /// How the figures were reached, one line (the workload's `pipeline/sizing` annotation).
    public var sizing: String

    /// A supervisor's resident memory: 24–38 MB measured with the default window (64 batches
    /// of 256 records of ~870 bytes, README "Bounded memory"), rounded up with room.
    public static let supervisorMiB = 48
    /// A replica's: 10.4–13.0 MB idle, 11.3 MB under load (README's goals table, the soak
    /// run), plus the frames in flight and the pages of its shared-memory rings.
    public static let replicaMiB = 16
    /// The run directory besides the weight cache: logs, the event log, sockets.
    public static let runDirectoryLogsMiB = 16
    /// The event log in a pod's memory-backed run directory is rotated at this size, with
    /// `logKeep` rotated files: at most about 3 × 4 MiB, within `runDirectoryLogsMiB`, however
    /// long the pod runs (`PIPELINE_LOG_MAX_SIZE`, `PIPELINE_LOG_KEEP`).
    public static let logMaxSize = "4M"
    public static let logKeep = 2
    /// The pods' environment for it.
    static var logEnvironment: [(String, PodTemplate.EnvValue)] {
        [("PIPELINE_LOG_MAX_SIZE", .value(logMaxSize)), ("PIPELINE_LOG_KEEP", .value(String(logKeep)))]
    }
    /// The supervisor's share of a core (source, sink, control) beside replicas at full rate.
    public static let supervisorMillicores = 250

    /// The figures for `config` when the model's weight cache (built for its precision, in the
    /// memory-backed run directory) takes `cacheBytes`.
    /// - Parameters:
    ///   - cores: the autoscaler's budget when `config` is autoscaled (nil otherwise).
    public static func compute(_ config: PipelineConfig, cores: Double?, cacheBytes: Int,
                               options: KubernetesOptions) -> PodResources {
        let cacheMiB = (cacheBytes + (1 << 20) - 1) >> 20
        let stages = StageKind.allCases.map { config.stage($0) }
        let start = stages.reduce(0) { $0 + $1.replicas }
        var replicas = start
        var cpuReason: String
        var millicores: Int
        if let autoscale = config.autoscale, let cores {
            // The most the autoscaler can run within its budget: each stage needs at most
            // ceil(demand ÷ target) replicas, demands add up to at most `cores`, and rounding
            // up costs at most one per stage; never fewer than the minimums or the start, never
            // more than the maximums.
            let low = stages.reduce(0) { $0 + max(1, $1.minReplicas ?? 1) }
            let high = stages.reduce(0) { $0 + max(max(1, $1.minReplicas ?? 1), $1.maxReplicas ?? 64) }
            let reach = Int((cores / autoscale.target - 1e-9).rounded(.up)) + stages.count
            replicas = min(high, max(start, low, reach))
            millicores = Int((cores * 1000).rounded(.up))
            cpuReason = "cpu: [autoscale] cores \(decimal(millicores))"
        } else {
            millicores = start * 1000 + supervisorMillicores
            cpuReason = "cpu: \(start) replicas + \(decimal(supervisorMillicores)) supervisor"
        }
        var memory = supervisorMiB + replicas * replicaMiB + cacheMiB + runDirectoryLogsMiB
        var memoryReason = "memory: \(supervisorMiB) supervisor + \(replicas) replicas × \(replicaMiB) + \(cacheMiB) weight cache"
            + " + \(runDirectoryLogsMiB) logs MiB"
        if options.extraCPU > 0 {
            let extra = Int((options.extraCPU * 1000).rounded(.up))
            millicores += extra
            cpuReason += " + \(decimal(extra)) extra"
        }
        if options.extraMemoryMiB > 0 {
            memory += options.extraMemoryMiB
            memoryReason += " + \(options.extraMemoryMiB) extra"
        }
        if let cpu = options.cpu {
            millicores = Int((cpu * 1000).rounded(.up))
            cpuReason = "cpu: --cpu"
        }
        if let mib = options.memoryMiB {
            memory = mib
            memoryReason = "memory: --memory"
        }
        return PodResources(millicores: millicores, memoryMiB: memory, replicas: replicas, sizing: "\(cpuReason) = \(quantity(cpu: millicores)); \(memoryReason) = \(memory)Mi")
    }

    /// A CPU quantity: whole cores as `2`, else thousandths as `1250m`.
    public static func quantity(cpu millicores: Int) -> String {
        millicores % 1000 == 0 ? String(millicores / 1000) : "\(millicores)m"
    }

    /// Thousandths as a decimal number: 250 → `0.25`, 2000 → `2`.
    static func decimal(_ thousandths: Int) -> String {
        var fraction = String(thousandths % 1000)
        guard fraction != "0" else { return String(thousandths / 1000) }
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(thousandths / 1000).\(fraction)"
    }
}
