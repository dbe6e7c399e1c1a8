import Config
import Runtime

/// `[drift] reference`: the profile read and checked against the run before anything starts.
public enum DriftReference {
    /// Reads the config's reference profile (nil without `[drift]`).
    ///
    /// - Parameter outputWidth: the model's output columns (its classes, for a classifier).
    /// - Throws: `PipelineError` (`.config`) when the file cannot be read, is not a profile,
    ///   names fields the schema lacks or types it does not have, or profiles a label the model
    ///   does not give.
    public static func load(_ config: PipelineConfig, outputWidth: Int) throws(PipelineError) -> DriftProfile? {
        guard let spec = config.drift else { return nil }
        let bytes: [UInt8]
        do {
            bytes = try Sys.readFile(spec.reference)
        } catch {
            throw PipelineError(.config, "[drift] reference \(spec.reference): cannot read it: \(error.reason)")
        }
        let profile: DriftProfile
        do {
            profile = try DriftProfile.parse(bytes, file: spec.reference, schema: config.input)
        } catch {
            throw PipelineError(.config, "[drift] reference \(error)")
        }
        if let label = profile.predictions.first(where: { $0.bins.name == "label" }) {
            let classifier = config.output.labels != nil || outputWidth > 1
            guard classifier else {
                throw PipelineError(.config, "[drift] reference \(spec.reference): it profiles a predicted label, but the model "
                                    + "gives one value per record (a regressor): profile its score only")
            }
            let names = config.output.labels?.map(\.description) ?? (0..<outputWidth).map { String($0) }
            let unknown = label.bins.values.filter { v in !names.contains { $0.utf8.elementsEqual(v.utf8) } }
            if !unknown.isEmpty {
                throw PipelineError(.config, "[drift] reference \(spec.reference): the predicted labels "
                                    + unknown.map { "\"\($0)\"" }.joined(separator: ", ") + " are not among the model's classes ("
                                    + names.joined(separator: ", ") + "): was it profiled with another model?")
            }
        }
        return profile
    }
}
