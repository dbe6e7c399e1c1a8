import PipelineSupervisor
import Glibc
import Runtime

/// One benchmark workload: its config, its model (in Benchmarks/models) and its generated data.
public struct BenchWorkload: Sendable {
    public let name: String
    let summary: String
    let model: String
    let defaultRecords: Int
    /// The records and config this workload uses: its own name, or that of the workload whose
    /// data it scores with another model (the same records, byte for byte).
    let shape: String

    init(name: String, summary: String, model: String, defaultRecords: Int, shape: String? = nil) {
        self.name = name
        self.summary = summary
        self.model = model
        self.defaultRecords = defaultRecords
        self.shape = shape ?? name
    }

    public static let all = [tabularMLP, tabularMLPInt8, tabularTrees, textLinear]

    static let tabularMLP = BenchWorkload(
        name: "tabular-mlp", summary: "JSON lines, id + 64 numeric fields (~870 B); standardize; MLP 64→256→256→10, softmax",
        model: "tabular-mlp.onnx", defaultRecords: 1_000_000)
    static let tabularMLPInt8 = BenchWorkload(
        name: "tabular-mlp-int8",
        summary: "tabular-mlp's records and MLP, quantized by onnxruntime's quantize_dynamic (int8 weights; "
            + "activations quantized per layer: per record here, per batch in onnxruntime)",
        model: "tabular-mlp-int8.onnx", defaultRecords: 1_000_000, shape: "tabular-mlp")
    static let tabularTrees = BenchWorkload(
        name: "tabular-trees", summary: "JSON lines, id + 32 numeric fields; XGBoost, 100 trees of depth 6",
        model: "tabular-trees.onnx", defaultRecords: 200_000)
    static let textLinear = BenchWorkload(
        name: "text-linear",
        summary: "JSON lines, text (2^18 hashed columns, word 1–2-grams) + 2 categoricals; logistic regression",
        model: "text-linear.onnx", defaultRecords: 30_000)

    /// The workload called `name` (`tabular-mlp`, …), or nil.
    public static func named(_ name: String) -> BenchWorkload? { all.first { $0.name == name } }

    /// The pipeline.toml of this workload, reading the model under `modelDirectory`.
    func config(modelDirectory: String, batchRows: Int = 256) -> String {
        var s = "[pipeline]\nname = \"bench-\(name)\"\nbatch_rows = \(batchRows)\nlinger_ms = 2\nwindow = 64\n\n[input]\nformat = \"jsonl\"\n"
        func field(_ n: String, _ t: String) { s += "\n[[input.field]]\nname = \"\(n)\"\ntype = \"\(t)\"\n" }
        func feature(_ body: String) { s += "\n[[feature]]\n" + body + "\n" }
        field("id", "int")
        var fields = ["label", "probabilities"]
        switch shape {
        case "tabular-mlp":
            for j in 0..<64 { field("f\(j)", "float") }
            for j in 0..<64 { feature("field = \"f\(j)\"\nkind = \"standardize\"\nmean = 50.0\nstd = 20.0") }
        case "tabular-trees":
            for j in 0..<32 { field("f\(j)", "float") }
            for j in 0..<32 { feature("field = \"f\(j)\"\nkind = \"identity\"") }
        default:
            field("text", "string")
            field("country", "string")
            field("device", "string")
            feature("field = \"text\"\nkind = \"text_hash\"\nn_features = 262144\nngram_range = [1, 2]")
            feature("field = \"country\"\nkind = \"onehot\"\ncategories = [\"US\", \"DE\", \"FR\", \"GB\", \"JP\"]")
            feature("field = \"device\"\nkind = \"onehot\"\ncategories = [\"ios\", \"android\", \"web\"]")
            fields = ["score"]
        }
        s += "\n[model]\npath = \"\(modelDirectory)/\(model)\"\n\n[output]\nformat = \"jsonl\"\npassthrough = [\"id\"]\n"
        s += "fields = [" + fields.map { "\"\($0)\"" }.joined(separator: ", ") + "]\n"
        return s
    }

    /// Writes `records` records to `path`, the same bytes for the same arguments.
    func writeData(to path: String, records: Int, firstID: Int = 0) throws {
        let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        defer { Sys.close(fd) }
        var rng = BenchRandom(seed: 0x5EED_0000 &+ UInt64(shape.utf8.count))
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20)
        for i in 0..<records {
            record(firstID + i, into: &out, &rng)
            if out.count >= 1 << 20 {
                try out.withUnsafeBytes { raw in try Sys.writeAll(fd, raw) }
                out.removeAll(keepingCapacity: true)
            }
        }
        try out.withUnsafeBytes { raw in try Sys.writeAll(fd, raw) }
    }

    /// One record, as a JSON line.
    func record(_ id: Int, into out: inout [UInt8], _ rng: inout BenchRandom) {
        out += Array("{\"id\":\(id)".utf8)
        switch shape {
        case "tabular-mlp":
            for j in 0..<64 {
                out += Array(",\"f\(j)\":".utf8)
                appendFixed(50 + 20 * rng.gaussian(), decimals: 4, into: &out)
            }
        case "tabular-trees":
            for j in 0..<32 {
                out += Array(",\"f\(j)\":".utf8)
                appendFixed(rng.gaussian(), decimals: 5, into: &out)
            }
        default:
            out += Array(",\"text\":\"".utf8)
            let words = 8 + Int(rng.next() % 23)
            for w in 0..<words {
                if w > 0 { out.append(32) }
                // Zipf-like: frequent short words, a long tail of rarer ones.
                let rank = Int(Double(BenchRandom.vocabularySize) * pow(rng.unit(), 3))
                out += BenchRandom.word(rank)
            }
            let countries = ["US", "DE", "FR", "GB", "JP", "IT"], devices = ["ios", "android", "web"]
            out += Array("\",\"country\":\"\(countries[Int(rng.next() % 6)])\",\"device\":\"\(devices[Int(rng.next() % 3)])\"".utf8)
        }
        out += [UInt8(ascii: "}"), 10]
    }

    /// `x` with exactly `decimals` digits after the point (no exponent).
    private func appendFixed(_ x: Double, decimals: Int, into out: inout [UInt8]) {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int((abs(x) * scale).rounded())
        if x < 0 && scaled != 0 { out.append(UInt8(ascii: "-")) }
        out += Array(String(scaled / Int(scale)).utf8)
        out.append(UInt8(ascii: "."))
        let fraction = String(scaled % Int(scale))
        out += Array(repeating: UInt8(ascii: "0"), count: decimals - fraction.count)
        out += Array(fraction.utf8)
    }
}

/// A deterministic generator (SplitMix64) for benchmark data.
struct BenchRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }

    /// Standard normal (Box–Muller).
    mutating func gaussian() -> Double {
        let u = max(unit(), 1e-300), v = unit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    static let vocabularySize = 20_000

    /// The `rank`-th word of a synthetic vocabulary: letters from the rank's digits.
    static func word(_ rank: Int) -> [UInt8] {
        let letters = Array("etaoinshrdlucmfwypvbgkqjxz".utf8)
        var r = rank, out: [UInt8] = []
        repeat {
            out.append(letters[r % 26])
            r /= 26
        } while r > 0
        if out.count == 1 { out.append(letters[(rank * 7) % 26]) }
        return out
    }
}
