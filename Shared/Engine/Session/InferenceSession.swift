/// What a session's linear layers (Gemm, MatMul with constant weights) compute with.
public enum LinearPrecision: String, Sendable, Equatable, CaseIterable {
    /// As the model is written.
    case float32
    /// Weights quantized at load to int8, activations per record and layer to uint8.
    case int8
    /// Weights rounded to bfloat16 at load (half the memory); products and sums in float32.
    case bf16
}

/// Runs one model on batches of rows: one session per replica (or per thread).
///
/// Creating it plans the graph for one input and one output: unneeded nodes are dropped, linear
/// layers are fused with their bias and activation, and every intermediate buffer is allocated
/// once for a chunk of `chunkRows` rows (at most `maxBatch`, fewer when a chunk that fits in
/// the L2 cache is smaller). `run` then allocates nothing and processes any number of rows
/// chunk by chunk.
///
/// - Important: a session is a value with copy-on-write buffers: a copy made while another
///   copy is running gets its own buffers on its first run. Share the `OnnxModel`, not sessions.
public struct InferenceSession: Sendable {
    /// The model this session runs.
    public let model: OnnxModel
    let plan: SessionPlan
    var workspace: Workspace

    /// Plans a session.
    ///
    /// - Parameters:
    ///   - input: the graph input to feed; nil = the first graph input.
    ///   - output: the tensor to read (any computed tensor of the graph, by name); nil = the first
    ///     float tensor among the graph outputs, where a ZipMap output stands for its float input
    ///     (the probabilities). Integer tensors (labels, ArgMax) can be named; their values come
    ///     out as exact whole-number Floats.
    ///   - maxBatch: the most rows computed at once (> 0); buffers are sized for `chunkRows`
    ///     (<= maxBatch) rows, so memory stays bounded whatever `rows` a run gets.
    ///   - precision: what the linear layers compute with (see `LinearPrecision`).
    /// - Throws: `ModelError` for an unknown name, an output that is not a float/int tensor (a
    ///   ZipMap output names the tensor to select instead), or an output that needs another input.
    public init(model: OnnxModel, input: String? = nil, output: String? = nil, maxBatch: Int = 4096,
                precision: LinearPrecision = .float32) throws(ModelError) {
        guard maxBatch > 0 else { throw ModelError(.invalidArgument, "maxBatch must be positive, got \(maxBatch)") }
        do throws(ModelError) {
            plan = try SessionPlanner.plan(model.graph, input: input, output: output, store: model.store,
                                           precision: precision)
        } catch {
            throw error.inFile(model.name)
        }
        // Chunks small enough that the intermediates of one chunk stay in L2 while the next
        // layer reads them (measured: 4096-row chunks of a 64-256-256-10 MLP ran ~1.5x slower
        // than 256-row ones); maxBatch only caps the chunk. The slots, plus the dense input
        // buffer `runSparse` may need, are sized for one chunk.
        let perRow = plan.slotWidths.reduce(plan.inputWidth, +)
        let bytesPerRow = 4 * (perRow + plan.outputWidth)
        let chunkRows = min(maxBatch, max(Self.minChunkRows, Self.chunkBytes / max(bytesPerRow, 1)))
        guard perRow * chunkRows <= Self.maxWorkspaceFloats else {
            throw ModelError(.invalidArgument, "the model's buffers need \(perRow) floats per row, more than the "
                + "4 GiB limit for \(counted(chunkRows, "row")); use a smaller maxBatch", file: model.name)
        }
        self.model = model
        self.maxBatch = maxBatch
        self.precision = precision
        workspace = Workspace(slotWidths: plan.slotWidths, rows: chunkRows)
    }

    /// Working-set target of one chunk (half of a Zen 4 core's 1 MiB L2) and the smallest chunk.
    static let chunkBytes = 512 * 1024
    static let minChunkRows = 16

    /// Upper bound on the workspace (4 GiB of floats), so an absurd model or maxBatch fails cleanly.
    static let maxWorkspaceFloats = 1 << 30

    /// Features per row the model expects (the input's size after the batch dimension).
    public var inputWidth: Int { plan.inputWidth }
    /// Floats per row of the selected output.
    public var outputWidth: Int { plan.outputWidth }
    /// The model's classes when there is one per column of the output read (see
    /// `OnnxModel.classLabels`): then column i is the probability (or score) of class i.
    public var classLabels: ModelClassLabels? {
        model.classLabels.flatMap { $0.count == outputWidth ? $0 : nil }
    }
    /// The graph input this session feeds.
    public var inputName: String { plan.inputName }
    /// The tensor this session reads.
    public var outputName: String { plan.outputName }
    /// What the linear layers compute with.
    public let precision: LinearPrecision
    /// The `maxBatch` the session was created with: the most rows computed at once.
    public let maxBatch: Int
    /// Rows per internal chunk: `maxBatch`, or fewer when a cache-sized chunk is smaller.
    public var chunkRows: Int { workspace.rows }

    /// Scores `rows` rows.
    ///
    /// - Parameters:
    ///   - rows: number of rows (>= 0); any count, processed in chunks of `chunkRows`.
    ///   - input: `rows × inputWidth` floats, row-major.
    ///   - output: room for `rows × outputWidth` floats, row-major; must not overlap `input`.
    /// - Throws: `ModelError` only for data the model cannot take (a label index out of range).
    public mutating func run(rows: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) throws(ModelError) {
        guard rows >= 0 else { throw ModelError(.invalidArgument, "rows must not be negative, got \(rows)") }
        prepareWorkspace()
        var done = 0
        while done < rows {
            let chunk = min(chunkRows, rows - done)
            try runChunk(rows: chunk, input: input + done * plan.inputWidth, output: output + done * plan.outputWidth)
            done += chunk
        }
    }

    /// Gives this copy of the session buffers of its own before it writes to them.
    mutating func prepareWorkspace() {
        if !isKnownUniquelyReferenced(&workspace) { workspace = workspace.clone() }
    }

    /// One chunk of at most `chunkRows` rows through every step.
    func runChunk(rows: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                  sparse: SparseChunk? = nil) throws(ModelError) {
        let pointers = workspace.pointers
        pointers[Step.inputSlot] = UnsafeMutablePointer(mutating: input)  // never written: see BufferAssignment
        pointers[Step.outputSlot] = output
        for index in plan.steps.indices {
            if let sparse, index == plan.sparseStep, let layer = plan.sparseLayer {
                sparse.run(plan.steps[index], layer: layer, rows: rows, pointers)
            } else {
                try plan.steps[index].execute(rows: rows, pointers)
            }
        }
    }
}
