import Config
import InferStage
import Runtime

ReplicaHost.main(node: .infer) { message in
    // The run directory (where the replica's socket is) holds the weight cache every replica maps.
    let runDirectory = message.listenPath.lastIndex(of: "/").map { String(message.listenPath[..<$0]) } ?? "."
    return try InferProcessor(config: try PipelineConfig.parse(text: message.configText, path: message.configPath),
                              cacheDirectory: runDirectory)
}
