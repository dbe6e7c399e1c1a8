/// A loaded, validated ONNX model: immutable, and safe to share between threads and sessions.
///
/// Loading decodes the protobuf, checks every node against the supported operators, orders the
/// graph, infers every shape from the batch-first input, folds constant subgraphs and packs the
/// weight matrices. Anything the engine cannot run fails here, with one `ModelError` naming the
/// file, the node and the op. Run it with an `InferenceSession`.
public final class OnnxModel: Sendable {
    let graph: LoadedGraph
    /// Where the derived weights of this model and its sessions come from (private or cached).
    let store: WeightStore
    /// The path or name the model was loaded from (used in error messages).
    public let name: String
    /// `ir_version` from the file.
    public let irVersion: Int64
    /// `producer_name` from the file, e.g. `skl2onnx` or `pytorch`.
    public let producerName: String

    init(graph: LoadedGraph, store: WeightStore, name: String, irVersion: Int64, producerName: String) {
        self.graph = graph
        self.store = store
        self.name = name
        self.irVersion = irVersion
        self.producerName = producerName
    }

    /// Loads a model from serialized ModelProto bytes (the bytes are not retained: they are copied).
    ///
    /// - Parameter name: how errors refer to the model, e.g. its path.
    /// - Throws: `ModelError`: `.notAModel` for bytes that are not an ONNX model at all (text, a
    ///   pickle, empty or cut short), `.malformed` for a model damaged inside, `.unsupported`
    ///   for an op, attribute value or data type the engine lacks, `.invalidGraph` for
    ///   inconsistent graphs (undefined inputs, cycles, mismatched shapes).
    public static func load(bytes: UnsafeRawBufferPointer, name: String) throws(ModelError) -> OnnxModel {
        try load(ModelBytes(copying: bytes), name: name)
    }

    /// Loads a model from `bytes`, which its initializers keep views into (large ones are not
    /// copied), deriving the packed weights through `store`.
    ///
    /// - Parameters:
    ///   - name: how errors refer to the model, e.g. its path.
    ///   - store: where derived weights come from: built privately (the default), recorded to
    ///     be written to a weight cache, or replayed from one (see `WeightStore`).
    /// - Throws: `ModelError`, as `load(bytes:name:)`.
    public static func load(_ bytes: ModelBytes, name: String, store: WeightStore = WeightStore(.build)) throws(ModelError) -> OnnxModel {
        do throws(ModelError) {
            // A file that is not a model at all is said so, not reported as a broken model.
            try ModelProto.checkFraming(bytes.buffer)
            let proto = try ModelProto.decode(bytes.buffer)
            let graph = try ModelLoader.load(proto, bytes: bytes, store: store)
            return OnnxModel(graph: graph, store: store, name: name, irVersion: proto.irVersion, producerName: proto.producerName)
        } catch {
            throw error.inFile(name)
        }
    }

    /// The graph inputs fed at run time (initializers listed as inputs are left out).
    public var inputs: [TensorInfo] { graph.inputs }
    /// The graph outputs; shapes are the inferred ones (batch first, nil) for computed tensors.
    public var outputs: [TensorInfo] { graph.outputs }
    /// How many nodes of each op type the graph has, in order of first appearance.
    public var opCounts: [(op: String, count: Int)] { graph.opCounts }
    /// The classes the model's classifier names (`classlabels_ints`, `classlabels_strings`, a
    /// ZipMap's keys, skl2onnx's label table), when all of its nodes that name classes agree;
    /// nil for a model that names none (a regressor, a bare network) or several different sets.
    public var classLabels: ModelClassLabels? { graph.classLabels }
}
