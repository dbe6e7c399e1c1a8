import Config
import InferStage
import Runtime

ReplicaHost.main(node: .infer) { message, version in
    // The run directory (where the replica's socket is) holds the weight caches every replica maps.
    let runDirectory = message.listenPath.lastIndex(of: "/").map { String(message.listenPath[..<$0]) } ?? "."
    let config = try PipelineConfig.forReplica(message, version: version)
    // The version is the file as the supervisor checked it, not whatever is at its path now.
    if let version, !version.modelIdentity.isEmpty, let now = FileIdentity.current(config.model.path)?.text, now != version.modelIdentity {
        throw VersionFileChanged(version: version.id, path: config.model.path)
    }
    let processor = try InferProcessor(config: config, cacheDirectory: runDirectory)
    if !processor.sharesWeights {
        Log.info("the weight cache in \(runDirectory) cannot be used: this replica keeps its own copy of the weights")
    }
    return processor
}

/// A model version's file was replaced or written after the supervisor checked it.
struct VersionFileChanged: Error, CustomStringConvertible {
    var version: String
    var path: String
    var description: String {
        "model version \(version): \(path) has changed since it was checked (replaced or written): refusing to run another model under its name"
    }
}
