/// `[[feature]]` tables: which input field each reads and how it becomes model-input columns.
extension ConfigLoader {
    /// The `kind = "..."` names and the keys each kind takes besides `field` and `kind`.
    enum KindName: String, CaseIterable {
        case identity, impute, standardize, minmax, log1p, bucketize, onehot, hash
        case textHash = "text_hash"
        case tfidf

        /// The keys every text kind takes: how the text becomes terms.
        static let analysisKeys = ["analyzer", "lowercase", "ngram_range", "stop_words"]

        var keys: [String] {
            switch self {
            case .identity, .impute, .log1p: ["fill"]
            case .standardize: ["mean", "std", "fill"]
            case .minmax: ["min", "max", "feature_range", "clip", "fill"]
            case .bucketize: ["edges", "encode", "fill"]
            case .onehot: ["categories", "drop", "fill"]
            case .hash: ["n_features", "buckets", "alternate_sign", "fill"]
            case .textHash: ["n_features", "alternate_sign", "norm", "binary"] + Self.analysisKeys
            case .tfidf: ["vocabulary", "idf", "sublinear_tf", "norm", "binary"] + Self.analysisKeys
            }
        }

        /// The input field types the kind can read.
        var fieldTypes: [FieldType] {
            switch self {
            case .identity, .impute, .standardize, .minmax, .log1p, .bucketize: [.float, .int, .bool]
            case .onehot: [.string, .int]
            case .hash, .textHash, .tfidf: [.string]
            }
        }

        /// Every key of every kind, each once, in kind order.
        static let allKeys: [String] = {
            var keys = ["field", "kind"]
            for kind in allCases { keys += kind.keys.filter { !keys.contains($0) } }
            return keys
        }()
    }

