import Kernels

/// One step of a session's plan: a lowered op bound to buffer slots.
///
/// Slot 0 is the caller's input, slot 1 the caller's output, slots 2… the session's workspace
/// buffers. Widths are floats per batch item, so a chunk of `rows` items of slot s holds
/// `rows * width` floats.
struct Step: Sendable {
    static let inputSlot = 0
    static let outputSlot = 1

    /// The op; `.alias` has been resolved away by planning, so a step's `.alias` copies its
    /// input to its output (the selected output is the graph input itself).
    var kind: LoweredOp
    var inputs: [Int]
    var output: Int
    var inputWidth: Int
    var outputWidth: Int
    var nodeName: String
    var opType: String
    /// The workspace slot a `quantizedLinear` step uses as scratch (its Int32 sums, row scales
    /// and quantized input); nil for every other step.
    var scratch: Int? = nil

    var isInPlace: Bool { inputs.first == output }

    /// Kinds that read each element before writing the same position, so they may run in place.
    static func canRunInPlace(_ op: LoweredOp) -> Bool {
        switch op {
        case .activation, .truncate, .binaryConstant, .binary, .softmax, .softmaxZero, .normalize, .gather, .unary, .impute,
             .quantize, .dequantize, .fakeQuantize, .quantizedSoftmax: true
        // In place shares one buffer, sized for the output: only when the raw scores are as wide.
        case .treeFinalize(let finalize): !finalize.dynamicPresence
        case .linear, .quantizedLinear, .alias, .argMax, .concat, .binaryScores, .classLabel, .selectColumns, .oneHot, .treeScores, .treeLabel: false
        }
    }
}

/// Everything a session needs to run, built once from the model by `SessionPlanner`.
struct SessionPlan: Sendable {
    var steps: [Step]
    /// Floats per batch item of each workspace slot (indices 0 and 1 unused).
    var slotWidths: [Int]
    var inputName: String
    var outputName: String
    var inputWidth: Int
    var outputWidth: Int
    /// The step that is the only reader of the input, when it is a linear layer over whole
    /// input rows: `runSparse` runs it as a sparse GEMM instead of densifying.
    var sparseStep: Int?
    /// That layer in float32, as the sparse GEMM runs it (also when the dense step runs it in
    /// int8: sparse rows are a handful of non-zeros the sparse kernel touches directly).
    var sparseLayer: LinearLayer?
    /// That step's weights row-major k×n for `sparseGemm`, when derived at planning (shared
    /// sessions); otherwise `runSparse` derives them into the workspace on first use.
    var sparseWeights: WeightArray<Float>?
}
