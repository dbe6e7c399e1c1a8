import Config
import InferStage
import Runtime

ReplicaHost.main(node: .infer) { message in
    // The run directory (where the replica's socket is) holds the weight cache every replica maps.
    let runDirectory = message.listenPath.lastIndex(of: "/").map { String(message.listenPath[..<$0]) } ?? "."
    let processor = try InferProcessor(config: try PipelineConfig.parse(text: message.configText, path: message.configPath),
                                       cacheDirectory: runDirectory)
    if !processor.sharesWeights {
        Log.info("the weight cache in \(runDirectory) cannot be used: this replica keeps its own copy of the weights")
    }
    return processor
}
