import Engine
import EngineTestSupport
import Foundation
import InferStage

/// The engine's fixtures (Tests/EngineTests/Fixtures, that target's resources), found from
/// this file's place in the source tree; models are mapped from their files, as the stage
/// loads them.
enum Fixture {
    typealias Tensor = FixtureFiles.Tensor

    static let files = FixtureFiles(directory: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("EngineTests/Fixtures").path)

    static func path(_ file: String) throws -> String { try files.path(file) }

    static func model(_ name: String) throws -> OnnxModel { try OnnxModel.load(path: path(name + ".onnx")) }

    static func tensors(_ name: String) throws -> [Tensor] { try files.tensors(name) }

    static func run(_ session: inout InferenceSession, _ input: Tensor, rows: Int) throws -> [Float] {
        try FixtureFiles.run(&session, input, rows: rows)
    }
}
