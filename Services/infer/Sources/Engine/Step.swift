import Kernels

/// One step of a session's plan: a lowered op bound to buffer slots.
///
/// Slot 0 is the caller's input, slot 1 the caller's output, slots 2… the session's workspace
/// buffers. Widths are floats per batch item, so a chunk of `rows` items of slot s holds
/// `rows * width` floats.
struct Step: Sendable {
    enum Kind: Sendable {
        /// `m = rows * inputWidth / k` rows through one GEMM with fused bias and activation.
        case linear(LinearLayer)
        case activation(Activation)
        case truncate
        case binaryConstant(BinaryKind, row: [Float], constantFirst: Bool)
        case binary(BinaryKind)
        case softmax(cols: Int, log: Bool)
        case softmaxZero(cols: Int)
        case argMax(axis: Int, inner: Int, selectLast: Bool)
        case concat(outer: Int, pieces: [Int])
        case binaryScores(logistic: Bool)
        case classLabel(labels: [Float])
        case normalize(NormKind)
        case gather(table: [Float])
        case unary(UnaryKind)
        case selectColumns(indices: [Int])
        case impute(row: [Float], replaced: Float)
        case oneHot(categories: [Float], zeros: Bool)
        case treeScores(TreeScores)
        case treeFinalize(TreeFinalize)
        case treeLabel(TreeFinalize)
        /// Input to output unchanged (the selected output is the graph input itself).
        case copy
    }

    static let inputSlot = 0
    static let outputSlot = 1

    var kind: Kind
    var inputs: [Int]
    var output: Int
    var inputWidth: Int
    var outputWidth: Int
    var nodeName: String
    var opType: String

    var isInPlace: Bool { inputs.first == output }

    /// Kinds that read each element before writing the same position, so they may run in place.
    static func canRunInPlace(_ op: LoweredOp) -> Bool {
        switch op {
        case .activation, .truncate, .binaryConstant, .binary, .softmax, .softmaxZero, .normalize, .gather, .unary, .impute: true
        // In place shares one buffer, sized for the output: only when the raw scores are as wide.
        case .treeFinalize(let finalize): !finalize.dynamicPresence
        case .linear, .alias, .argMax, .concat, .binaryScores, .classLabel, .selectColumns, .oneHot, .treeScores, .treeLabel: false
        }
    }

    static func kind(_ op: LoweredOp) -> Kind {
        switch op {
        case .linear(let layer): .linear(layer)
        case .activation(let a): .activation(a)
        case .truncate: .truncate
        case .binaryConstant(let k, let row, let first): .binaryConstant(k, row: row, constantFirst: first)
        case .binary(let k): .binary(k)
        case .softmax(let cols, let log): .softmax(cols: cols, log: log)
        case .softmaxZero(let cols): .softmaxZero(cols: cols)
        case .argMax(let axis, let inner, let last): .argMax(axis: axis, inner: inner, selectLast: last)
        case .concat(let outer, let pieces): .concat(outer: outer, pieces: pieces)
        case .binaryScores(let logistic): .binaryScores(logistic: logistic)
        case .classLabel(let labels): .classLabel(labels: labels)
        case .normalize(let norm): .normalize(norm)
        case .gather(let table): .gather(table: table)
        case .unary(let kind): .unary(kind)
        case .selectColumns(let indices): .selectColumns(indices: indices)
        case .impute(let row, let replaced): .impute(row: row, replaced: replaced)
        case .oneHot(let categories, let zeros): .oneHot(categories: categories, zeros: zeros)
        case .treeScores(let scores): .treeScores(scores)
        case .treeFinalize(let finalize): .treeFinalize(finalize)
        case .treeLabel(let finalize): .treeLabel(finalize)
        case .alias: .copy
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
}
