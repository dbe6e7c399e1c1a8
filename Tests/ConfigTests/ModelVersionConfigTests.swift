import Config
import Foundation
import Messages
import Testing

/// The config side of model versions: `[model] version`, the `model_version` output field,
/// what a replica builds for a version, and what a rollout may not change (`[input]`).
@Suite struct ModelVersionConfigTests {
    @Test func aVersionNameIsCheckedWhereItIsWritten() throws {
        let named = try parseConfig(minimalSchema.replacingOccurrences(of: "path = \"model.onnx\"", with: "path = \"model.onnx\"\nversion = \"fraud-v2.1_q8\""))
        #expect(named.model.version == "fraud-v2.1_q8")
        #expect(try parseConfig(minimalSchema).model.version == nil)
        for bad in ["", "has space", "slash/no", String(repeating: "x", count: 65), "é"] {
            let error = configError(minimalSchema.replacingOccurrences(of: "path = \"model.onnx\"", with: "path = \"model.onnx\"\nversion = \"\(bad)\""))
            #expect(error?.message.contains("model.version") == true, "\(bad): \(error?.message ?? "")")
        }
        #expect(configError(minimalSchema.replacingOccurrences(of: "path = \"model.onnx\"", with: "path = \"model.onnx\"\nversion = 2")) != nil)
    }

    @Test func modelVersionIsAnOutputField() throws {
        let config = try parseConfig(minimalSchema + "\n[output]\nfields = [\"label\", \"model_version\"]\n")
        #expect(config.output.fields == [.label, .modelVersion])
    }

    @Test func aReplicaBuildsAVersionOverTheRunsConfig() throws {
        let run = minimalSchema + "\n[pipeline]\nname = \"run\"\nbatch_rows = 64\n"
        let other = minimalSchema.replacingOccurrences(of: "model.onnx", with: "v2.onnx")
            .replacingOccurrences(of: "kind = \"identity\"", with: "kind = \"standardize\"\nmean = 1.0\nstd = 2.0")
            + "\n[pipeline]\nbatch_rows = 8\n[output]\nlabels = [\"a\"]\n"
        var message = ConfigMessage(configPath: "/cfg/run.toml", configText: run, listenPath: "", credits: 4, heartbeatMillis: 250)
        message.versions = VersionSet(generation: 1, versions: [])
        let v = ModelVersion(slot: 2, id: "v2", configPath: "/cfg/new/b.toml", configText: other, classLabels: ["yes"])
        let config = try PipelineConfig.forReplica(message, version: v)
        #expect(config.pipeline.batchRows == 64, "the run's own [pipeline]")
        #expect(config.model.path == "/cfg/new/v2.onnx" && config.model.version == "v2")
        #expect(config.features.first?.kind != .identity)
        #expect(config.output.labels == ["yes"], "the labels the supervisor settled")
        // A model file alone: the run's config with that model.
        let alone = ModelVersion(slot: 3, id: "abc", configPath: "/cfg/run.toml", configText: run, classLabels: [], modelPath: "/m/x.onnx")
        let c2 = try PipelineConfig.forReplica(message, version: alone)
        let runFeatures = try parseConfig(run, path: "/cfg/run.toml").features
        #expect(c2.model.path == "/m/x.onnx" && c2.model.version == "abc" && c2.features == runFeatures)
    }

    @Test func aRolloutMayNotChangeHowRecordsAreRead() throws {
        let a = try parseConfig(minimalSchema).input
        #expect(a.difference(to: a) == nil)
        var b = a
        b.fields[0].type = .int
        #expect(a.difference(to: b) == "input field `amount` is int in the new config, float in the running one")
        var c = a
        c.fields.append(FieldSpec(name: "hour", type: .int))
        #expect(a.difference(to: c)?.contains("the [[input.field]] names differ") == true)
        var d = a
        d.format = .csv
        #expect(a.difference(to: d)?.contains("format is \"csv\"") == true)
        var e = a
        e.fields[0].required = false
        #expect(a.difference(to: e)?.contains("required = false") == true)
    }
}
