import Messages

/// A reference profile of the training data (README, "Watching for drift"): per input field and
/// per prediction, the bins of `DriftPlan` and how many training records fell in each slot.
/// `pipeline profile` writes it; `[drift] reference` names it; the supervisor compares each
/// window of the live stream with it.
public struct DriftProfile: Sendable, Equatable {
    public struct Field: Sendable, Equatable {
        public var bins: DriftPlan.Field
        /// The input field's type (nil for predictions).
        public var type: FieldType?
        /// Training records per slot (the plan's slots: bins or values, then other for
        /// categorical, then missing).
        public var counts: [UInt64]

        public init(bins: DriftPlan.Field, type: FieldType?, counts: [UInt64]) {
            self.bins = bins
            self.type = type
            self.counts = counts
        }
    }

    public static let formatName = "pipeline drift reference"
    public static let version = 1

    /// Accepted training records profiled.
    public var records: UInt64
    public var fields: [Field]
    public var predictions: [Field]

    public init(records: UInt64, fields: [Field], predictions: [Field]) {
        self.records = records
        self.fields = fields
        self.predictions = predictions
    }

    /// The bins the stages count.
    public var plan: DriftPlan { DriftPlan(fields: fields.map(\.bins), predictions: predictions.map(\.bins)) }

    /// Why a profile cannot be used: `file: where: what`.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    // MARK: reading

    /// Reads a profile and checks it against the run's input schema: every field it names is an
    /// input field of the same type, with slots its kind allows, and counts that add up.
    public static func parse(_ bytes: [UInt8], file: String, schema: InputSpec) throws(Problem) -> DriftProfile {
        let document: JSONDocument
        do { document = try JSONDocument.parse(bytes) } catch { throw Problem(message: "\(file):\(error): not a JSON profile") }
        func fail(_ at: String, _ what: String) -> Problem { Problem(message: "\(file): \(at): \(what)") }
        guard case .object(let top) = document else { throw fail("the document", "must be an object, found \(document.typeName)") }
        for (key, _) in top where !["profile", "version", "records", "fields", "predictions"].contains(key) {
            throw fail(key, "unknown key (a profile has profile, version, records, fields, predictions)")
        }
        guard document["profile"] == .string(formatName) else {
            throw fail("profile", "must be \"\(formatName)\" (is this a profile `pipeline profile` wrote?)")
        }
        guard document["version"] == .number(Double(version)) else { throw fail("version", "must be \(version)") }
        let records = try count(document["records"], "records", fail)
        guard records > 0 else { throw fail("records", "must be at least 1: a profile of no records compares with nothing") }
        guard case .array(let items)? = document["fields"] else { throw fail("fields", "must be an array") }
        var fields: [Field] = []
        for (i, item) in items.enumerated() {
            let at = "fields[\(i)]"
            let field = try Self.field(item, at: at, records: records, prediction: false, fail)
            guard let spec = schema.fields.first(where: { $0.name == field.bins.name }) else {
                throw fail(at, "\"\(field.bins.name)\" is not an input field" + Schema.hint(field.bins.name, schema))
            }
            guard field.type == spec.type else {
                throw fail(at + ".type", "\"\(field.bins.name)\" is \(spec.type.rawValue) in the config, \(field.type?.rawValue ?? "none") here")
            }
            let allowed: [DriftPlan.Kind] = switch spec.type {
            case .float, .int: [.numeric]
            case .bool: [.categorical]
            case .string: [.categorical, .textLength]
            }
            guard allowed.contains(field.bins.kind) else {
                throw fail(at + ".kind", "a \(spec.type.rawValue) field is profiled as "
                           + allowed.map { "\"\($0.name)\"" }.joined(separator: " or ") + ", not \"\(field.bins.kind.name)\"")
            }
            if fields.contains(where: { $0.bins.name == field.bins.name }) { throw fail(at, "\"\(field.bins.name)\" is profiled twice") }
            fields.append(field)
        }
        var predictions: [Field] = []
        if let value = document["predictions"] {
            guard case .array(let items) = value else { throw fail("predictions", "must be an array") }
            for (i, item) in items.enumerated() {
                let at = "predictions[\(i)]"
                let field = try Self.field(item, at: at, records: records, prediction: true, fail)
                let expected: DriftPlan.Kind? = switch field.bins.name {
                case "label": .categorical
                case "score": .numeric
                default: nil
                }
                guard let expected else { throw fail(at + ".name", "must be \"label\" or \"score\", found \"\(field.bins.name)\"") }
                guard field.bins.kind == expected else { throw fail(at + ".kind", "\(field.bins.name) is \"\(expected.name)\"") }
                if predictions.contains(where: { $0.bins.name == field.bins.name }) { throw fail(at, "\(field.bins.name) is profiled twice") }
                predictions.append(field)
            }
            predictions.sort { $0.bins.name < $1.bins.name }  // label, then score
        }
        guard !fields.isEmpty || !predictions.isEmpty else { throw fail("fields", "the profile watches nothing: no fields, no predictions") }
        let profile = DriftProfile(records: records, fields: fields, predictions: predictions)
        guard profile.plan.slotCount <= DriftCounts.maxSlots else {
            throw fail("fields", "\(profile.plan.slotCount) slots in all, more than \(DriftCounts.maxSlots)")
        }
        return profile
    }

