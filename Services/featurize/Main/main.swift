import Config
import FeaturizeStage
import Runtime

ReplicaHost.main(node: .featurize) { message in
    try FeaturizeProcessor(config: try PipelineConfig.parse(text: message.configText, path: message.configPath))
}
