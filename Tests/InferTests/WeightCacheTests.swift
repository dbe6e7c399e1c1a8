import EngineTestSupport
import Foundation
import Glibc
import Testing
@testable import Engine
@testable import InferStage

/// Sessions whose weights come from the shared weight cache give exactly the bits of private
/// ones; the cache is rebuilt, never trusted, when it is truncated, foreign or stale; and
/// sessions starting together build it once.
@Suite struct WeightCacheTests {
    /// A fresh directory, removed at the end of the test.
    final class Directory {
        let path: String
        init() {
            var template = Array("/tmp/weights-XXXXXX".utf8CString)
            let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
            precondition(made != nil, "mkdtemp failed")
            path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        var files: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
        var cacheFiles: [String] { files.filter { $0.hasSuffix(".cache") } }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static func sameBits(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    /// The rows of `input` in CSR form (its non-zero entries).
    static func csr(_ input: Fixture.Tensor) -> (rowStart: [UInt32], columns: [UInt32], values: [Float]) {
        var rowStart: [UInt32] = [0], columns: [UInt32] = [], values: [Float] = []
        for r in 0..<input.rows {
            for c in 0..<input.width where input.values[r * input.width + c] != 0 {
                columns.append(UInt32(c))
                values.append(input.values[r * input.width + c])
            }
            rowStart.append(UInt32(columns.count))
        }
        return (rowStart, columns, values)
    }

    static func runSparse(_ session: inout InferenceSession, _ input: Fixture.Tensor) throws -> [Float] {
        let (rowStart, columns, values) = csr(input)
        var output = [Float](repeating: .nan, count: input.rows * session.outputWidth)
        try rowStart.withUnsafeBufferPointer { r in try columns.withUnsafeBufferPointer { c in
            try values.withUnsafeBufferPointer { v in try output.withUnsafeMutableBufferPointer { o in
                try session.runSparse(rows: input.rows, rowStart: r.baseAddress!, columns: c.baseAddress ?? r.baseAddress!,
                                      values: v.baseAddress ?? UnsafePointer(o.baseAddress!), output: o.baseAddress!)
            } }
        } }
        return output
    }

    @Test(arguments: Fixture.files.modelNames)
    func cachedSessionsGiveTheBitsOfPrivateOnes(name: String) throws {
        let dir = Directory()
        let path = try Fixture.path(name + ".onnx")
        let input = try Fixture.tensors(name)[0]
        var reference = try InferenceSession(model: try Fixture.model(name), maxBatch: 64)
        let expected = try Fixture.run(&reference, input, rows: input.rows)
        // The first builds the cache, the second maps what the first wrote.
        for pass in ["builds", "maps"] {
            var shared = try InferenceSession(modelPath: path, maxBatch: 64, cacheDirectory: dir.path)
            #expect(shared.sharesWeights, "\(name): the session that \(pass) the cache keeps weights of its own")
            #expect(Self.sameBits(try Fixture.run(&shared, input, rows: input.rows), expected), "\(name) (\(pass))")
            if input.dims.count == 2 {
                #expect(Self.sameBits(try Self.runSparse(&shared, input), try Self.runSparse(&reference, input)),
                        "\(name) (\(pass)): sparse input")
            }
        }
        #expect(dir.cacheFiles.count == 1 && !dir.files.contains { $0.contains(".tmp.") }, "\(dir.files)")
    }

    /// bfloat16 and int8 sessions share their panels (and int8 scales) through a cache file of
    /// their own, with the bits of a private session of that precision, and never pick up the
    /// float32 file.
    @Test(arguments: Fixture.files.modelNames, [LinearPrecision.bf16, .int8])
    func scaledDownSessionsHaveACacheOfTheirOwn(name: String, precision: LinearPrecision) throws {
        let dir = Directory()
        let path = try Fixture.path(name + ".onnx")
        let input = try Fixture.tensors(name)[0]
        var reference = try InferenceSession(model: try Fixture.model(name), maxBatch: 64, precision: precision)
        let expected = try Fixture.run(&reference, input, rows: input.rows)
        var float = try InferenceSession(modelPath: path, maxBatch: 64, cacheDirectory: dir.path)
        let floatScores = try Fixture.run(&float, input, rows: input.rows)
        for pass in ["builds", "maps"] {
            var shared = try InferenceSession(modelPath: path, maxBatch: 64, precision: precision, cacheDirectory: dir.path)
            #expect(shared.sharesWeights, "\(name): the \(precision) session that \(pass) the cache keeps weights of its own")
            #expect(Self.sameBits(try Fixture.run(&shared, input, rows: input.rows), expected), "\(name) (\(pass))")
        }
        let caches = dir.cacheFiles
        #expect(caches.count == 2, "\(caches)")
        if float.plan.steps.contains(where: { if case .linear = $0.kind { true } else { false } }) {
            #expect(!Self.sameBits(expected, floatScores), "\(name): \(precision) changed nothing")
        }
    }

    /// A model whose initializers are large enough to stay views into the file, at offsets both
    /// aligned and not aligned for Float (the offset moves with the length of a name before it).
    static func largeModel(nameLength: Int) -> [UInt8] {
        var rng = SplitMix(state: UInt64(nameLength))
        let (k, h, n) = (16, 96, 11)
        func raw(_ count: Int) -> [UInt8] {
            (0..<count).flatMap { _ in withUnsafeBytes(of: rng.float().bitPattern.littleEndian, Array.init) }
        }
        return ModelBuilder.model(
            nodes: [Node(op: "Gemm", inputs: ["x", String(repeating: "w", count: nameLength), "b1"], outputs: ["h"],
                         attributes: [.int("transB", 1)]),
                    Node(op: "Relu", inputs: ["h"], outputs: ["r"]),
                    Node(op: "MatMul", inputs: ["r", "w2"], outputs: ["y"])],
            inputs: [("x", ["N", k])], outputs: ["y"],
            initializers: [Tensor(name: String(repeating: "w", count: nameLength), dims: [Int64(h), Int64(k)], raw: raw(h * k)),
                           Tensor(name: "b1", dims: [Int64(h)], raw: raw(h)),
                           Tensor(name: "w2", dims: [Int64(h), Int64(n)], raw: raw(h * n))])
    }

    struct SplitMix {
        var state: UInt64
        mutating func float() -> Float {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Float((z ^ (z >> 31)) >> 40) / Float(1 << 24) - 0.5
        }
    }

    @Test(arguments: [1, 2, 3, 4])
    func largeInitializersReadInPlaceGiveTheSameBits(nameLength: Int) throws {
        let dir = Directory()
        let bytes = Self.largeModel(nameLength: nameLength)
        let path = dir.path + "/large.onnx"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let copied = try ModelBuilder.load(bytes)
        let mapped = try OnnxModel.load(path: path)
        for name in [String(repeating: "w", count: nameLength), "w2"] {
            guard case .constant(let w) = mapped.graph.states[mapped.graph.ids[name]!], case .floatView = w.storage else {
                Issue.record("initializer \(name) of over 4 KB should stay a view into the file")
                return
            }
        }
        var rng = SplitMix(state: 99)
        let input = Fixture.Tensor(name: "x", dims: [37, 16], values: (0..<(37 * 16)).map { _ in rng.float() * 4 })
        #expect(copied.outputs.first?.shape == [nil, 11])
        var a = try InferenceSession(model: copied, maxBatch: 16)
        var b = try InferenceSession(model: mapped, maxBatch: 16)
        var c = try InferenceSession(modelPath: path, maxBatch: 16, cacheDirectory: dir.path)
        let expected = try Fixture.run(&a, input, rows: 37)
        #expect(Self.sameBits(try Fixture.run(&b, input, rows: 37), expected))
        #expect(Self.sameBits(try Fixture.run(&c, input, rows: 37), expected))
        #expect(c.sharesWeights)
    }

    @Test func truncatedForeignOrStaleCachesAreRebuilt() throws {
        let dir = Directory()
        let name = "mlp_gemm"
        let path = dir.path + "/model.onnx"
        try FileManager.default.copyItem(atPath: try Fixture.path(name + ".onnx"), toPath: path)
        let input = try Fixture.tensors(name)[0]
        var reference = try InferenceSession(model: try Fixture.model(name))
        let expected = try Fixture.run(&reference, input, rows: input.rows)
        func check(_ what: String) throws {
            var session = try InferenceSession(modelPath: path, cacheDirectory: dir.path)
            #expect(session.sharesWeights, "\(what)")
            #expect(Self.sameBits(try Fixture.run(&session, input, rows: input.rows), expected), "\(what)")
        }
        // A temporary file a builder killed mid-write left behind is removed by the next builder.
        let cache = dir.path + "/" + InferenceSession.cacheFileName(modelPath: path, input: nil, output: nil)
        #expect(FileManager.default.createFile(atPath: cache + ".tmp.999999", contents: Data([1, 2, 3])))
        try check("first build")
        #expect(dir.cacheFiles == [cache.split(separator: "/").last.map(String.init)!] && !dir.files.contains { $0.contains(".tmp.") })
        let good = try Data(contentsOf: URL(fileURLWithPath: cache))
        let damages: [(String, Data)] = [
            ("truncated", good.prefix(good.count - 100)),
            ("empty", Data()),
            ("another format version", { var d = good; d[8] &+= 1; return d }()),
            ("not a cache", Data(repeating: 0x41, count: good.count)),
            ("another model's key", { var d = good; d[70] ^= 0x20; return d }()),
        ]
        for (what, damaged) in damages {
            try damaged.write(to: URL(fileURLWithPath: cache))
            try check(what)
            #expect(try Data(contentsOf: URL(fileURLWithPath: cache)) == good, "\(what): rebuilt as it was")
        }
        // A new version of the model file (replaced: new inode and time) gets a new cache.
        let before = try FileManager.default.attributesOfItem(atPath: cache)[.systemFileNumber] as? Int
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: try Fixture.path(name + ".onnx"), toPath: path)
        try check("replaced model")
        let after = try FileManager.default.attributesOfItem(atPath: cache)[.systemFileNumber] as? Int
        #expect(before != after && dir.cacheFiles.count == 1)
    }

