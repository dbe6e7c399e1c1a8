/// The classes a classifier model names: the `classlabels_ints` (`classlabels_int64s`) or
/// `classlabels_strings` of its LinearClassifier, TreeEnsembleClassifier or ZipMap, or the
/// constant table an ArrayFeatureExtractor looks the argmax up in (skl2onnx's MLPs).
public enum ModelClassLabels: Sendable, Equatable {
    case ints([Int64])
    case strings([String])

    /// How many classes.
    public var count: Int {
        switch self {
        case .ints(let labels): labels.count
        case .strings(let labels): labels.count
        }
    }
}
