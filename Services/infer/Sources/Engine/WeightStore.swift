import Glibc
import Kernels

/// Where a model's large derived arrays come from: packed GEMM panels, folded (BatchNorm-scaled)
/// weights, tree node arrays, the sparse path's row-major weights.
///
/// - `build`: computed here, in private memory (a model loaded without a cache directory).
/// - `record`: computed here and kept as records, to be written to a weight cache file.
/// - `replay`: taken from a mapped weight cache file, shared with every process mapping it; a
///   record that is missing or does not fit the request is computed here instead.
///
/// Every request names its record by a key unique within one model and session plan (the
/// graph value it belongs to), so the same model and options ask for the same keys in any
/// process. The build closures are the only code that reads the initializers' bytes: on replay
/// they do not run, and the model file's weight pages are never touched.
///
/// `build` and `replay` stores are immutable; a recording store appends under a mutex (sessions
/// of one model may be planned on several threads). That is why the class may be
/// `@unchecked Sendable`.
final class WeightStore: @unchecked Sendable {
    /// One derived object as plain data: a few scalars and arrays.
    struct Record {
        var scalars: [Int64]
        var buffers: [WeightBuffer]
    }

    enum Mode {
        case build
        case record
        case replay(WeightCacheFile)
    }

    let mode: Mode
    private var recorded: [(key: String, record: Record)] = []
    private var keys: Set<String> = []
    private var duplicated = false
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init(_ mode: Mode) {
        self.mode = mode
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// What a recording store computed, in request order; nil when two requests used the same
    /// key (a model naming two values alike), which a cache file could not tell apart.
    var records: [(key: String, record: Record)]? {
        locked { duplicated ? nil : recorded }
    }

    /// True when derived arrays are meant to be shared through a cache file (record or replay):
    /// then the sparse path's weights are derived up front too, so they can be shared.
    var isShared: Bool {
        if case .build = mode { false } else { true }
    }

    func packed(_ key: String, k: Int, n: Int, _ build: () -> PackedWeights) -> PackedWeights {
        let count = PackedWeights.panelFloatCount(k: k, n: n)
        if let record = lookup(key), record.scalars == [Int64(k), Int64(n)], record.buffers.count == 1,
           let panels = WeightArray<Float>(viewing: record.buffers[0]), panels.count == count,
           UInt(bitPattern: panels.buffer.base) % 64 == 0 {
            return PackedWeights(k: k, n: n, panels: panels)
        }
        let weights = build()
        remember(key, Record(scalars: [Int64(k), Int64(n)], buffers: [weights.panels.buffer]))
        return weights
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
        if case .replay(let file) = mode { file.records[key] } else { nil }
    }

    private func remember(_ key: String, _ record: Record) {
        guard case .record = mode else { return }
        locked {
            if !keys.insert(key).inserted { duplicated = true }
            recorded.append((key, record))
        }
    }

    private func locked<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}