    @Test func unusableCacheDirectoriesKeepWeightsPrivate() throws {
        let name = "mlp_gemm"
        let input = try Fixture.tensors(name)[0]
        var reference = try InferenceSession(model: try Fixture.model(name))
        var session = try InferenceSession(modelPath: try Fixture.path(name + ".onnx"), cacheDirectory: "/nonexistent/dir")
        #expect(!session.sharesWeights)
        #expect(Self.sameBits(try Fixture.run(&session, input, rows: input.rows), try Fixture.run(&reference, input, rows: input.rows)))
        #expect(throws: ModelError.self) { try InferenceSession(modelPath: "/nonexistent/model.onnx", cacheDirectory: "/tmp") }
    }

    /// Replicas starting at once: one builds under the lock, the others wait and map its file.
    @Test func sessionsStartingTogetherBuildTheCacheOnce() throws {
        let dir = Directory()
        let name = "torch_mlp_opset17"
        let path = try Fixture.path(name + ".onnx")
        let input = try Fixture.tensors(name)[0]
        var reference = try InferenceSession(model: try Fixture.model(name))
        let expected = try Fixture.run(&reference, input, rows: input.rows)
        let results = Results()
        let cacheDirectory = dir.path
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            do {
                var session = try InferenceSession(modelPath: path, cacheDirectory: cacheDirectory)
                let output = try Fixture.run(&session, input, rows: input.rows)
                results.add(session.sharesWeights && Self.sameBits(output, expected))
            } catch {
                results.add(false)
            }
        }
        #expect(results.all.count == 6 && results.all.allSatisfy { $0 })
        #expect(dir.cacheFiles.count == 1 && !dir.files.contains { $0.contains(".tmp.") }, "\(dir.files)")
    }

    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Bool] = []
        func add(_ value: Bool) { lock.withLock { values.append(value) } }
        var all: [Bool] { lock.withLock { values } }
    }
}
