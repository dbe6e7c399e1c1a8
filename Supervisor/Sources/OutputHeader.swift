import Config

/// The CSV header line the sink writes before the first output record.
enum OutputHeader {
    static func csv(_ config: PipelineConfig) -> String {
        // Replaced by AggregateProcessor.csvHeader once the aggregate stage lands.
        var names = config.output.passthrough
        for f in config.output.fields { names.append(f.rawValue) }
        return names.joined(separator: ",") + "\n"
    }
}
