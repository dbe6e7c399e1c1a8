/// `[stage.<ingest|featurize|infer|aggregate>]` tables and their `restart` policy.
extension ConfigLoader {
    /// Largest `replicas` a stage may start with.
    static let maxReplicas = 64

    /// All four stages; those without a table get `StageSpec()`.
    func loadStages(_ top: TableReader) throws(ConfigError) -> [StageKind: StageSpec] {
        var stages: [StageKind: StageSpec] = [:]
        for kind in StageKind.allCases { stages[kind] = StageSpec() }
        guard let stage = try top.subtable("stage", title: "[stage]",
                                           known: StageKind.allCases.map(\.rawValue)) else {
            return stages
        }
        for entry in stage.table.entries {
            let kind = StageKind(rawValue: entry.key)!
            let path = "stage.\(entry.key)"
            let reader = try stage.subtable(entry.key, title: "[\(path)]",
                                            known: ["replicas", "restart", "min_replicas", "max_replicas"])!
            stages[kind] = try loadStage(reader)
        }
        return stages
    }

    private func loadStage(_ stage: TableReader) throws(ConfigError) -> StageSpec {
        var spec = StageSpec()
        spec.replicas = try stage.integer("replicas", in: 1...Self.maxReplicas) ?? spec.replicas
        spec.minReplicas = try stage.integer("min_replicas", in: 1...Self.maxReplicas)
        spec.maxReplicas = try stage.integer("max_replicas", in: 1...Self.maxReplicas)
        if let low = spec.minReplicas, let high = spec.maxReplicas, low > high {
            throw stage.invalid(stage.keyPath("max_replicas"), "is \(high), below min_replicas = \(low)", at: stage.value("max_replicas")!.position)
        }
        let title = "[\(stage.keyPath("restart"))]"
        guard let restart = try stage.subtable("restart", title: title,
                                               known: ["max", "within_s"]) else { return spec }
        spec.maxRestarts = try restart.integer("max", in: 0...Int.max) ?? spec.maxRestarts
        if let window = try restart.number("within_s") {
            guard window > 0 else {
                throw restart.invalid(restart.keyPath("within_s"), "must be > 0, found \(window)",
                                      at: restart.value("within_s")!.position)
            }
            spec.restartWindowSeconds = window
        }
        return spec
    }
}