    /// Largest `n_features` of a `hash` or `text_hash` feature: 2^24 columns.
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
            // Keys are checked once the kind is known, against that kind's keys.
            let reader = try TableReader(table, path: "feature[\(i)]", title: "[[feature]]",
                                         file: file, known: table.keys)
            features.append(try loadFeature(reader, schema: schema))
        }
        return features
    }

    private func loadFeature(_ feature: TableReader, schema: InputSpec) throws(ConfigError)
        -> FeatureSpec
    {
        let kind = try feature.require(feature.choice("kind", KindName.self), "kind")
        let kindText = "kind \"\(kind.rawValue)\""
        let own = ["field", "kind"] + kind.keys
        // A key of another kind is not a typo, but it does not apply here.
        if let stray = feature.table.entries.first(where: {
            !own.contains($0.key) && KindName.allKeys.contains($0.key)
        }) {
            let takes = "only " + kind.keys.map { "`\($0)`" }.joined(separator: ", ")
            throw ConfigError(.unknownKey, file: file, position: stray.keyPosition,
                              message: "`\(feature.keyPath(stray.key))` does not apply to "
                                  + "\(kindText), which takes \(takes)")
        }
        try feature.checkKnown(own, fallback: KindName.allKeys)

        let fieldName = try feature.require(feature.text("field"), "field")
        let fieldPosition = feature.value("field")!.position
        guard let index = schema.fieldIndex(fieldName) else {
            throw feature.invalid(feature.keyPath("field"), "names \"\(fieldName)\", which is not "
                                  + "an input field" + Schema.hint(fieldName, schema),
                                  at: fieldPosition)
        }
        let field = schema.fields[index]
        guard kind.fieldTypes.contains(field.type) else {
            let types = kind.fieldTypes.map(\.rawValue).joined(separator: ", ")
            let article = field.type == .int ? "an" : "a"
            let message = "names \"\(fieldName)\", \(article) \(field.type.rawValue) field, but "
                + "\(kindText) needs a field of type \(types)"
            throw feature.invalid(feature.keyPath("field"), message, at: fieldPosition)
        }

        var fill: FillValue? = nil
        let spec: FeatureKind
        switch kind {
        case .identity:
            spec = .identity
            fill = try feature.number("fill").map(FillValue.number)
        case .impute:
            spec = .impute(fill: try feature.require(feature.number("fill"), "fill"))
        case .standardize:
            let mean = try feature.require(feature.number("mean"), "mean")
            let std = try feature.require(feature.number("std"), "std")
            if std < 0 {
                throw feature.invalid(feature.keyPath("std"), "must be >= 0, found \(std)",
                                      at: feature.value("std")!.position)
            }
            spec = .standardize(mean: mean, std: std)
            fill = try feature.number("fill").map(FillValue.number)
        case .minmax:
            spec = try minmax(feature)
            fill = try feature.number("fill").map(FillValue.number)
        case .log1p:
            spec = .log1p
            fill = try feature.number("fill").map(FillValue.number)
        case .bucketize:
            spec = try bucketize(feature)
            fill = try feature.number("fill").map(FillValue.number)
        case .onehot:
            let categories = try categories(feature, field: field)
            var drop: String? = nil
            if let text = try feature.string("drop") {
                guard categories.contains(where: { $0.utf8.elementsEqual(text.utf8) }) else {
                    throw feature.invalid(feature.keyPath("drop"), "is \"\(text)\", which is not one "
                                          + "of the categories", at: feature.value("drop")!.position)
                }
                drop = text
            }
            spec = .onehot(categories: categories, drop: drop)
            fill = try textFill(feature, field: field)
        case .hash:
            spec = try hash(feature)
            fill = try textFill(feature, field: field)
        case .textHash:
            spec = .textHash(try textHashing(feature))
        case .tfidf:
            spec = .tfidf(try tfidf(feature))
        }
        return FeatureSpec(field: fieldName, kind: spec, fill: fill, line: feature.table.position.line)
    }

    private func minmax(_ feature: TableReader) throws(ConfigError) -> FeatureKind {
        let min = try feature.require(feature.number("min"), "min")
        let max = try feature.require(feature.number("max"), "max")
        if max < min {
            throw feature.invalid(feature.keyPath("max"), "(\(max)) must be >= "
                                  + "`\(feature.keyPath("min"))` (\(min))",
                                  at: feature.value("max")!.position)
        }
        var range: ClosedRange<Double> = 0...1
        if let (low, high) = try feature.numberPair("feature_range") {
            guard low < high else {
                throw feature.invalid(feature.keyPath("feature_range"), "must be [low, high] with low < "
                                      + "high, found [\(low), \(high)]",
                                      at: feature.value("feature_range")!.position)
            }
            range = low...high
        }
        return .minmax(min: min, max: max, featureRange: range, clip: try feature.boolean("clip") ?? false)
    }

    private func bucketize(_ feature: TableReader) throws(ConfigError) -> FeatureKind {
        let edges = try feature.require(feature.numbers("edges", allowInfinite: true), "edges")
        let path = feature.keyPath("edges")
        guard edges.count >= 2 else {
            throw feature.invalid(path, "must hold at least two numbers (the bins' outer edges), found "
                                  + "\(edges.count)", at: feature.value("edges")!.position)
        }
        for i in 1..<edges.count where edges[i].number < edges[i - 1].number {
            throw feature.invalid("\(path)[\(i)]", "(\(edges[i].number)) must be >= `\(path)[\(i - 1)]` "
                                  + "(\(edges[i - 1].number)): edges ascend", at: edges[i].position)
        }
        var encode = BinEncoding.onehot
        if let text = try feature.string("encode"), text != "onehot-dense" {
            encode = try TableReader.choice(text, BinEncoding.self) { (message) throws(ConfigError) in
                throw feature.invalid(feature.keyPath("encode"), message, at: feature.value("encode")!.position)
            }
        }
        return .bucketize(edges: edges.map(\.number), encode: encode)
    }

    private func hash(_ feature: TableReader) throws(ConfigError) -> FeatureKind {
        let note = " (up to 2^24)"
        let range = 1...Self.maxHashBuckets
        let n = try feature.integer("n_features", in: range, describing: note)
        let buckets = try feature.integer("buckets", in: range, describing: note)
        if n != nil && buckets != nil {
            throw feature.invalid(feature.keyPath("buckets"), "is another name for `"
                                  + feature.keyPath("n_features") + "`: give only one",
                                  at: feature.value("buckets")!.position)
        }
        let count = try feature.require(n ?? buckets, "n_features")
        return .hash(nFeatures: count, alternateSign: try feature.boolean("alternate_sign") ?? true)
    }

    /// `fill` of a categorical kind: a string, or for an int field an integer (or its decimal text).
    private func textFill(_ feature: TableReader, field: FieldSpec) throws(ConfigError) -> FillValue? {
        guard let value = feature.value("fill") else { return nil }
        if field.type == .int {
            if let integer = value.integer { return .text(String(integer)) }
            guard let text = value.string else {
                throw feature.typeMismatch(feature.keyPath("fill"), "an integer or a string", value)
            }
            guard Int(text).map(String.init) == text else {
                throw feature.invalid(feature.keyPath("fill"), "is \"\(text)\", which is not the decimal "
                                      + "text of an integer (the int field \"\(field.name)\" is "
                                      + "compared as decimal text)", at: value.position)
            }
            return .text(text)
        }
        return try feature.string("fill").map(FillValue.text)
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
