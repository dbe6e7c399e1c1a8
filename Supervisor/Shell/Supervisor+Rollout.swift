import Config
import ControlCore
import Messages
import Runtime

/// `pipeline rollout`: the checks before anything changes, and the wire side of the core's
/// version decisions (what each replica holds, the frames a rollback restamps).
extension Supervisor {
    /// The version the run starts with: `[model] version`, else the model file's sha256 prefix.
    static func versionID(of config: PipelineConfig) throws(PipelineError) -> String {
        if let name = config.model.version { return name }
        do {
            return String(try FileDigest.hexDigest(of: config.model.path).prefix(12))
        } catch {
            throw PipelineError(.model, "cannot read model \(config.model.path) to name its version: \(error.reason)")
        }
    }

    /// The live versions, as every featurize, infer and aggregate replica must hold them.
    func versionSet() -> VersionSet {
        VersionSet(generation: core.rollout.generation, versions: core.rollout.live.compactMap { versionConfigs[$0.slot] })
    }

    /// Sends the live versions to every replica that has its config (the others get them with it).
    func sendVersions() {
        let live = Set(core.rollout.live.map(\.slot))
        versionConfigs = versionConfigs.filter { live.contains($0.key) }
        let set = versionSet()
        for (id, r) in processes where id.stage != .ingest && core.rollout.isConfigured(id) {
            guard let c = r.control, !c.isClosed else { continue }
            do {
                try c.send(using: scratch) { set.encode(into: $0) }
            } catch {
                Log.error("control connection of \(id): \(error)")
            }
        }
    }

    /// A `pipeline rollout` request: checked here (it loads, its widths and labels fit, the input
    /// is read the same way) before the core starts anything; refused with the stream untouched.
    func handleRollout(_ client: ClientSession, _ request: Request.Rollout) {
        client.waitingForScale = true
        switch request.mode {
        case .promote: return dispatch(.rollout(client: client.id, .promote))
        case .abort: return dispatch(.rollout(client: client.id, .abort))
        case .cutover, .canary, .shadow: break
        }
        let mode: Rollout.Mode
        switch request.mode {
        case .canary: mode = .canary(basisPoints: Int((request.percent * 100).rounded()))
        case .shadow: mode = .shadow
        default: mode = .cutover
        }
        do {
            let version = try prepareVersion(path: request.path, slot: core.rollout.nextSlot)
            if core.rollout.phase == .steady && version.id != core.rollout.primary.id {
                versionConfigs[version.slot] = version
            }
            dispatch(.rollout(client: client.id, .begin(Rollout.Version(slot: version.slot, id: version.id), mode)))
        } catch {
            Log.error("rollout refused: \(error.message)")
            eventLog.record(.rollout(RolloutStep(step: "refused", version: request.path, other: core.rollout.primary.id, mode: mode.name,
                                                 message: error.message)))
            let reply = Reply(status: UInt8(error.code.rawValue),
                              text: "rollout refused: \(error.message); the stream goes on untouched with \(core.rollout.primary.id)")
            try? client.connection.send(using: scratch) { reply.encode(into: $0) }
            client.waitingForScale = false
        }
    }

    /// The version `path` names (a config, or an ONNX model that takes the running config's
    /// place), checked as `pipeline check` checks a config, its weights prepared in the run directory.
    private func prepareVersion(path: String, slot: UInt16) throws(PipelineError) -> ModelVersion {
        let isModel = !path.hasSuffix(".toml")
        var versionConfig: PipelineConfig
        var configPath = self.configPath, configText = self.configText, modelPath = ""
        if isModel {
            versionConfig = config
            versionConfig.model.path = path
            versionConfig.model.version = nil
            modelPath = path
        } else {
            let file = try ConfigFile.load(path)
            if let difference = config.input.difference(to: file.config.input) {
                throw PipelineError(.config, "\(path): its [input] must be the running config's: \(difference)")
            }
            versionConfig = config.withModelPart(of: file.config)
            configPath = file.path
            configText = file.text
        }
        let report = try Preflight.check(versionConfig, cacheDirectory: runDir.path)
        // The labels, as `up` settles them: the config's, else the model's classes.
        let labels: [ClassLabel]
        do {
            let reparsed = try PipelineConfig.parse(text: configText, path: configPath, model: report.modelOutput)
            labels = reparsed.output.labels ?? []
            versionConfig.output.labels = reparsed.output.labels
        } catch {
            throw PipelineError(.config, error.description)
        }
        if let running = csvHeader {
            let new = try report.csvHeader(versionConfig)
            if running != new {
                throw PipelineError(.config, "the CSV output's columns would change (\(running.dropLast()) → \((new ?? "").dropLast())): a rollout keeps them")
            }
        }
        let id = try Self.versionID(of: versionConfig)
        guard id != core.rollout.primary.id else {
            throw PipelineError(.usage, "version \(id) is already the live version")
        }
        return ModelVersion(slot: slot, id: id, configPath: configPath, configText: configText, classLabels: labels, modelPath: modelPath)
    }
}
