import Config
import Testing

/// The feature kinds with scikit-learn's parameter names: what each parses to (defaults as
/// scikit-learn's), and every way a key can be wrong, with its position.
@Suite struct FeatureKindConfigTests {
    static func feature(_ lines: String) -> String { "[[feature]]\n" + lines }

    static let errors: [ValidationCase] = [
        // Text kinds read strings only, and say which feature is wrong.
        .init(feature("field = \"id\"\nkind = \"text_hash\""), 2, 9, .invalidValue,
              "`feature[0].field` names \"id\", an int field, but kind \"text_hash\" needs a field of type string"),
        .init(feature("field = \"amount\"\nkind = \"tfidf\"\nvocabulary = [\"a\"]"), 2, 9, .invalidValue,
              "`feature[0].field` names \"amount\", a float field, but kind \"tfidf\" needs a field of type string"),
        .init(feature("field = \"flag\"\nkind = \"hash\"\nn_features = 4"), 2, 9, .invalidValue,
              "`feature[0].field` names \"flag\", a bool field, but kind \"hash\" needs a field of type string"),
        .init(feature("field = \"country\"\nkind = \"bucketize\"\nedges = [0, 1]"), 2, 9, .invalidValue,
              "`feature[0].field` names \"country\", a string field, but kind \"bucketize\" needs a field of type "
                  + "float, int, bool"),
        .init(feature("field = \"country\"\nkind = \"log1p\""), 2, 9, .invalidValue,
              "`feature[0].field` names \"country\", a string field, but kind \"log1p\" needs a field of type "
                  + "float, int, bool"),
        // Unknown keys: did you mean, among the kind's keys first.
        .init(feature("field = \"country\"\nkind = \"text_hash\"\nn_feature = 8"), 4, 1, .unknownKey,
              "unknown key `feature[0].n_feature`; did you mean `n_features`?"),
        .init(feature("field = \"country\"\nkind = \"text_hash\"\nngram = [1, 2]"), 4, 1, .unknownKey,
              "unknown key `feature[0].ngram`; did you mean `ngram_range`?"),
        .init(feature("field = \"country\"\nkind = \"text_hash\"\ntokenizer = \"x\""), 4, 1, .unknownKey,
              "unknown key `feature[0].tokenizer` (expected one of: field, kind, n_features, alternate_sign, norm, "
                  + "binary, analyzer, lowercase, ngram_range, stop_words)"),
        .init(feature("field = \"country\"\nkind = \"tfidf\"\nvocabulary = [\"a\"]\nsublinear_TF = true"), 5, 1,
              .unknownKey, "unknown key `feature[0].sublinear_TF`; did you mean `sublinear_tf`?"),
        .init(feature("field = \"country\"\nkind = \"text_hash\"\nfill = \"x\""), 4, 1, .unknownKey,
              "`feature[0].fill` does not apply to kind \"text_hash\", which takes only `n_features`, "
                  + "`alternate_sign`, `norm`, `binary`, `analyzer`, `lowercase`, `ngram_range`, `stop_words`"),
        .init(feature("field = \"country\"\nkind = \"text_hash\"\nvocabulary = [\"a\"]"), 4, 1, .unknownKey,
              "`feature[0].vocabulary` does not apply to kind \"text_hash\", which takes only `n_features`, "
                  + "`alternate_sign`, `norm`, `binary`, `analyzer`, `lowercase`, `ngram_range`, `stop_words`"),
        .init(feature("field = \"amount\"\nkind = \"log1p\"\nmean = 1"), 4, 1, .unknownKey,
              "`feature[0].mean` does not apply to kind \"log1p\", which takes only `fill`"),
        // text_hash and tfidf values.
        .init(feature("field = \"country\"\nkind = \"text_hash\"\nngram_range = [2, 1]"), 4, 15, .invalidValue,
              "`feature[0].ngram_range` must be [min_n, max_n] with 1 <= min_n <= max_n <= 64, found [2, 1]"),
        .init(feature("field = \"country\"\nkind = \"text_hash\"\nngram_range = [0, 1]"), 4, 15, .invalidValue,
              "`feature[0].ngram_range` must be [min_n, max_n] with 1 <= min_n <= max_n <= 64, found [0, 1]"),
        .init(feature("field = \"country\"\nkind = \"text_hash\"\nngram_range = [1]"), 4, 15, .invalidValue,
              "`feature[0].ngram_range` must hold exactly two integers, found 1"),
        .init(feature("field = \"country\"\nkind = \"text_hash\"\nngram_range = [1, \"2\"]"), 4, 19, .typeMismatch,
              "`feature[0].ngram_range[1]` must be an integer, found a string"),
        .init(feature("field = \"country\"\nkind = \"text_hash\"\nanalyzer = \"chars\""), 4, 12, .invalidValue,
              "`feature[0].analyzer` must be one of \"word\", \"char\", \"char_wb\", found \"chars\"; did you mean `char`?"),
        .init(feature("field = \"country\"\nkind = \"text_hash\"\nnorm = \"L2\""), 4, 8, .invalidValue,
              "`feature[0].norm` must be one of \"l1\", \"l2\", \"none\", found \"L2\"; did you mean `l2`?"),
        .init(feature("field = \"country\"\nkind = \"text_hash\"\nanalyzer = \"char\"\nstop_words = [\"a\"]"), 5, 14,
              .invalidValue, "`feature[0].stop_words` applies to analyzer \"word\" only (scikit-learn ignores it for \"char\")"),
        .init(feature("field = \"country\"\nkind = \"text_hash\"\nn_features = 0"), 4, 14, .invalidValue,
              "`feature[0].n_features` must be in 1...16777216 (up to 2^24), found 0"),
        .init(feature("field = \"country\"\nkind = \"text_hash\"\nalternate_sign = \"yes\""), 4, 18, .typeMismatch,
              "`feature[0].alternate_sign` must be a boolean, found a string"),
        .init(feature("field = \"country\"\nkind = \"text_hash\"\nlowercase = 1"), 4, 13, .typeMismatch,
              "`feature[0].lowercase` must be a boolean, found an integer"),
        .init(feature("field = \"country\"\nkind = \"tfidf\""), 1, 1, .missingKey,
              "missing required key `feature[0].vocabulary` in the `[[feature]]` table at line 1"),
        .init(feature("field = \"country\"\nkind = \"tfidf\"\nvocabulary = []"), 4, 14, .invalidValue,
              "`feature[0].vocabulary` must not be empty"),
        .init(feature("field = \"country\"\nkind = \"tfidf\"\nvocabulary = [\"a\", \"a\"]"), 4, 20, .invalidValue,
              "`feature[0].vocabulary[1]` repeats \"a\" (first at 4:15)"),
        .init(feature("field = \"country\"\nkind = \"tfidf\"\nvocabulary = [\"a\", \"b\"]\nidf = [1.0]"), 5, 7,
              .invalidValue, "`feature[0].idf` has 1 weight for 2 vocabulary terms: give one per term"),
        .init(feature("field = \"country\"\nkind = \"tfidf\"\nvocabulary = [\"a\"]\nidf = [nan]"), 5, 8,
              .invalidValue, "`feature[0].idf[0]` must be a finite number, found nan"),
        .init(feature("field = \"country\"\nkind = \"tfidf\"\nvocabulary = [\"a\"]\nidf = 2.0"), 5, 7,
              .typeMismatch, "`feature[0].idf` must be an array of numbers, found a float"),
        // minmax.
        .init(feature("field = \"amount\"\nkind = \"minmax\"\nmin = 0\nmax = 1\nfeature_range = [1, 0]"), 6, 17,
              .invalidValue, "`feature[0].feature_range` must be [low, high] with low < high, found [1.0, 0.0]"),
        .init(feature("field = \"amount\"\nkind = \"minmax\"\nmin = 0\nmax = 1\nfeature_range = [0]"), 6, 17,
              .invalidValue, "`feature[0].feature_range` must hold exactly two numbers, found 1"),
        .init(feature("field = \"amount\"\nkind = \"minmax\"\nmin = 0\nmax = 1\nclip = 1"), 6, 8,
              .typeMismatch, "`feature[0].clip` must be a boolean, found an integer"),
        .init(feature("field = \"amount\"\nkind = \"minmax\"\nmin = 0\nmax = 1\nrange = [0, 1]"), 6, 1,
              .unknownKey, "unknown key `feature[0].range` (expected one of: field, kind, min, max, feature_range, "
                  + "clip, fill)"),
        // bucketize.
        .init(feature("field = \"amount\"\nkind = \"bucketize\""), 1, 1, .missingKey,
              "missing required key `feature[0].edges` in the `[[feature]]` table at line 1"),
        .init(feature("field = \"amount\"\nkind = \"bucketize\"\nedges = [1]"), 4, 9, .invalidValue,
              "`feature[0].edges` must hold at least two numbers (the bins' outer edges), found 1"),
        .init(feature("field = \"amount\"\nkind = \"bucketize\"\nedges = [0, 2, 1]"), 4, 16, .invalidValue,
              "`feature[0].edges[2]` (1.0) must be >= `feature[0].edges[1]` (2.0): edges ascend"),
        .init(feature("field = \"amount\"\nkind = \"bucketize\"\nedges = [nan, 1]"), 4, 10, .invalidValue,
              "`feature[0].edges[0]` must be a number (inf and -inf allowed), found nan"),
        .init(feature("field = \"amount\"\nkind = \"bucketize\"\nedges = [\"a\"]"), 4, 10, .typeMismatch,
              "`feature[0].edges[0]` must be a number, found a string"),
        .init(feature("field = \"amount\"\nkind = \"bucketize\"\nedges = [0, 1]\nencode = \"one-hot\""), 5, 10,
              .invalidValue, "`feature[0].encode` must be one of \"onehot\", \"ordinal\", found \"one-hot\"; "
                  + "did you mean `onehot`?"),
        // impute and fill.
        .init(feature("field = \"amount\"\nkind = \"impute\""), 1, 1, .missingKey,
              "missing required key `feature[0].fill` in the `[[feature]]` table at line 1"),
        .init(feature("field = \"amount\"\nkind = \"impute\"\nfill = \"x\""), 4, 8, .typeMismatch,
              "`feature[0].fill` must be a number, found a string"),
        .init(feature("field = \"amount\"\nkind = \"standardize\"\nmean = 0\nstd = 1\nfill = inf"), 6, 8,
              .invalidValue, "`feature[0].fill` must be a finite number, found inf"),
        .init(feature("field = \"country\"\nkind = \"onehot\"\ncategories = [\"a\"]\nfill = 3"), 5, 8, .typeMismatch,
              "`feature[0].fill` must be a string, found an integer"),
        .init(feature("field = \"id\"\nkind = \"onehot\"\ncategories = [\"1\"]\nfill = \"x\""), 5, 8, .invalidValue,
              "`feature[0].fill` is \"x\", which is not the decimal text of an integer (the int field \"id\" is "
                  + "compared as decimal text)"),
        // onehot drop.
        .init(feature("field = \"country\"\nkind = \"onehot\"\ncategories = [\"a\", \"b\"]\ndrop = \"c\""), 5, 8,
              .invalidValue, "`feature[0].drop` is \"c\", which is not one of the categories"),
        // hash: n_features, or its first name buckets, not both.
        .init(feature("field = \"country\"\nkind = \"hash\"\nn_features = 8\nbuckets = 8"), 5, 11, .invalidValue,
              "`feature[0].buckets` is another name for `feature[0].n_features`: give only one"),
        .init(feature("field = \"country\"\nkind = \"hash\"\nn_features = 8\nalternate_sign = 0"), 5, 18,
              .typeMismatch, "`feature[0].alternate_sign` must be a boolean, found an integer"),
    ]

