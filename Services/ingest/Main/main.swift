import Config
import IngestStage
import Runtime

ReplicaHost.main(node: .ingest) { message, _ in
    try IngestProcessor(config: try PipelineConfig.parse(text: message.configText, path: message.configPath))
}
