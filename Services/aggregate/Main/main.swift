import Config
import AggregateStage
import Runtime

ReplicaHost.main(node: .aggregate) { message, version in
    var config = try PipelineConfig.forReplica(message, version: version)
    config.driftPlan = message.drift
    return try AggregateProcessor(config: config)
}
