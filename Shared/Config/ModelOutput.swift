import Messages

/// What a loaded model says about the output a pipeline reads: what the config checks and
/// fills in once the model is known (see `PipelineConfig.parse(text:path:model:)`).
public struct ModelOutput: Sendable, Equatable {
    /// Values per record of the output read (one per class for a classifier).
    public var width: Int
    /// The model's own classes, one per output column, when it carries them (the
    /// `classlabels_ints` / `classlabels_strings` of its classifier); nil otherwise.
    public var classLabels: [ClassLabel]?

    public init(width: Int, classLabels: [ClassLabel]? = nil) {
        self.width = width
        self.classLabels = classLabels
    }
}
