import Engine
import Runtime

/// Model files, mapped read-only and shared: the engine reads bytes, this is where they come from.
extension OnnxModel {
    /// Maps and loads a `.onnx` file.
    ///
    /// The file is mapped read-only and shared; large initializers stay in the mapping (no
    /// private copy). The weights derived from them (packed panels, …) are private to this
    /// model; `InferenceSession(modelPath:…cacheDirectory:)` shares those too.
    ///
    /// - Throws: `ModelError` (`.io` when the file cannot be read; see `load(bytes:name:)`).
    /// - Important: the model file must be replaced (renamed over), not rewritten in place,
    ///   while the model is in use.
    public static func load(path: String) throws(ModelError) -> OnnxModel {
        let file = try ModelFile.map(path)
        let model = try load(ModelBytes(borrowing: file.bytes, owner: file), name: path)
        // Once the weights are packed the initializers' bytes are not needed; their pages
        // would count in this process's RSS.
        file.dropResidentPages()
        return model
    }
}

enum ModelFile {
    /// The file at `path`, mapped; errors name the file.
    static func map(_ path: String) throws(ModelError) -> MappedFile {
        let file: MappedFile?
        do {
            file = try Sys.mapFile(path)
        } catch {
            let what = switch error.call {
            case "open": "cannot open"
            case "fstat": "cannot stat"
            default: "cannot map"
            }
            throw ModelError(.io, "\(what) the model file: \(error.reason)", file: path)
        }
        guard let file else { throw ModelError(.io, "not a regular file", file: path) }
        return file
    }
}
