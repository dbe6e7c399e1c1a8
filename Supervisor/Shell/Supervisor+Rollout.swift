import Config
import ControlCore
import Engine
import InferStage
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
    /// The weight caches of versions no longer live go from the run directory (a memory-backed
    /// one in a pod): months of rollouts leave only the live versions' caches.
    func sendVersions() {
        let live = Set(core.rollout.live.map(\.slot))
        versionConfigs = versionConfigs.filter { live.contains($0.key) }
        let dropped = versionCaches.filter { !live.contains($0.key) }.count
        versionCaches = versionCaches.filter { live.contains($0.key) }
        if dropped > 0 { sweepWeightCaches() }
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
        case .abort:
            // A version still being checked: it will not be rolled out.
            if let check = versionCheck, !check.cancelled {
                versionCheck!.cancelled = true
                return perform(.reply(client: client.id, status: .ok, text: "aborted the rollout of \(check.path) (it was being checked)", withStatus: false))
            }
            return dispatch(.rollout(client: client.id, .abort))
        case .canary: mode = .canary(basisPoints: Int((request.percent * 100).rounded()))
        case .shadow: mode = .shadow
        case .cutover: mode = .cutover
        }
        guard versionCheck == nil else {
            return refuseRollout(client.id, path: request.path, mode: mode,
                                 PipelineError(.usage, "another rollout is being checked; try again once it is answered"))
        }
        let live = core.rollout.live.compactMap { versionConfigs[$0.slot] }
        let input = VersionCheckInput(config: config, configPath: configPath, configText: configText, runDirectory: runDir.path,
                                      csvHeader: csvHeader, live: live, slot: core.rollout.nextSlot)
        let path = request.path
        Log.info("rollout: checking \(path)")
        versionCheck = VersionCheck(client: client.id, mode: mode, path: path, task: BackgroundTask(wakeup: wakeup) {
            Result { () throws(PipelineError) in try Supervisor.prepareVersion(path: path, input) }
        })
    }

    /// A `pipeline rollout` whose version is being checked on its own thread.
    struct VersionCheck {
        var client: Int
        var mode: Rollout.Mode
        var path: String
        var task: BackgroundTask<Result<PreparedVersion, PipelineError>>
        /// `--abort` came meanwhile: the version is not rolled out whatever the check finds.
        var cancelled = false
    }

    /// Hands a checked version to the core, or refuses it, once its check is done.
    func finishVersionCheck() {
        guard let check = versionCheck, let result = check.task.result else { return }
        versionCheck = nil
        // The weights of a version refused, aborted or not taken go with the sweep.
        defer { sweepWeightCaches() }
        if check.cancelled {
            eventLog.record(.rollout(RolloutStep(step: "aborted", version: "", other: core.rollout.primary.id, path: check.path,
                                                 message: "aborted while it was being checked")))
            return perform(.reply(client: check.client, status: .stageFailed,
                                  text: "rollout of \(check.path) aborted by `pipeline rollout --abort` while it was being checked", withStatus: false))
        }
        switch result {
        case .success(let prepared):
            let version = prepared.version
            if core.rollout.phase == .steady && version.id != core.rollout.primary.id && version.slot == core.rollout.nextSlot {
                versionConfigs[version.slot] = version
                versionCaches[version.slot] = prepared.weightCache
            }
            dispatch(.rollout(client: check.client, .begin(Rollout.Version(slot: version.slot, id: version.id), check.mode)))
        case .failure(let error):
            refuseRollout(check.client, path: check.path, mode: check.mode, error)
        }
    }

    private func refuseRollout(_ client: Int, path: String, mode: Rollout.Mode, _ error: PipelineError) {
        Log.error("rollout refused: \(error.message)")
        eventLog.record(.rollout(RolloutStep(step: "refused", version: "", other: core.rollout.primary.id, mode: mode.name,
                                             path: path, message: error.message)))
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
        /// The live versions, the primary first.
        var live: [ModelVersion]
        var slot: UInt16
    }

    /// A checked version, and the file its weights were prepared in (in the run directory).
    struct PreparedVersion: Sendable {
        var version: ModelVersion
        var weightCache: String
    }

    /// Removes the run directory's weight caches (with their lock and temporary files) that no
    /// live version uses: those of retired versions, of refused or aborted ones, and any a replica
    /// still building a dropped version wrote after it was removed. Not while a version is being
    /// checked (its cache is being written). When versions drop, when a check ends, and every
    /// 10 s (`step`).
    func sweepWeightCaches() {
        guard versionCheck == nil else { return }
        let keep = Set(versionCaches.values)
        var removed: Set<String> = []
        for name in (try? Sys.listDirectory(runDir.path)) ?? [] where name.hasPrefix("infer-weights-") {
            // `infer-weights-<16 hex digits>.cache`, then `.lock` or `.tmp.<pid>` for its companions.
            let cache = String(name.prefix("infer-weights-0123456789abcdef.cache".count))
            guard cache.hasSuffix(".cache") else { continue }
            guard !keep.contains(cache) else { continue }
            if (try? Sys.unlink(runDir.path + "/" + name)) != nil, name == cache { removed.insert(cache) }
        }
        if !removed.isEmpty {
            Log.info("removed the weights of model versions no longer live: " + removed.sorted().joined(separator: ", "))
        }
    }

    /// The file name of `config`'s model weights in the run directory (`InferenceSession`'s).
    static func weightCacheName(_ config: PipelineConfig) -> String {
        InferenceSession.cacheFileName(modelPath: config.model.path, input: config.model.input, output: config.model.output,
                                       precision: config.model.linearPrecision)
    }

    /// What makes a version besides its model file: what a rollout of the same file may change.
    static func modelPart(_ c: PipelineConfig) -> String {
        "\(c.features)|\(c.model.input ?? "")|\(c.model.output ?? "")|\(c.model.precision)|\(c.output)"
    }

    /// The version `path` names (a config, or an ONNX model that takes the running config's
    /// place), checked as `pipeline check` checks a config, its weights prepared in the run directory.
    static func prepareVersion(path: String, _ run: VersionCheckInput) throws(PipelineError) -> PreparedVersion {
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
        if versionConfig.output.format != run.config.output.format {
            throw PipelineError(.config, "[output] format is \"\(versionConfig.output.format.rawValue)\" in the new config, \"\(run.config.output.format.rawValue)\" in the running one: a rollout keeps it")
        }
        // A live version's file, changed in place: replicas starting later would load the new
        // model under the old version's name.
        let identity = FileIdentity.current(versionConfig.model.path)?.text ?? ""
        for v in run.live {
            let livePath = v.modelPath.isEmpty ? ((try? PipelineConfig.parse(text: v.configText, path: v.configPath))?.model.path ?? "") : v.modelPath
            if livePath == versionConfig.model.path && !v.modelIdentity.isEmpty && v.modelIdentity != identity {
                throw PipelineError(.config, "\(livePath) is the file version \(v.id) runs from, and it has changed since: "
                                    + "put the new model under a new path (replicas started later would load it as \(v.id))")
            }
        }
        // Refused from here on, the weights prepared here go with the sweep (`finishVersionCheck`).
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
        var id = try versionID(of: versionConfig)
        let part = modelPart(versionConfig)
        let primary = run.live[0]
        if id == primary.id, let running = try? primary.runningConfig(over: run), modelPart(running) == part {
            throw PipelineError(.usage, "version \(id) is already the live version")
        }
        // The same file with other features, output or precision (an int8 shadow of the live
        // model): another version, named after its file and what differs.
        if versionConfig.model.version == nil, run.live.contains(where: { $0.id == id }) {
            id += "-" + String(SHA256.hex(SHA256.hash(Array(part.utf8))).prefix(6))
        }
        guard !run.live.contains(where: { $0.id == id }) else {
            throw PipelineError(.usage, "version \(id) is already live (\(id == primary.id ? "the primary" : "loaded for a rollback or a canary"))")
        }
        let version = ModelVersion(slot: run.slot, id: id, configPath: configPath, configText: configText, classLabels: labels,
                                   modelPath: modelPath, modelIdentity: identity)
        return PreparedVersion(version: version, weightCache: weightCacheName(versionConfig))
    }
}

extension ModelVersion {
    /// The config this version runs with over the running one (as a replica builds it).
    func runningConfig(over run: Supervisor.VersionCheckInput) throws -> PipelineConfig {
        var c = run.config
        if configPath != run.configPath || configText != run.configText {
            c = c.withModelPart(of: try PipelineConfig.parse(text: configText, path: configPath))
        }
        if !modelPath.isEmpty { c.model.path = modelPath }
        if !classLabels.isEmpty { c.output.labels = classLabels }
        c.model.version = nil
        return c
    }
}
