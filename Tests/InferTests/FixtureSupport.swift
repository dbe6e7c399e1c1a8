import Foundation
@testable import InferStage

/// Test fixtures written by tools/make_test_models.py: `<name>.onnx` plus `<name>.bin`, the
/// input batch and onnxruntime's outputs.
enum Fixture {
    struct Tensor {
        var name: String
        var dims: [Int]
        var values: [Float]
        /// Floats per batch item.
        var width: Int { dims.dropFirst().reduce(1, *) }
        var rows: Int { dims.first ?? 1 }
    }

    static func url(_ name: String) throws -> URL {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
            throw FixtureError("fixture \(name) is missing; run tools/make_test_models.py")
        }
        return url
    }

    static func path(_ file: String) throws -> String { try url(file).path }

    static func bytes(_ file: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(file))) }

    static func model(_ name: String) throws -> OnnxModel { try OnnxModel.load(path: path(name + ".onnx")) }

    /// The tensors of `<name>.bin`: the input first, then the expected outputs.
    static func tensors(_ name: String) throws -> [Tensor] {
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
    static func run(_ session: inout InferenceSession, _ input: Tensor, rows: Int) throws -> [Float] {
        var output = [Float](repeating: .nan, count: rows * session.outputWidth)
        try input.values.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBufferPointer { y in
                try session.run(rows: rows, input: x.baseAddress!, output: y.baseAddress!)
            }
        }
        return output
    }

    static func maxAbsDiff(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
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

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
