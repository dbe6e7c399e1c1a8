import Config
import AggregateStage
import Runtime

ReplicaHost.main(node: .aggregate) { message in
    var config = try PipelineConfig.parse(text: message.configText, path: message.configPath)
    // The supervisor settled the labels with the model loaded (the model's classes when the config names none).
    if !message.classLabels.isEmpty { config.output.labels = message.classLabels }
    config.driftPlan = message.drift
    return try AggregateProcessor(config: config)
}
