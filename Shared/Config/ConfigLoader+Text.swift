import Messages

/// The text kinds, `text_hash` and `tfidf`: scikit-learn's parameter names and defaults.
extension ConfigLoader {
    /// Largest `max_n` of `ngram_range`: every n-gram costs a hash of up to n characters or words.
    static let maxNgram = 64

    /// `text_hash`: HashingVectorizer.
    func textHashing(_ feature: TableReader) throws(ConfigError) -> TextHashing {
        var spec = TextHashing(analysis: try analysis(feature))
        spec.nFeatures = try feature.integer("n_features", in: 1...Self.maxHashBuckets,
                                             describing: " (up to 2^24)") ?? spec.nFeatures
        spec.alternateSign = try feature.boolean("alternate_sign") ?? spec.alternateSign
        spec.norm = try feature.choice("norm", TextNorm.self) ?? spec.norm
        spec.binary = try feature.boolean("binary") ?? spec.binary
        return spec
    }

    /// `tfidf`: TfidfVectorizer with its fitted `vocabulary` (terms in column order) and `idf`.
    func tfidf(_ feature: TableReader) throws(ConfigError) -> Tfidf {
        let analysis = try analysis(feature)
        let vocabulary = try feature.require(feature.strings("vocabulary"), "vocabulary")
        if vocabulary.isEmpty {
            throw feature.invalid(feature.keyPath("vocabulary"), "must not be empty",
                                  at: feature.value("vocabulary")!.position)
        }
        try checkUnique(vocabulary, feature, "vocabulary")
        var spec = Tfidf(vocabulary: vocabulary.map(\.string), analysis: analysis)
        if let idf = try feature.numbers("idf") {
            guard idf.count == vocabulary.count else {
                throw feature.invalid(feature.keyPath("idf"), "has \(counted(idf.count, "weight")) for \(counted(vocabulary.count, "vocabulary term")): "
                                      + "give one per term",
                                      at: feature.value("idf")!.position)
            }
            spec.idf = idf.map(\.number)
        }
        spec.sublinearTF = try feature.boolean("sublinear_tf") ?? spec.sublinearTF
        spec.norm = try feature.choice("norm", TextNorm.self) ?? spec.norm
        spec.binary = try feature.boolean("binary") ?? spec.binary
        return spec
    }

    /// The analyzer keys both text kinds share.
    private func analysis(_ feature: TableReader) throws(ConfigError) -> TextAnalysis {
        var analysis = TextAnalysis()
        analysis.analyzer = try feature.choice("analyzer", TextAnalyzer.self) ?? analysis.analyzer
        analysis.lowercase = try feature.boolean("lowercase") ?? analysis.lowercase
        if let (low, high) = try feature.integerPair("ngram_range") {
            guard 1 <= low, low <= high, high <= Self.maxNgram else {
                throw feature.invalid(feature.keyPath("ngram_range"), "must be [min_n, max_n] with 1 <= "
                                      + "min_n <= max_n <= \(Self.maxNgram), found [\(low), \(high)]",
                                      at: feature.value("ngram_range")!.position)
            }
            analysis.ngramRange = low...high
        }
        if let stopWords = try feature.strings("stop_words") {
            guard analysis.analyzer == .word else {
                throw feature.invalid(feature.keyPath("stop_words"), "applies to analyzer \"word\" only "
                                      + "(scikit-learn ignores it for \"\(analysis.analyzer.rawValue)\")",
                                      at: feature.value("stop_words")!.position)
            }
            analysis.stopWords = stopWords.map(\.string)
        }
        return analysis
    }
}
