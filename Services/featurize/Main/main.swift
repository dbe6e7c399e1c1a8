import Config
import FeaturizeStage
import Runtime

ReplicaHost.main(node: .featurize) { message in
    var config = try PipelineConfig.parse(text: message.configText, path: message.configPath)
    // The drift reference's bins, as the supervisor read them (the config only names the file).
    config.driftPlan = message.drift
    return try FeaturizeProcessor(config: config)
}
