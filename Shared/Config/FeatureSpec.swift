/// One `[[feature]]`: which field it reads and how it turns it into model-input columns.
public struct FeatureSpec: Sendable, Equatable {
    public var field: String
    public var kind: FeatureKind
    /// scikit-learn `SimpleImputer` placed before the kind (the `fill` key): the value a missing
    /// input (an absent or null optional field, or a NaN) takes before the kind sees it. nil:
    /// missing stays missing (NaN for the numeric kinds, no column set for the categorical ones).
    ///
    /// A number for the numeric kinds (identity, standardize, minmax, log1p, bucketize), a string
    /// for `onehot` and `hash`; the text kinds take none. `impute` carries its fill in its kind.
    public var fill: FillValue?
    /// Where the `[[feature]]` table starts in the config file (for error messages).
    public var line: Int

    public init(field: String, kind: FeatureKind, fill: FillValue? = nil, line: Int = 0) {
        self.field = field
        self.kind = kind
        self.fill = fill
        self.line = line
    }

    /// Number of model-input columns this feature produces.
    public var width: Int { kind.width }
}

/// The value `fill` puts in place of a missing input.
public enum FillValue: Sendable, Equatable {
    /// For the numeric kinds: replaces a missing value and NaN.
    case number(Double)
    /// For `onehot` and `hash`: replaces a missing string (int fields: the decimal text).
    case text(String)
}

/// The transformations a `[[feature]]` can apply (`kind = "..."`), each with the semantics of a
/// scikit-learn transformer given the same fitted parameters.
public enum FeatureKind: Sendable, Equatable {
    /// The value as is (numbers; bools as 0/1).
    case identity
    /// scikit-learn `SimpleImputer`: the value, or `fill` when it is missing or NaN (1 column).
    case impute(fill: Double)
    /// `(x - mean) / std` (StandardScaler; `std == 0` is treated as 1).
    case standardize(mean: Double, std: Double)
    /// MinMaxScaler fitted on data whose minimum is `min` and maximum `max` (`data_min_`,
    /// `data_max_`), scaling to `featureRange`; `clip` clips the result to that range.
    case minmax(min: Double, max: Double, featureRange: ClosedRange<Double> = 0...1, clip: Bool = false)
    /// `log(1 + x)` (`FunctionTransformer(np.log1p)`).
    case log1p
    /// KBinsDiscretizer with bin edges `edges` (`bin_edges_[j]`: bins + 1 ascending values, the
    /// outer two only counting the bins): bin `i` holds `edges[i] <= x < edges[i + 1]`, values
    /// below `edges[1]` fall in bin 0 and values from `edges[bins - 1]` on in the last bin.
    case bucketize(edges: [Double], encode: BinEncoding = .onehot)
    /// OneHotEncoder(handle_unknown="ignore"): one column per category, 1 for the matching one;
    /// unknown or missing: all zeros. `drop` (one of the categories) has no column: it encodes
    /// as all zeros too.
    case onehot(categories: [String], drop: String? = nil)
    /// FeatureHasher(n_features, input_type="string", alternate_sign) of the field's string:
    /// MurmurHash3 32-bit signed, seed 0.
    case hash(nFeatures: Int, alternateSign: Bool = true)
    /// HashingVectorizer of a text field.
    case textHash(TextHashing)
    /// TfidfVectorizer of a text field, with a given vocabulary and idf weights.
    case tfidf(Tfidf)

    /// FeatureHasher with alternate signs into `buckets` columns (the kind's first spelling).
    public static func hash(buckets: Int) -> FeatureKind { .hash(nFeatures: buckets) }

    /// Number of model-input columns the kind produces.
    public var width: Int {
        switch self {
        case .identity, .impute, .standardize, .minmax, .log1p: 1
        case .bucketize(let edges, let encode): encode == .ordinal ? 1 : max(edges.count - 1, 0)
        case .onehot(let categories, let drop): categories.count - (drop == nil ? 0 : 1)
        case .hash(let nFeatures, _): nFeatures
        case .textHash(let spec): spec.nFeatures
        case .tfidf(let spec): spec.vocabulary.count
        }
    }
}

