import Engine
import EngineTestSupport
import Foundation

/// The fixtures (tools/make_test_models.py), carried as this target's resources; models are
/// loaded from their bytes, named by their path.
enum Fixture {
    typealias Tensor = FixtureFiles.Tensor

    static let files = FixtureFiles(directory: Bundle.module.url(forResource: "Fixtures", withExtension: nil)?.path ?? "Fixtures")

    static func path(_ file: String) throws -> String { try files.path(file) }

    static func bytes(_ file: String) throws -> [UInt8] { try files.bytes(file) }

    static func model(_ name: String) throws -> OnnxModel {
        let path = try path(name + ".onnx")
        return try bytes(name + ".onnx").withUnsafeBytes { try OnnxModel.load(bytes: $0, name: path) }
    }

    static func tensors(_ name: String) throws -> [Tensor] { try files.tensors(name) }

    static func run(_ session: inout InferenceSession, _ input: Tensor, rows: Int) throws -> [Float] {
        try FixtureFiles.run(&session, input, rows: rows)
    }

    static func maxAbsDiff(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float { FixtureFiles.maxAbsDiff(a, b) }
}
