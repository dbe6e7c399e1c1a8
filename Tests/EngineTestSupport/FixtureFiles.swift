import Engine
import Foundation

/// Test fixtures written by tools/make_test_models.py into Tests/EngineTests/Fixtures:
/// `<name>.onnx` plus `<name>.bin`, the input batch and onnxruntime's outputs.
///
/// EngineTests carries the directory as its resources; other test targets find it in the
/// source tree. Each target wraps this in its own `Fixture`, which knows where the files are
/// and how that target loads a model.
public struct FixtureFiles: Sendable {
    public struct Tensor: Sendable {
        public var name: String
        public var dims: [Int]
        public var values: [Float]
        /// Floats per batch item.
        public var width: Int { dims.dropFirst().reduce(1, *) }
        public var rows: Int { dims.first ?? 1 }

        public init(name: String, dims: [Int], values: [Float]) {
            self.name = name
            self.dims = dims
            self.values = values
        }
    }

    /// The directory holding the files.
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The path of `file` in the directory.
    /// - Throws: `FixtureError` when it is missing.
    public func path(_ file: String) throws -> String {
        let path = directory + "/" + file
        guard FileManager.default.fileExists(atPath: path) else {
            throw FixtureError("fixture \(file) is missing from \(directory); run tools/make_test_models.py")
        }
        return path
    }

    public func bytes(_ file: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(file)))) }

    /// The fixtures that come with inputs and expected outputs (a `.bin`), sorted.
    public var modelNames: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".bin") }.map { String($0.dropLast(4)) }.sorted()
    }

    /// The tensors of `<name>.bin`: the input first, then the expected outputs.
    public func tensors(_ name: String) throws -> [Tensor] {
        let data = try bytes(name + ".bin")
        var offset = 0
        func u32() throws -> Int {
            guard offset + 4 <= data.count else { throw FixtureError("\(name).bin is truncated") }
            defer { offset += 4 }
            return Int(UInt32(data[offset]) | UInt32(data[offset + 1]) << 8 | UInt32(data[offset + 2]) << 16 | UInt32(data[offset + 3]) << 24)
        }
        guard data.count >= 4, data[0..<4] == [0x4F, 0x4E, 0x58, 0x46] else { throw FixtureError("\(name).bin: bad magic") }
        offset = 4
        guard try u32() == 1 else { throw FixtureError("\(name).bin: unknown version") }
        var tensors: [Tensor] = []
        for _ in 0..<(try u32()) {
            let length = try u32()
            let name = String(decoding: data[offset..<(offset + length)], as: UTF8.self)
            offset += length
            var dims: [Int] = []
            for _ in 0..<(try u32()) { dims.append(try u32()) }
            var values: [Float] = []
            for _ in 0..<dims.reduce(1, *) { values.append(Float(bitPattern: UInt32(try u32()))) }
            tensors.append(Tensor(name: name, dims: dims, values: values))
        }
        return tensors
    }

    /// Runs `session` on the first `rows` rows of `input`.
    public static func run(_ session: inout InferenceSession, _ input: Tensor, rows: Int) throws -> [Float] {
        var output = [Float](repeating: .nan, count: rows * session.outputWidth)
        try input.values.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBufferPointer { y in
                try session.run(rows: rows, input: x.baseAddress!, output: y.baseAddress!)
            }
        }
        return output
    }

    public static func maxAbsDiff(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        precondition(a.count == b.count)
        var worst: Float = 0
        for (x, y) in zip(a, b) {
            if x.isNaN != y.isNaN { return .infinity }
            if x.isNaN { continue }
            if x == y { continue }  // also equal infinities
            worst = max(worst, abs(x - y))
        }
        return worst
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
