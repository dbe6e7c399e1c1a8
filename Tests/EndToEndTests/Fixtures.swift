import Foundation

/// Deterministic test records in the shape of the demo model's input.
enum Records {
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    }

    static let countries = ["US", "DE", "FR", "GB", "JP"]

    /// `count` JSON lines: id, amount, hour, country, is_new_customer.
    static func jsonl(_ count: Int, seed: UInt64 = 1, firstID: Int = 1) -> String {
        var rng = Rng(state: seed)
        var out = ""
        for i in 0..<count {
            let amount = (rng.unit() * 500).rounded() / 100 * 7
            let hour = Int(rng.next() % 24)
            let country = countries[Int(rng.next() % UInt64(countries.count))]
            var line = "{\"id\":\(firstID + i),\"amount\":\(amount),\"hour\":\(hour),\"country\":\"\(country)\""
            line += ",\"is_new_customer\":\(rng.next() % 3 == 0)"
            out += line + "}\n"
        }
        return out
    }

    /// The same records as CSV (header first).
    static func csv(_ count: Int, seed: UInt64 = 1) -> String {
        var out = "id,amount,hour,country,is_new_customer\n"
        for line in jsonl(count, seed: seed).split(separator: "\n") {
            let object = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let flag = (object["is_new_customer"] as? Bool).map { $0 ? "true" : "false" } ?? ""
            out += "\(object["id"]!),\(object["amount"]!),\(object["hour"]!),\"\(object["country"]!)\",\(flag)\n"
        }
        return out
    }

    /// A config for the demo model reading `format`, with small batches so tests cross many.
    static func config(format: String = "jsonl", batchRows: Int = 64, window: Int = 16, output: String = "jsonl",
                       extra: String = "") -> String {
        """
        [pipeline]
        name = "e2e"
        batch_rows = \(batchRows)
        linger_ms = 2
        window = \(window)

        [input]
        format = "\(format)"

        [[input.field]]
        name = "id"
        type = "int"

        [[input.field]]
        name = "amount"
        type = "float"

        [[input.field]]
        name = "hour"
        type = "int"

        [[input.field]]
        name = "country"
        type = "string"

        [[input.field]]
        name = "is_new_customer"
        type = "bool"
        required = false

        [[feature]]
        field = "amount"
        kind = "standardize"
        mean = 52.0
        std = 30.0

        [[feature]]
        field = "hour"
        kind = "standardize"
        mean = 11.5
        std = 6.9

        [[feature]]
        field = "country"
        kind = "onehot"
        categories = ["US", "DE", "FR", "GB"]

        [[feature]]
        field = "is_new_customer"
        kind = "identity"

        [model]
        path = "\(Paths.demoModel)"

        [output]
        format = "\(output)"
        passthrough = ["id"]
        labels = ["legit", "fraud"]
        fields = ["label", "score", "probabilities"]
        \(extra)
        """
    }
}
