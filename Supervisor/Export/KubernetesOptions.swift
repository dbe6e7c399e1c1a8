import Config

/// What `pipeline export kubernetes` is asked for: the workload (an Indexed Job over an input
/// file, or a StatefulSet over a stream), where the model lives, the pods' size and image.
/// Every optional has a default derived from the config (see `KubernetesOptions.resolved`).
public struct KubernetesOptions: Sendable, Equatable {
    /// Where the pods find the ONNX model.
    public enum ModelSource: String, Sendable, Equatable, CaseIterable {
        /// Built into the image, at `modelPath`.
        case image
        /// On a PersistentVolumeClaim (`modelClaim`) mounted read-only at `/models`.
        case volume
    }

    /// The container image: `pipeline` on its PATH, next to the four stage binaries.
    public var image: String?
    /// Prefix of the objects' names; default: the config's `[pipeline] name`, made a DNS label.
    public var name: String?
    public var model = ModelSource.image
    /// The model file's path inside the container; default `/models/<its file name>`.
    public var modelPath: String?
    /// `--model volume`: the claim holding it; default `<name>-model`.
    public var modelClaim: String?

    /// A StatefulSet over a stream (`--stream`) rather than an Indexed Job over a file.
    public var stream = false
    /// Job: completions, each scoring one of `splits` byte ranges of the input (`up --split I/N`).
    public var splits = 1
    /// Job: the input file's path inside the container; default `/data/input.<format>`.
    public var inputPath: String?
    /// Job: the directory the parts are written to; default `/data/parts`.
    public var partsDirectory: String?
    /// Job: the claim mounted at `/data`; default `<name>-data`.
    public var dataClaim: String?
    /// Stream: the shell command each pod reads records from (`$POD_INDEX` is its ordinal).
    public var source: String?
    /// Stream: the shell command each pod writes scored records to.
    public var sink: String?
    /// Stream: pods (one per partition, say).
    public var replicas = 1

    /// Each pod's CPU (cores) instead of the computed figure.
    public var cpu: Double?
    /// Each pod's memory (MiB) instead of the computed figure.
    public var memoryMiB: Int?
    /// Cores added to the computed figure (for a stream's source and sink commands).
    public var extraCPU: Double = 0
    /// MiB added to the computed figure (for a stream's source and sink commands).
    public var extraMemoryMiB = 0
    public var metricsPort = 9464
    /// The user (and group, and fsGroup) the pods run as; never 0.
    public var uid = 65532

    public init() {}

    /// The checks that need no config: ranges, and options that belong to the other workload.
    /// - Throws: `ExportError` (`.usage`) at the first problem.
    public func validate() throws(ExportError) {
        func usage(_ message: String) -> ExportError { ExportError(.usage, "pipeline export kubernetes: " + message) }
        if stream {
            guard source != nil, sink != nil else {
                throw usage("--stream needs --source CMD and --sink CMD (the commands each pod reads records from and writes them to)")
            }
            for (flag, given) in [("--splits", splits != 1), ("--input", inputPath != nil), ("--parts", partsDirectory != nil),
                                  ("--data-claim", dataClaim != nil)] where given {
                throw usage("\(flag) is for a Job over a file; a --stream pod reads --source")
            }
        } else {
            if source != nil || sink != nil { throw usage("--source and --sink go with --stream") }
            if replicas != 1 { throw usage("--replicas goes with --stream (a Job's pods are --splits)") }
        }
        if !(1...100_000).contains(splits) { throw usage("--splits takes a number from 1 to 100000, not \(splits)") }
        if !(1...10_000).contains(replicas) { throw usage("--replicas takes a number from 1 to 10000, not \(replicas)") }
        if !(1...65535).contains(metricsPort) { throw usage("--metrics-port takes a port from 1 to 65535, not \(metricsPort)") }
        if !(1...2_147_483_647).contains(uid) { throw usage("--uid takes a user id from 1 (the pods never run as root), not \(uid)") }
        if let cpu, !(cpu >= 0.001 && cpu <= 4096) { throw usage("--cpu takes cores from 0.001 to 4096") }
        if !(extraCPU >= 0 && extraCPU <= 4096) { throw usage("--extra-cpu takes cores from 0 to 4096") }
        if let memoryMiB, !(16...4_194_304).contains(memoryMiB) { throw usage("--memory takes from 16Mi to 4Ti") }
        if !(0...4_194_304).contains(extraMemoryMiB) { throw usage("--extra-memory takes from 0 to 4Ti") }
        if model == .image && modelClaim != nil { throw usage("--model-claim goes with --model volume") }
        if cpu != nil && extraCPU != 0 { throw usage("--cpu sets each pod's CPU; --extra-cpu adds to the computed figure: give one") }
        if memoryMiB != nil && extraMemoryMiB != 0 {
            throw usage("--memory sets each pod's memory; --extra-memory adds to the computed figure: give one")
        }
        for (flag, path) in [("--model-path", modelPath), ("--input", inputPath), ("--parts", partsDirectory)] {
            guard let path else { continue }
            guard path.hasPrefix("/"), ConfigPath.normalize(path) == path, path != "/" else {
                throw usage("\(flag) takes an absolute path inside the container, such as /data/input.jsonl, not `\(path)`")
            }
        }
        if model == .volume, let path = modelPath, !path.hasPrefix(Self.modelMount + "/") {
            throw usage("with --model volume the claim is mounted at \(Self.modelMount): --model-path must be under it, not `\(path)`")
        }
        for (flag, value) in [("--name", name), ("--model-claim", modelClaim), ("--data-claim", dataClaim)] {
            if let value, !Self.isDNSLabel(value) {
                throw usage("\(flag) `\(value)` is not a Kubernetes name: lowercase letters, digits and `-`, starting with a letter, at most 52 characters")
            }
        }
        if let image, image.isEmpty || image.contains(where: \.isWhitespace) { throw usage("--image `\(image)` is not an image reference") }
    }

    // MARK: Inside the pod

    /// Where `--model volume` mounts its claim.
    public static let modelMount = "/models"
    /// Where a Job mounts its data claim.
    public static let dataMount = "/data"

    /// A DNS-1035 label short enough for a StatefulSet's or a Job's pods (52 characters leave
    /// room for the suffixes Kubernetes adds).
    static func isDNSLabel(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard (1...52).contains(bytes.count), let first = bytes.first, let last = bytes.last else { return false }
        func lowerOrDigit(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
        return (first >= 0x61 && first <= 0x7A) && lowerOrDigit(last) && bytes.allSatisfy { lowerOrDigit($0) || $0 == 0x2D }
    }

    /// The config's run name as a DNS label: lowercase, `_` and `.` as `-`; nil when that is
    /// still not one (then `--name` must say).
    static func objectName(forRun name: String) -> String? {
        var out = ""
        for c in name.lowercased() { out.append(c == "_" || c == "." ? "-" : c) }
        return isDNSLabel(out) ? out : nil
    }
}
