import Config
import InferStage
import Runtime

ReplicaHost.main(node: .infer) { message, version in
    // The run directory (where the replica's socket is) holds the weight caches every replica maps.
    let runDirectory = message.listenPath.lastIndex(of: "/").map { String(message.listenPath[..<$0]) } ?? "."
    let processor = try InferProcessor(config: try PipelineConfig.forReplica(message, version: version), cacheDirectory: runDirectory)
    if !processor.sharesWeights {
        Log.info("the weight cache in \(runDirectory) cannot be used: this replica keeps its own copy of the weights")
    }
    return processor
}
