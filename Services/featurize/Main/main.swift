import Config
import FeaturizeStage
import Runtime

ReplicaHost.main(node: .featurize) { message, version in
    var config = try PipelineConfig.forReplica(message, version: version)
    // The drift reference's bins, as the supervisor read them (the config only names the file).
    config.driftPlan = message.drift
    return try FeaturizeProcessor(config: config)
}
