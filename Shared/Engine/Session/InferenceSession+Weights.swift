import Kernels

/// Where a session's weights are: private to this process, or borrowed from a mapped weight
/// cache file shared by every process that maps it (see `WeightStore`).
extension InferenceSession {
    /// True when every weight array this session reads is borrowed from memory someone else
    /// owns, such as a mapped cache file (none is private to this process); int8 layers' packed
    /// panels included.
    public var sharesWeights: Bool {
        weightBuffers.allSatisfy(\.isBorrowed)
    }

    /// The buffers holding the weights the plan reads.
    private var weightBuffers: [WeightBuffer] {
        var buffers: [WeightBuffer] = plan.sparseWeights.map { [$0.buffer] } ?? []
        for step in plan.steps {
            switch step.kind {
            case .linear(let layer): buffers.append(layer.weights.buffer)
            case .quantizedLinear(let layer): buffers += layer.weights.buffers
            case .treeScores(let scores): buffers += scores.forest.flattened.buffers
            default: break
            }
        }
        return buffers
    }

    /// Maps in every page of the shared weights the plan reads, so that the first batch does not
    /// stall on page faults (a 100 MB model is 25k pages); a process that will score calls it
    /// before it says it is ready. Pages of arrays the plan does not read (weights superseded
    /// by folding) stay unmapped. Does nothing for private weights (they are resident).
    public func prefaultWeights() {
        for buffer in weightBuffers where buffer.isBorrowed { buffer.prefault() }
    }
}
