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

    /// A `pipeline rollout` request: the new version is checked (it loads, its widths and labels
    /// fit, the input is read the same way) and its weights prepared on a thread of its own — a
    /// large model takes seconds, and the stream, the heartbeats and the other clients go on —
    /// before the core starts anything (`finishVersionCheck`). Refused, the stream is untouched.
    func handleRollout(_ client: ClientSession, _ request: Request.Rollout) {
        client.waitingForScale = true
        let mode: Rollout.Mode
        switch request.mode {
        case .promote: return dispatch(.rollout(client: client.id, .promote))
        case .abort: return dispatch(.rollout(client: client.id, .abort))
        case .canary: mode = .canary(basisPoints: Int((request.percent * 100).rounded()))
        case .shadow: mode = .shadow
        case .cutover: mode = .cutover
        }
        guard versionCheck == nil else {
            return refuseRollout(client.id, path: request.path, mode: mode,
                                 PipelineError(.usage, "another rollout is being checked; try again once it is answered"))
        }
        let input = VersionCheckInput(config: config, configPath: configPath, configText: configText, runDirectory: runDir.path,
                                      csvHeader: csvHeader, primaryID: core.rollout.primary.id, slot: core.rollout.nextSlot)
        let path = request.path
        Log.info("rollout: checking \(path)")
        versionCheck = (client.id, mode, path, BackgroundTask(wakeup: wakeup) {
            Result { () throws(PipelineError) in try Supervisor.prepareVersion(path: path, input) }
        })
    }

    /// Hands a checked version to the core, or refuses it, once its check is done.
    func finishVersionCheck() {
        guard let check = versionCheck, let result = check.task.result else { return }
        versionCheck = nil
        switch result {
        case .success(let version):
            if core.rollout.phase == .steady && version.id != core.rollout.primary.id && version.slot == core.rollout.nextSlot {
                versionConfigs[version.slot] = version
            }
            dispatch(.rollout(client: check.client, .begin(Rollout.Version(slot: version.slot, id: version.id), check.mode)))
        case .failure(let error):
            refuseRollout(check.client, path: check.path, mode: check.mode, error)
        }
    }

    private func refuseRollout(_ client: Int, path: String, mode: Rollout.Mode, _ error: PipelineError) {
        Log.error("rollout refused: \(error.message)")
        eventLog.record(.rollout(RolloutStep(step: "refused", version: path, other: core.rollout.primary.id, mode: mode.name,
                                             message: error.message)))
        perform(.reply(client: client, status: error.code,
                       text: "rollout refused: \(error.message); the stream goes on untouched with \(core.rollout.primary.id)", withStatus: false))
    }

    /// What checking a version reads of the running pipeline, copied for the checking thread.
    struct VersionCheckInput: Sendable {
        var config: PipelineConfig
        var configPath: String
        var configText: String
        var runDirectory: String
        var csvHeader: String?
        var primaryID: String
        var slot: UInt16
    }

    /// The version `path` names (a config, or an ONNX model that takes the running config's
    /// place), checked as `pipeline check` checks a config, its weights prepared in the run directory.
    static func prepareVersion(path: String, _ run: VersionCheckInput) throws(PipelineError) -> ModelVersion {
        let isModel = !path.hasSuffix(".toml")
        var versionConfig: PipelineConfig
        var configPath = run.configPath, configText = run.configText, modelPath = ""
        if isModel {
            versionConfig = run.config
            versionConfig.model.path = path
            versionConfig.model.version = nil
            modelPath = path
        } else {
            let file = try ConfigFile.load(path)
            if let difference = run.config.input.difference(to: file.config.input) {
                throw PipelineError(.config, "\(path): its [input] must be the running config's: \(difference)")
            }
            versionConfig = run.config.withModelPart(of: file.config)
            configPath = file.path
            configText = file.text
        }
        let report = try Preflight.check(versionConfig, cacheDirectory: run.runDirectory)
        // The labels, as `up` settles them: the config's, else the model's classes.
        let labels: [ClassLabel]
        do {
            let reparsed = try PipelineConfig.parse(text: configText, path: configPath, model: report.modelOutput)
            labels = reparsed.output.labels ?? []
            versionConfig.output.labels = reparsed.output.labels
        } catch {
            throw PipelineError(.config, error.description)
        }
        if let running = run.csvHeader {
            let new = try report.csvHeader(versionConfig)
            if running != new {
                throw PipelineError(.config, "the CSV output's columns would change (\(running.dropLast()) → \((new ?? "").dropLast())): a rollout keeps them")
            }
        }
        let id = try versionID(of: versionConfig)
        guard id != run.primaryID else {
            throw PipelineError(.usage, "version \(id) is already the live version")
        }
        return ModelVersion(slot: run.slot, id: id, configPath: configPath, configText: configText, classLabels: labels, modelPath: modelPath)
    }
}
