import Config
import InferStage
import Runtime

ReplicaHost.main(node: .infer) { message in
    try InferProcessor(config: try PipelineConfig.parse(text: message.configText, path: message.configPath))
}