    @Test(arguments: errors)
    func rejectsWithMessageAndPosition(_ test: ValidationCase) throws {
        let error = try #require(configError(test.text))
        #expect(error.message == test.message)
        #expect(error.position == at(test.line, test.column))
        #expect(error.kind == test.kind)
    }

    static let schema = """
        [[input.field]]
        name = "amount"
        type = "float"
        required = false
        [[input.field]]
        name = "n"
        type = "int"
        [[input.field]]
        name = "city"
        type = "string"
        [[input.field]]
        name = "text"
        type = "string"
        [model]
        path = "m.onnx"

        """

    @Test func everyKindWithDefaults() throws {
        let config = try parseConfig(Self.schema + """
            [[feature]]
            field = "amount"
            kind = "impute"
            fill = 2.5
            [[feature]]
            field = "amount"
            kind = "minmax"
            min = 0
            max = 10
            [[feature]]
            field = "amount"
            kind = "log1p"
            [[feature]]
            field = "amount"
            kind = "bucketize"
            edges = [-inf, 0, 1.5, inf]
            [[feature]]
            field = "city"
            kind = "onehot"
            categories = ["a", "b"]
            [[feature]]
            field = "city"
            kind = "hash"
            n_features = 32
            [[feature]]
            field = "text"
            kind = "text_hash"
            [[feature]]
            field = "text"
            kind = "tfidf"
            vocabulary = ["x", "y", "z"]
            """)
        let kinds = config.features.map(\.kind)
        #expect(kinds == [
            .impute(fill: 2.5),
            .minmax(min: 0, max: 10, featureRange: 0...1, clip: false),
            .log1p,
            .bucketize(edges: [-.infinity, 0, 1.5, .infinity], encode: .onehot),
            .onehot(categories: ["a", "b"], drop: nil),
            .hash(nFeatures: 32, alternateSign: true),
            // HashingVectorizer() and TfidfVectorizer() defaults.
            .textHash(TextHashing(nFeatures: 1 << 20, alternateSign: true, norm: .l2, binary: false,
                                  analysis: TextAnalysis(analyzer: .word, lowercase: true, ngramRange: 1...1))),
            .tfidf(Tfidf(vocabulary: ["x", "y", "z"], idf: nil, sublinearTF: false, norm: .l2, binary: false)),
        ])
        #expect(config.features.map(\.width) == [1, 1, 1, 3, 2, 32, 1 << 20, 3])
        #expect(config.features.allSatisfy { $0.fill == nil })
    }

    @Test func everyKeySet() throws {
        let config = try parseConfig(Self.schema + """
            [[feature]]
            field = "amount"
            kind = "standardize"
            mean = 1
            std = 2
            fill = -1
            [[feature]]
            field = "amount"
            kind = "minmax"
            min = 0
            max = 10
            feature_range = [-1, 1]
            clip = true
            fill = 0
            [[feature]]
            field = "n"
            kind = "bucketize"
            edges = [0, 1, 2]
            encode = "ordinal"
            [[feature]]
            field = "amount"
            kind = "bucketize"
            edges = [0, 1, 2]
            encode = "onehot-dense"
            [[feature]]
            field = "n"
            kind = "onehot"
            categories = ["1", "2", "3"]
            drop = "2"
            fill = 3
            [[feature]]
            field = "city"
            kind = "hash"
            buckets = 16
            alternate_sign = false
            fill = "unknown"
            [[feature]]
            field = "text"
            kind = "text_hash"
            n_features = 1024
            alternate_sign = false
            norm = "none"
            binary = true
            analyzer = "word"
            lowercase = false
            ngram_range = [1, 3]
            stop_words = ["the", "a"]
            [[feature]]
            field = "text"
            kind = "tfidf"
            vocabulary = ["é", "e\\u0301"]
            idf = [1.5, 2]
            sublinear_tf = true
            norm = "l1"
            binary = false
            analyzer = "char_wb"
            ngram_range = [2, 4]
            """)
        let f = config.features
        #expect(f[0] == FeatureSpec(field: "amount", kind: .standardize(mean: 1, std: 2), fill: .number(-1), line: f[0].line))
        #expect(f[1].kind == .minmax(min: 0, max: 10, featureRange: -1...1, clip: true) && f[1].fill == .number(0))
        #expect(f[2].kind == .bucketize(edges: [0, 1, 2], encode: .ordinal) && f[2].width == 1)
        #expect(f[3].kind == .bucketize(edges: [0, 1, 2], encode: .onehot) && f[3].width == 2)
        #expect(f[4].kind == .onehot(categories: ["1", "2", "3"], drop: "2") && f[4].fill == .text("3") && f[4].width == 2)
        #expect(f[5].kind == .hash(nFeatures: 16, alternateSign: false) && f[5].fill == .text("unknown"))
        #expect(f[6].kind == .textHash(TextHashing(nFeatures: 1024, alternateSign: false, norm: .none, binary: true,
                                                   analysis: TextAnalysis(analyzer: .word, lowercase: false,
                                                                          ngramRange: 1...3, stopWords: ["the", "a"]))))
        guard case .tfidf(let tfidf) = f[7].kind else {
            Issue.record("not tfidf")
            return
        }
        // Canonically equivalent but different bytes: two terms, as in scikit-learn.
        #expect(tfidf.vocabulary.map { Array($0.utf8) } == [Array("é".utf8), Array("e\u{301}".utf8)])
        #expect(tfidf.idf == [1.5, 2] && tfidf.sublinearTF && tfidf.norm == .l1 && !tfidf.binary)
        #expect(tfidf.analysis == TextAnalysis(analyzer: .charWB, lowercase: true, ngramRange: 2...4))
        #expect(f.map(\.width) == [1, 1, 1, 2, 2, 16, 1024, 2])
    }

    /// Categories compare by bytes, as Python's strings do: "é" and "e\u{301}" are two categories.
    @Test func categoriesAreUniqueByBytes() throws {
        let config = try parseConfig(Self.schema + """
            [[feature]]
            field = "city"
            kind = "onehot"
            categories = ["é", "e\\u0301"]
            """)
        #expect(config.features[0].width == 2)
    }
}
