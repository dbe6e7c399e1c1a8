import Config

/// Checks one `FeatureSpec` against its field's type and compiles it into a step operation.
///
/// The config loader already checks all of this for configs read from a file; this repeats the
/// checks for configs built in code, so a processor never runs with parameters it cannot honour.
struct FeatureCompiler {
    let spec: FeatureSpec
    let type: FieldType

    private var isNumeric: Bool { type == .float || type == .int || type == .bool }

    private func unsupported(_ kind: String) -> FeaturizeError {
        .unsupportedType(field: spec.field, line: spec.line, kind: kind, type: type)
    }

    private func invalid(_ reason: String) -> FeaturizeError {
        .invalidParameter(field: spec.field, line: spec.line, reason: reason)
    }

    func operation() throws(FeaturizeError) -> FeatureStep.Operation {
        switch spec.kind {
        case .identity:
            return .number(.identity, fill: try numericFill("identity"))
        case .impute(let fill):
            guard isNumeric else { throw unsupported("impute") }
            guard !fill.isNaN else { throw invalid("impute needs a fill value that is not NaN") }
            guard spec.fill == nil else { throw invalid("impute carries its fill value in its kind: leave `fill` out") }
            return .number(.identity, fill: fill)
        case .standardize(let mean, let std):
            let fill = try numericFill("standardize")
            guard mean.isFinite, std.isFinite, std >= 0 else {
                throw invalid("standardize needs a finite mean and a finite std >= 0 (got mean \(mean), std \(std))")
            }
            return .number(.standardize(mean: mean, std: std), fill: fill)
        case .minmax(let min, let max, let range, let clip):
            let fill = try numericFill("minmax")
            guard min.isFinite, max.isFinite, min <= max, (max - min).isFinite else {
                throw invalid("minmax needs finite min <= max with a finite range (got min \(min), max \(max))")
            }
            guard range.lowerBound.isFinite, range.upperBound.isFinite, range.lowerBound < range.upperBound else {
                throw invalid("minmax needs a finite feature_range [low, high] with low < high (got \(range))")
            }
            return .number(.minmax(min: min, max: max, range: range, clip: clip), fill: fill)
        case .log1p:
            return .number(.log1p, fill: try numericFill("log1p"))
        case .bucketize(let edges, let encode):
            let fill = try numericFill("bucketize")
            guard edges.count >= 2, !edges.contains(where: \.isNaN),
                  zip(edges, edges.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                throw invalid("bucketize needs at least two ascending edges, none NaN (got \(edges))")
            }
            let transform = NumericTransform.bin(edges: edges)
            return encode == .ordinal ? .number(transform, fill: fill) : .binOneHot(transform, fill: fill)
        case .onehot(let categories, let drop):
            return .onehot(try onehot(categories, drop: drop))
        case .hash(let nFeatures, let alternateSign):
            guard type == .string else { throw unsupported("hash") }
            try checkHashWidth("hash", nFeatures)
            return .hash(StringHashing(nFeatures: nFeatures, alternateSign: alternateSign,
                                       fill: try textFill("hash").map { Array($0.utf8) }))
        case .textHash(let hashing):
            try checkText("text_hash", hashing.analysis)
            try checkHashWidth("text_hash", hashing.nFeatures)
            return .text(TextFeature(hashing))
        case .tfidf(let tfidf):
            try checkText("tfidf", tfidf.analysis)
            guard !tfidf.vocabulary.isEmpty else { throw invalid("tfidf needs a vocabulary of at least one term") }
            if let idf = tfidf.idf {
                guard idf.count == tfidf.vocabulary.count else {
                    throw invalid("tfidf has \(idf.count) idf weights for \(tfidf.vocabulary.count) vocabulary terms")
                }
                guard idf.allSatisfy(\.isFinite) else { throw invalid("tfidf idf weights must be finite") }
            }
            guard let feature = TextFeature(tfidf) else {
                throw invalid("tfidf vocabulary term \"\(firstDuplicate(tfidf.vocabulary))\" is listed twice")
            }
            return .text(feature)
        }
    }

    /// The numeric `fill`, after checking the field is numeric.
    private func numericFill(_ kind: String) throws(FeaturizeError) -> Double? {
        guard isNumeric else { throw unsupported(kind) }
        switch spec.fill {
        case nil: return nil
        case .number(let value)?:
            guard !value.isNaN else { throw invalid("\(kind) fill must not be NaN") }
            return value
        case .text(let text)?:
            throw invalid("\(kind) reads numbers: its fill must be a number, not the string \"\(text)\"")
        }
    }

    /// The string `fill` of a categorical kind.
    private func textFill(_ kind: String) throws(FeaturizeError) -> String? {
        switch spec.fill {
        case nil: return nil
        case .text(let text)?: return text
        case .number(let value)?:
            throw invalid("\(kind) reads strings: its fill must be a string, not the number \(value)")
        }
    }

    private func onehot(_ categories: [String], drop: String?) throws(FeaturizeError) -> OneHotEncoding {
        let text: CategoryText
        switch type {
        case .string: text = .string
        case .int: text = .int
        case .bool: text = .bool
        case .float: throw unsupported("onehot")
        }
        guard !categories.isEmpty else { throw invalid("onehot needs at least one category") }
        guard let table = CategoryTable(categories) else {
            throw invalid("onehot category \"\(firstDuplicate(categories))\" is listed twice")
        }
        var dropIndex: Int? = nil
        if let drop {
            guard let i = categories.firstIndex(where: { $0.utf8.elementsEqual(drop.utf8) }) else {
                throw invalid("onehot drop \"\(drop)\" is not one of the categories")
            }
            dropIndex = i
        }
        var fillIndex: Int? = nil
        if let fill = try textFill("onehot") {
            fillIndex = Array(fill.utf8).withUnsafeBytes { table.index(of: $0) }
        }
        return OneHotEncoding(table: table, text: text, drop: dropIndex, fill: fillIndex)
    }

    private func checkHashWidth(_ kind: String, _ n: Int) throws(FeaturizeError) {
        guard n >= 1 && n <= Int(Int32.max) else {
            throw invalid("\(kind) n_features must be in 1...\(Int32.max) (got \(n))")
        }
    }

    private func checkText(_ kind: String, _ analysis: TextAnalysis) throws(FeaturizeError) {
        guard type == .string else { throw unsupported(kind) }
        guard spec.fill == nil else { throw invalid("\(kind) takes no fill: a missing text is an empty document") }
        guard analysis.ngramRange.lowerBound >= 1 else {
            throw invalid("\(kind) ngram_range must start at 1 or more (got \(analysis.ngramRange))")
        }
        guard analysis.stopWords.isEmpty || analysis.analyzer == .word else {
            throw invalid("\(kind) stop_words apply to analyzer \"word\" only")
        }
    }

    /// The first string whose UTF-8 bytes repeat an earlier one's (as `CategoryTable` compares).
    private func firstDuplicate(_ strings: [String]) -> String {
        var seen = Set<[UInt8]>()
        return strings.first { !seen.insert(Array($0.utf8)).inserted } ?? ""
    }
}
