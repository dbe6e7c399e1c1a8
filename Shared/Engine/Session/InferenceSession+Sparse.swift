import Kernels

/// One chunk of CSR input rows, with absolute offsets into `columns` / `values`.
struct SparseChunk {
    var rowStart: UnsafePointer<UInt32>
    var columns: UnsafePointer<UInt32>
    var values: UnsafePointer<Float>
    var weights: UnsafePointer<Float>

    /// Runs the plan's first linear layer as sparse × dense.
    func run(_ step: Step, layer: LinearLayer, rows: Int, _ pointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>) {
        let out = pointers[step.output]
        if let bias = layer.bias {
            bias.withUnsafeBufferPointer { b in
                sparseGemm(m: rows, rowStart: rowStart, columns: columns, values: values, b: weights, n: layer.n,
                           bias: b.baseAddress, activation: layer.activation, c: out, ldc: layer.n)
            }
        } else {
            sparseGemm(m: rows, rowStart: rowStart, columns: columns, values: values, b: weights, n: layer.n,
                       bias: nil, activation: layer.activation, c: out, ldc: layer.n)
        }
    }
}

extension InferenceSession {
    /// Scores `rows` rows given in CSR form (the featurize stage's hashed-text output).
    ///
    /// When the input feeds a single linear layer (Gemm, MatMul, LinearClassifier, …), that layer
    /// runs as a sparse GEMM; otherwise each chunk is densified into a workspace buffer first.
    ///
    /// - Parameters:
    ///   - rowStart: `rows + 1` non-decreasing offsets; row r is entries `rowStart[r] ..< rowStart[r + 1]`.
    ///   - columns: column of each entry, each `< inputWidth`.
    ///   - values: value of each entry.
    ///   - output: room for `rows × outputWidth` floats.
    /// - Throws: `ModelError` (`.invalidArgument`) for decreasing offsets or a column out of range;
    ///   the input is checked before anything is computed.
    public mutating func runSparse(rows: Int, rowStart: UnsafePointer<UInt32>, columns: UnsafePointer<UInt32>,
                                   values: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) throws(ModelError) {
        guard rows >= 0 else { throw ModelError(.invalidArgument, "rows must not be negative, got \(rows)") }
        let width = plan.inputWidth
        for r in 0..<rows {
            guard rowStart[r] <= rowStart[r + 1] else {
                throw ModelError(.invalidArgument, "rowStart decreases at row \(r) (\(rowStart[r]) > \(rowStart[r + 1]))")
            }
            for e in Int(rowStart[r])..<Int(rowStart[r + 1]) where Int(columns[e]) >= width {
                throw ModelError(.invalidArgument, "row \(r) has column \(columns[e]), but the model's input has \(width) features")
            }
        }
        prepareWorkspace()
        let chunkRows = self.chunkRows
        if plan.sparseStep != nil, let layer = plan.sparseLayer {
            if plan.sparseWeights == nil && workspace.sparseWeights == nil {
                workspace.sparseWeights = WeightArray(layer.weights.unpacked())
            }
            guard let weights = plan.sparseWeights ?? workspace.sparseWeights else { return }
            try weights.withUnsafeBufferPointer { w in Result { () throws(ModelError) in
                var done = 0
                while done < rows {
                    let chunk = min(chunkRows, rows - done)
                    let sparse = SparseChunk(rowStart: rowStart + done, columns: columns, values: values, weights: w.baseAddress!)
                    // The input slot is read by the sparse step only; point it at the output, unused.
                    try runChunk(rows: chunk, input: UnsafePointer(output), output: output + done * plan.outputWidth, sparse: sparse)
                    done += chunk
                }
            } }.get()
            return
        }
        let dense = workspace.denseBuffer(count: chunkRows * width)
        var done = 0
        while done < rows {
            let chunk = min(chunkRows, rows - done)
            dense.update(repeating: 0, count: chunk * width)
            for r in 0..<chunk {
                for e in Int(rowStart[done + r])..<Int(rowStart[done + r + 1]) {
                    dense[r * width + Int(columns[e])] += values[e]
                }
            }
            try runChunk(rows: chunk, input: dense, output: output + done * plan.outputWidth)
            done += chunk
        }
    }
}
