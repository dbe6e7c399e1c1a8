import Config
import AggregateStage
import Runtime

ReplicaHost.main(node: .aggregate) { message in
    try AggregateProcessor(config: try PipelineConfig.parse(text: message.configText, path: message.configPath))
}