/// How `bucketize` writes the bin (KBinsDiscretizer's `encode`).
public enum BinEncoding: String, Sendable, Equatable, CaseIterable {
    /// One column per bin, 1 in the value's bin ("onehot" and "onehot-dense" give the same numbers).
    case onehot
    /// One column holding the bin number 0, 1, 2, ….
    case ordinal
}

/// How a text is cut into terms (scikit-learn's `analyzer`).
public enum TextAnalyzer: String, Sendable, Equatable, CaseIterable {
    /// Words: maximal runs of 2 or more word characters (token_pattern `(?u)\b\w\w+\b`), then
    /// n-grams of words joined by a space.
    case word
    /// Character n-grams of the text with each run of 2 or more white-space characters replaced
    /// by one space.
    case char
    /// Character n-grams inside each white-space separated word padded with one space each side.
    case charWB = "char_wb"
}

/// Row normalization after counting (scikit-learn's `norm`).
public enum TextNorm: String, Sendable, Equatable, CaseIterable {
    /// Each row divided by the sum of its absolute values.
    case l1
    /// Each row divided by its Euclidean length.
    case l2
    /// No normalization (scikit-learn's `norm=None`).
    case none
}

/// How a text becomes terms: the analyzer options scikit-learn's vectorizers share.
public struct TextAnalysis: Sendable, Equatable {
    public var analyzer: TextAnalyzer
    /// Lowercase first, with Python's `str.lower()` (full case mapping, final sigma).
    public var lowercase: Bool
    /// The n of the n-grams, `min_n...max_n` (`ngram_range = [min_n, max_n]`).
    public var ngramRange: ClosedRange<Int>
    /// Words dropped before the word n-grams are made (the `word` analyzer only).
    public var stopWords: [String]

    public init(analyzer: TextAnalyzer = .word, lowercase: Bool = true, ngramRange: ClosedRange<Int> = 1...1,
                stopWords: [String] = []) {
        self.analyzer = analyzer
        self.lowercase = lowercase
        self.ngramRange = ngramRange
        self.stopWords = stopWords
    }
}

/// `text_hash`: scikit-learn `HashingVectorizer` (defaults as scikit-learn's).
public struct TextHashing: Sendable, Equatable {
    /// Columns; each term goes to `abs(murmurhash3_32(term)) % nFeatures`. Default 2^20.
    public var nFeatures: Int
    /// A term whose signed hash is negative counts -1 instead of +1. Default true.
    public var alternateSign: Bool
    public var norm: TextNorm
    /// Every stored count becomes 1 before the norm. Default false.
    public var binary: Bool
    public var analysis: TextAnalysis

    public init(nFeatures: Int = 1 << 20, alternateSign: Bool = true, norm: TextNorm = .l2, binary: Bool = false,
                analysis: TextAnalysis = TextAnalysis()) {
        self.nFeatures = nFeatures
        self.alternateSign = alternateSign
        self.norm = norm
        self.binary = binary
        self.analysis = analysis
    }
}

/// `tfidf`: scikit-learn `TfidfVectorizer` with a fitted vocabulary and idf weights.
public struct Tfidf: Sendable, Equatable {
    /// The term of each column, in column order (`get_feature_names_out()`; `vocabulary_` maps
    /// each term to its position here).
    public var vocabulary: [String]
    /// `idf_`, one weight per column; nil: `use_idf=False`.
    public var idf: [Double]?
    /// Counts `tf` become `1 + log(tf)`. Default false.
    public var sublinearTF: Bool
    public var norm: TextNorm
    /// Every count becomes 1 before the weighting. Default false.
    public var binary: Bool
    public var analysis: TextAnalysis

    public init(vocabulary: [String], idf: [Double]? = nil, sublinearTF: Bool = false, norm: TextNorm = .l2,
                binary: Bool = false, analysis: TextAnalysis = TextAnalysis()) {
        self.vocabulary = vocabulary
        self.idf = idf
        self.sublinearTF = sublinearTF
        self.norm = norm
        self.binary = binary
        self.analysis = analysis
    }
}