    private static func count(_ value: JSONDocument?, _ at: String, _ fail: (String, String) -> Problem) throws(Problem) -> UInt64 {
        guard case .number(let x)? = value, x >= 0, x <= 9e15, x == x.rounded() else {
            throw fail(at, "must be a whole number of records, found \(value?.typeName ?? "nothing")")
        }
        return UInt64(x)
    }

    private static func field(_ item: JSONDocument, at: String, records: UInt64, prediction: Bool,
                              _ fail: (String, String) -> Problem) throws(Problem) -> Field {
        guard case .object(let members) = item else { throw fail(at, "must be an object, found \(item.typeName)") }
        guard case .string(let name)? = item["name"], !name.isEmpty else { throw fail(at + ".name", "must be a non-empty string") }
        guard case .string(let kindName)? = item["kind"], let kind = DriftPlan.Kind.allCases.first(where: { $0.name == kindName }) else {
            throw fail(at + ".kind", "must be \"numeric\", \"categorical\" or \"text_length\"")
        }
        let known = ["name", "kind", "type", "counts", "missing"] + (kind == .categorical ? ["values", "other"] : ["edges"])
        for (key, _) in members where !known.contains(key) {
            throw fail(at + "." + key, "unknown key for a \(kind.name) field (it has " + known.joined(separator: ", ") + ")")
        }
        var type: FieldType?
        if !prediction {
            guard case .string(let t)? = item["type"], let ft = FieldType(rawValue: t) else {
                throw fail(at + ".type", "must be \"float\", \"int\", \"string\" or \"bool\"")
            }
            type = ft
        }
        var bins = DriftPlan.Field(name: name, kind: kind)
        if kind == .categorical {
            guard case .array(let values)? = item["values"] else { throw fail(at + ".values", "must be an array of strings") }
            for (j, v) in values.enumerated() {
                guard case .string(let s) = v else { throw fail(at + ".values[\(j)]", "must be a string, found \(v.typeName)") }
                if bins.values.contains(where: { Array($0.utf8) == Array(s.utf8) }) { throw fail(at + ".values[\(j)]", "repeats \"\(s)\"") }
                bins.values.append(s)
            }
        } else {
            guard case .array(let edges)? = item["edges"] else { throw fail(at + ".edges", "must be an array of numbers") }
            for (j, e) in edges.enumerated() {
                guard case .number(let x) = e else { throw fail(at + ".edges[\(j)]", "must be a number, found \(e.typeName)") }
                if let last = bins.edges.last, !(last < x) { throw fail(at + ".edges[\(j)]", "must be above the edge before it (\(last))") }
                bins.edges.append(x)
            }
        }
        guard case .array(let countItems)? = item["counts"] else { throw fail(at + ".counts", "must be an array of counts") }
        let bucketCount = kind == .categorical ? bins.values.count : bins.edges.count + 1
        guard countItems.count == bucketCount else {
            throw fail(at + ".counts", "has \(countItems.count) counts where " + (kind == .categorical
                ? "`values` has \(bins.values.count)" : "\(bins.edges.count) edges make \(bucketCount) bins"))
        }
        var counts: [UInt64] = []
        for (j, c) in countItems.enumerated() { counts.append(try count(c, at + ".counts[\(j)]", fail)) }
        if kind == .categorical { counts.append(try count(item["other"] ?? .number(0), at + ".other", fail)) }
        counts.append(try count(item["missing"] ?? .number(0), at + ".missing", fail))
        let total = counts.reduce(0, &+)
        guard total == records else {
            throw fail(at + ".counts", "add up to \(total) records (with other and missing), not the profile's \(records)")
        }
        return Field(bins: bins, type: type, counts: counts)
    }

    // MARK: writing

    /// The profile as JSON: one field per line, numbers shortest round-trip.
    public func json() -> String {
        let quoted = JSONText.quote
        func number(_ x: Double) -> String {
            // Integral edges (int fields, lengths) as integers; others shortest round-trip.
            if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
            return "\(x)"
        }
        func line(_ f: Field) -> String {
            var parts = ["\"name\": " + quoted(f.bins.name)]
            if let t = f.type { parts.append("\"type\": " + quoted(t.rawValue)) }
            parts.append("\"kind\": " + quoted(f.bins.kind.name))
            if f.bins.kind == .categorical {
                parts.append("\"values\": [" + f.bins.values.map(quoted).joined(separator: ", ") + "]")
                parts.append("\"counts\": [" + f.counts.dropLast(2).map(String.init).joined(separator: ", ") + "]")
                parts.append("\"other\": \(f.counts[f.counts.count - 2])")
            } else {
                parts.append("\"edges\": [" + f.bins.edges.map(number).joined(separator: ", ") + "]")
                parts.append("\"counts\": [" + f.counts.dropLast().map(String.init).joined(separator: ", ") + "]")
            }
            parts.append("\"missing\": \(f.counts[f.counts.count - 1])")
            return "    {" + parts.joined(separator: ", ") + "}"
        }
        var out = "{\n  \"profile\": \(quoted(Self.formatName)),\n  \"version\": \(Self.version),\n  \"records\": \(records),\n"
        out += "  \"fields\": [\n" + fields.map(line).joined(separator: ",\n") + (fields.isEmpty ? "" : "\n") + "  ]"
        if !predictions.isEmpty { out += ",\n  \"predictions\": [\n" + predictions.map(line).joined(separator: ",\n") + "\n  ]" }
        return out + "\n}\n"
    }
}
