import Engine
import Runtime

/// Sessions whose weights are loaded once per machine: the model file is mapped read-only and
/// shared, and everything large derived from it lives in a weight cache file that every process
/// maps read-only and shared (`WeightCacheFile`). Four replicas of a 100 MB model then hold one
/// copy of the weights in the page cache, not four.
///
/// Concurrency: replicas starting together race for `<cache>.lock` (flock). The winner checks
/// the cache again, builds it (in private memory), writes and renames it into place, then maps
/// it like everyone else and drops its private copy; the others wait on the lock and then find
/// the complete file. A builder that dies releases the lock with its descriptor; its temporary
/// file never becomes the cache. A file that is truncated, of another format version or for
/// another version of the model file is rebuilt over (by rename, so processes still mapping
/// the old one keep reading it unchanged).
extension InferenceSession {
    /// Loads the model at `modelPath` and plans a session whose derived weights (packed GEMM
    /// panels, folded BatchNorm weights, tree node arrays, sparse-path weights) are mapped from
    /// a cache file in `cacheDirectory`, built by the first process that needs it.
    ///
    /// Results are bit-identical to `InferenceSession(model: OnnxModel.load(path:) …)`. When the
    /// cache cannot be used (a read-only directory, a full disk) the session keeps its weights
    /// privately, as that initializer does; `sharesWeights` tells which.
    ///
    /// - Parameters:
    ///   - cacheDirectory: an existing directory owned by the user (the pipeline's run directory).
    ///   - input, output, maxBatch, precision: as for `init(model:input:output:maxBatch:precision:)`;
    ///     each precision has a cache file of its own.
    /// - Throws: `ModelError`, as `OnnxModel.load(path:)` and `init(model:input:output:maxBatch:)` do.
    /// - Important: the model file must be replaced (renamed over), not rewritten in place, while
    ///   sessions use it.
    public init(modelPath: String, input: String? = nil, output: String? = nil, maxBatch: Int = 4096,
                precision: LinearPrecision = .float32, cacheDirectory: String) throws(ModelError) {
        let file = try ModelFile.map(modelPath)
        let identity = file.identity
        let key = Self.cacheKey(identity, input: input, output: output, precision: precision)
        let path = cacheDirectory + "/" + Self.cacheFileName(modelPath: modelPath, input: input, output: output,
                                                             precision: precision)
        let make = { (file: MappedFile, store: WeightStore) throws(ModelError) -> InferenceSession in
            let model = try OnnxModel.load(ModelBytes(borrowing: file.bytes, owner: file), name: modelPath, store: store)
            return try InferenceSession(model: model, input: input, output: output, maxBatch: maxBatch, precision: precision)
        }
        if let cache = WeightCacheFile.open(path, key: key) {
            self = try make(file, WeightStore(.replay(cache.records)))
            return
        }
        let lock = WeightCacheFile.lock(path)
        defer { lock.map(WeightCacheFile.unlock) }
        if lock != nil, let cache = WeightCacheFile.open(path, key: key) {
            // Another process built it while this one waited for the lock.
            self = try make(file, WeightStore(.replay(cache.records)))
            return
        }
        do {
            let recorder = WeightStore(.record)
            let built = try make(file, recorder)
            // Publish only what was derived from the file as it still is, and only under the lock.
            guard lock != nil, FileIdentity.current(modelPath) == identity, let records = recorder.records,
                  WeightCacheFile.write(records, key: key, to: path) else {
                self = built
                return
            }
        }
        // Map what was just written, like every other process, and let the private copy go.
        // The model file is mapped afresh too: the pages the build read go with the old mapping.
        let fresh = try ModelFile.map(modelPath)
        guard fresh.identity == identity, let cache = WeightCacheFile.open(path, key: key) else {
            self = try make(fresh, WeightStore(.build))
            return
        }
        self = try make(fresh, WeightStore(.replay(cache.records)))
    }

    /// What a cache file must be for: the model file's identity (device, inode, size, times)
    /// and the session options. Cheap: no byte of the model is read. A content hash would
    /// read all 100 MB in every replica at every start, which is what the cache avoids; the
    /// identity changes whenever the file is replaced or written (see `FileIdentity`).
    static func cacheKey(_ identity: FileIdentity, input: String?, output: String?,
                         precision: LinearPrecision = .float32) -> String {
        "pipeline weight cache v\(WeightCacheFile.version)\nmodel \(identity.text)\n"
            + "input \(input.map { "=\($0)" } ?? "default")\noutput \(output.map { "=\($0)" } ?? "default")\n"
            + (precision == .float32 ? "" : "precision \(precision.rawValue)\n")
    }

    /// One file per model path and options (a new version of the model replaces it, so caches
    /// do not pile up): `infer-weights-<FNV-1a 64 of path and options>.cache`.
    public static func cacheFileName(modelPath: String, input: String?, output: String?,
                              precision: LinearPrecision = .float32) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let options = "\(modelPath)\0\(input ?? "\u{1}")\0\(output ?? "\u{1}")"
            + (precision == .float32 ? "" : "\0\(precision.rawValue)")
        for byte in options.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "infer-weights-" + String(repeating: "0", count: 16 - hex.count) + hex + ".cache"
    }
}
