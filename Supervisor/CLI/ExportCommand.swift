import ClusterExport
import ControlCore
import Config
import Glibc
import Messages
import PipelineSupervisor
import Runtime

/// `pipeline export kubernetes`'s options: the config, where the manifests go, and the rest.
public struct ExportOptions: Equatable, Sendable {
    public var target = Target()
    /// `--out DIR`: one file per object there; nil: one multi-document YAML on stdout.
    public var outDirectory: String?
    public var kubernetes = KubernetesOptions()
}

/// `pipeline export kubernetes`: checks the config as `pipeline check` does, measures the
/// model's weight cache, and writes the manifests (`ClusterExport` makes them).
enum ExportCommand {
    static func run(_ options: ExportOptions) throws(PipelineError) -> ExitCode {
        let file = try ConfigFile.load(options.target.configPath)
        let (report, cacheBytes) = try checkAndMeasure(file.config)
        // What `pipeline check` checks besides the model: labels, CSV columns, the reference.
        let checked = try file.checked(against: report)
        var reference: String?
        if let spec = file.config.drift {
            _ = try DriftReference.load(checked, outputWidth: report.outputWidth)
            do {
                reference = String(decoding: try Sys.readFile(spec.reference, limit: 16 << 20), as: UTF8.self)
            } catch {
                throw PipelineError(.config, "[drift] reference \(spec.reference): cannot read it: \(error.reason)")
            }
        }
        let source = ExportSource(config: file.config, configText: file.text, configPath: file.path, cacheBytes: cacheBytes,
                                  driftReference: reference, version: pipelineVersion)
        let export: KubernetesExport
        do {
            export = try KubernetesExport.make(source, options.kubernetes)
        } catch {
            throw PipelineError(error.kind == .usage ? .usage : .config, error.message)
        }

        let written: String
        if let dir = options.outDirectory {
            try write(export, to: dir)
            written = "wrote " + export.manifests.map(\.fileName).joined(separator: ", ") + " to \(dir)"
        } else {
            do {
                try Sys.writeAll(1, YAML.stream(export.manifests.map(\.document)))
            } catch {
                throw PipelineError(.io, "writing stdout: \(error.reason)")
            }
            written = "wrote " + export.manifests.map { "\($0.kind) \($0.name)" }.joined(separator: ", ") + " to stdout"
        }
        let k = options.kubernetes
        let pods = k.stream ? "a StatefulSet of \(counted(k.replicas, "pod"))" : "an Indexed Job of \(counted(k.splits, "pod"))"
        let r = export.resources
        var said = "pipeline: \(written): \(pods), each cpu \(PodResources.quantity(cpu: r.millicores)), memory \(r.memoryMiB)Mi (\(r.sizing))\n"
        if k.stream && k.memoryMiB == nil && k.extraMemoryMiB == 0 {
            said += "pipeline: note: the memory is the pipeline's; the --source and --sink commands run in the same container: "
                + "add theirs with --extra-memory (and --extra-cpu)\n"
        }
        try? Sys.writeAll(2, said)
        return .ok
    }

    /// The config checked as `pipeline up` checks it, and the bytes of the weight cache it
    /// builds for this model and precision in the run directory (a pod's memory-backed
    /// emptyDir), built here in a temporary directory.
    static func checkAndMeasure(_ config: PipelineConfig) throws(PipelineError) -> (Preflight.Report, Int) {
        let tmp = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let dir: String
        do {
            dir = try Sys.makeTemporaryDirectory(prefix: tmp + "/pipeline-export-")
        } catch {
            throw PipelineError(.environment, "cannot make a temporary directory in \(tmp) to measure the model's weight cache: \(error.reason)")
        }
        defer {
            for name in (try? Sys.listDirectory(dir)) ?? [] { try? Sys.unlink(dir + "/" + name) }
            try? Sys.rmdir(dir)
        }
        let report = try Preflight.check(config, cacheDirectory: dir)
        var bytes = 0
        for name in (try? Sys.listDirectory(dir)) ?? [] where name.hasPrefix("infer-weights-") {
            if let st = try? Sys.lstat(dir + "/" + name) { bytes += Int(st.st_size) }
        }
        return (report, bytes)
    }

    /// One file per object in `dir` (made if missing); the files an export of the other kind
    /// would have written there are removed, so that `kubectl apply -f DIR` applies this one.
    static func write(_ export: KubernetesExport, to dir: String) throws(PipelineError) {
        var prefix = dir.hasPrefix("/") ? "" : "."
        for part in dir.split(separator: "/") {
            prefix += "/" + part
            do {
                _ = try Sys.mkdir(prefix, mode: 0o755)
            } catch {
                throw PipelineError(.io, "cannot make --out directory \(dir): \(error.reason)")
            }
        }
        for manifest in export.manifests {
            let path = dir + "/" + manifest.fileName
            do {
                let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
                defer { Sys.close(fd) }
                try Sys.writeAll(fd, manifest.document.text)
            } catch {
                throw PipelineError(.io, "cannot write \(path): \(error.reason)")
            }
        }
        let written = Set(export.manifests.map(\.fileName))
        for name in KubernetesExport.fileNames where !written.contains(name) {
            do {
                try Sys.unlink(dir + "/" + name)
            } catch {
                throw PipelineError(.io, "cannot remove \(dir)/\(name), left by an earlier export: \(error.reason)")
            }
        }
    }
}
