import Kernels
import Synchronization

/// Where a model's large derived arrays come from: packed GEMM panels, folded (BatchNorm-scaled)
/// weights, tree node arrays, the sparse path's row-major weights.
///
/// - `build`: computed here, in private memory (a model loaded without a cache directory).
/// - `record`: computed here and kept as records, to be written to a weight cache file.
/// - `replay`: taken from records read back from a weight cache file (arrays borrowed from its
///   mapping, shared with every process mapping it); a record that is missing or does not fit
///   the request is computed here instead.
///
/// Every request names its record by a key unique within one model and session plan (the
/// graph value it belongs to), so the same model and options ask for the same keys in any
/// process. The build closures are the only code that reads the initializers' bytes: on replay
/// they do not run, and the model file's weight pages are never touched.
///
/// `build` and `replay` stores are immutable; a recording store appends under a mutex (sessions
/// of one model may be planned on several threads).
public final class WeightStore: Sendable {
    /// One derived object as plain data: a few scalars and arrays.
    public struct Record: Sendable {
        /// Shapes and small parameters (a packed matrix's k and n, a forest's counts).
        public var scalars: [Int64]
        /// The arrays themselves.
        public var buffers: [WeightBuffer]

        public init(scalars: [Int64], buffers: [WeightBuffer]) {
            self.scalars = scalars
            self.buffers = buffers
        }
    }

    /// Where derived arrays come from (see the type's description).
    public enum Mode: Sendable {
        /// Computed here, private to this process.
        case build
        /// Computed here and listed in `records`, to be written to a cache file.
        case record
        /// Looked up by key in records read back from a cache file.
        case replay([String: Record])
    }

    let mode: Mode
    private let recording = Mutex(Recording())

    /// What a recording store has computed so far.
    private struct Recording {
        var records: [(key: String, record: Record)] = []
        var keys: Set<String> = []
        var duplicated = false
    }

    /// A store that works as `mode` says.
    public init(_ mode: Mode) {
        self.mode = mode
    }

    /// What a recording store computed, in request order; nil when two requests used the same
    /// key (a model naming two values alike), which a cache file could not tell apart.
    public var records: [(key: String, record: Record)]? {
        recording.withLock { $0.duplicated ? nil : $0.records }
    }

    /// True when derived arrays are meant to be shared through a cache file (record or replay):
    /// then the sparse path's weights are derived up front too, so they can be shared.
    var isShared: Bool {
        if case .build = mode { false } else { true }
    }

    /// - Parameter format: how the panels are stored; a float32 build is converted to it.
    func packed(_ key: String, k: Int, n: Int, format: WeightFormat = .float32,
                _ build: () -> PackedWeights) -> PackedWeights {
        // Float32 records keep their old two scalars, so caches written before bfloat16 still match.
        let scalars = [Int64(k), Int64(n)] + (format == .float32 ? [] : [Int64(format.rawValue)])
        if let record = lookup(key), record.scalars == scalars, record.buffers.count == 1,
           let weights = PackedWeights(k: k, n: n, format: format, buffer: record.buffers[0]) {
            return weights
        }
        let weights = build().converted(to: format)
        remember(key, Record(scalars: scalars, buffers: [weights.buffer]))
        return weights
    }

    /// Packed int8 weights: stored as the kernel's own panels (and column offsets), so that
    /// replicas map them; a record for another kernel (a cache written on another CPU) or one
    /// that does not validate is rebuilt here.
    func quantized(_ key: String, k: Int, n: Int, _ build: () -> QuantizedWeights) -> QuantizedWeights {
        if let record = lookup(key), record.scalars.count == 3, record.scalars[0] == Int64(k), record.scalars[1] == Int64(n),
           let kernel = Int8Kernel.allCases.first(where: { Self.code($0) == record.scalars[2] }),
           let weights = QuantizedWeights(k: k, n: n, kernel: kernel, buffers: record.buffers) {
            return weights
        }
        let weights = build()
        remember(key, Record(scalars: [Int64(k), Int64(n), Self.code(weights.kernel)], buffers: weights.buffers))
        return weights
    }

    /// A kernel's number in a record: its position in `Int8Kernel.allCases`.
    private static func code(_ kernel: Int8Kernel) -> Int64 {
        Int64(Int8Kernel.allCases.firstIndex(of: kernel)!)
    }

    func floats(_ key: String, count: Int, _ build: () -> [Float]) -> WeightArray<Float> {
        if let record = lookup(key), record.scalars == [Int64(count)], record.buffers.count == 1,
           let values = WeightArray<Float>(viewing: record.buffers[0]), values.count == count {
            return values
        }
        let values = WeightArray(build())
        remember(key, Record(scalars: [Int64(count)], buffers: [values.buffer]))
        return values
    }

    /// - Parameter accept: whether a stored forest fits the request (outputs, aggregate).
    func forest(_ key: String, accept: (TreeForest) -> Bool,
                _ build: () throws(ModelError) -> TreeForest) throws(ModelError) -> TreeForest {
        if let record = lookup(key), let forest = try? TreeForest(scalars: record.scalars, buffers: record.buffers),
           accept(forest) {
            return forest
        }
        let forest = try build()
        let flat = forest.flattened
        remember(key, Record(scalars: flat.scalars, buffers: flat.buffers))
        return forest
    }

    private func lookup(_ key: String) -> Record? {
        if case .replay(let records) = mode { records[key] } else { nil }
    }

    private func remember(_ key: String, _ record: Record) {
        guard case .record = mode else { return }
        recording.withLock {
            if !$0.keys.insert(key).inserted { $0.duplicated = true }
            $0.records.append((key, record))
        }
    }
}
