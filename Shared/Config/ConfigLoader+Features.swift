/// `[[feature]]` tables: which input field each reads and how it becomes model-input columns.
extension ConfigLoader {
    /// The `kind = "..."` names and the keys each kind takes besides `field` and `kind`.
    enum KindName: String, CaseIterable {
        case identity, standardize, minmax, onehot, hash

        var keys: [String] {
            switch self {
            case .identity: []
            case .standardize: ["mean", "std"]
            case .minmax: ["min", "max"]
            case .onehot: ["categories"]
            case .hash: ["buckets"]
            }
        }

        /// The input field types the kind can read.
        var fieldTypes: [FieldType] {
            switch self {
            case .identity, .standardize, .minmax: [.float, .int, .bool]
            case .onehot: [.string, .int]
            case .hash: [.string]
            }
        }

        static let allKeys = ["field", "kind"] + allCases.flatMap(\.keys)
    }

    /// Largest `buckets` of a hash feature: 2^24 columns.
    static let maxHashBuckets = 1 << 24

    func loadFeatures(_ top: TableReader, schema: InputSpec) throws(ConfigError) -> [FeatureSpec] {
        guard let tables = try top.tables("feature") else {
            throw ConfigError(.missingKey, file: file, position: .start,
                              message: "missing `[[feature]]`: at least one feature is needed")
        }
        if tables.isEmpty {
            throw top.invalid("feature", "must not be empty: at least one feature is needed",
                              at: top.value("feature")!.position)
        }
        var features: [FeatureSpec] = []
        for (i, table) in tables.enumerated() {
            let reader = try TableReader(table, path: "feature[\(i)]", title: "[[feature]]",
                                         file: file, known: KindName.allKeys)
            features.append(try loadFeature(reader, schema: schema))
        }
        return features
    }

    private func loadFeature(_ feature: TableReader, schema: InputSpec) throws(ConfigError)
        -> FeatureSpec
    {
        let fieldName = try feature.require(feature.text("field"), "field")
        let fieldPosition = feature.value("field")!.position
        guard let index = schema.fieldIndex(fieldName) else {
            throw feature.invalid(feature.keyPath("field"), "names \"\(fieldName)\", which is not "
                                  + "an input field" + Schema.hint(fieldName, schema),
                                  at: fieldPosition)
        }
        let field = schema.fields[index]
        let kind = try feature.require(feature.choice("kind", KindName.self), "kind")
        let kindText = "kind \"\(kind.rawValue)\""

        // Keys of another kind are known (so no "unknown key"), but do not apply here.
        if let stray = feature.table.entries.first(where: {
            !(["field", "kind"] + kind.keys).contains($0.key)
        }) {
            let takes = kind.keys.isEmpty ? "no other keys"
                : "only " + kind.keys.map { "`\($0)`" }.joined(separator: ", ")
            throw ConfigError(.unknownKey, file: file, position: stray.keyPosition,
                              message: "`\(feature.keyPath(stray.key))` does not apply to "
                                  + "\(kindText), which takes \(takes)")
        }
        guard kind.fieldTypes.contains(field.type) else {
            let types = kind.fieldTypes.map(\.rawValue).joined(separator: ", ")
            let article = field.type == .int ? "an" : "a"
            let message = "names \"\(fieldName)\", \(article) \(field.type.rawValue) field, but "
                + "\(kindText) needs a field of type \(types)"
            throw feature.invalid(feature.keyPath("field"), message, at: fieldPosition)
        }

        let spec: FeatureKind
        switch kind {
        case .identity:
            spec = .identity
        case .standardize:
            let mean = try feature.require(feature.number("mean"), "mean")
            let std = try feature.require(feature.number("std"), "std")
            if std < 0 {
                throw feature.invalid(feature.keyPath("std"), "must be >= 0, found \(std)",
                                      at: feature.value("std")!.position)
            }
            spec = .standardize(mean: mean, std: std)
        case .minmax:
            let min = try feature.require(feature.number("min"), "min")
            let max = try feature.require(feature.number("max"), "max")
            if max < min {
                throw feature.invalid(feature.keyPath("max"), "(\(max)) must be >= "
                                      + "`\(feature.keyPath("min"))` (\(min))",
                                      at: feature.value("max")!.position)
            }
            spec = .minmax(min: min, max: max)
        case .onehot:
            spec = .onehot(categories: try categories(feature, field: field))
        case .hash:
            let buckets = try feature.integer("buckets", in: 1...Self.maxHashBuckets,
                                              describing: " (up to 2^24)")
            spec = .hash(buckets: try feature.require(buckets, "buckets"))
        }
        return FeatureSpec(field: fieldName, kind: spec, line: feature.table.position.line)
    }

    /// A non-empty list of unique strings; for an int field, each must be an integer's text.
    private func categories(_ feature: TableReader, field: FieldSpec) throws(ConfigError)
        -> [String]
    {
        let categories = try feature.require(feature.strings("categories"), "categories")
        let path = feature.keyPath("categories")
        if categories.isEmpty {
            throw feature.invalid(path, "must not be empty",
                                  at: feature.value("categories")!.position)
        }
        try checkUnique(categories, feature, "categories")
        if field.type == .int {
            for (i, (text, position)) in categories.enumerated()
            where Int(text).map({ String($0) }) != text {
                throw feature.invalid("\(path)[\(i)]", "is \"\(text)\", which can never match the "
                                      + "int field \"\(field.name)\": write categories of an int "
                                      + "field as decimal integers", at: position)
            }
        }
        return categories.map(\.string)
    }
}
