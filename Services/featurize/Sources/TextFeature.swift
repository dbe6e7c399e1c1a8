#if canImport(Glibc)
import Glibc
#endif
import Config
import Kernels

/// One stored entry of a text feature's row: its column (within the feature) and value.
struct TextEntry {
    var column: UInt32
    var value: Double
}

/// A compiled `text_hash` (HashingVectorizer) or `tfidf` (TfidfVectorizer with fitted
/// vocabulary and idf) feature: one document becomes the stored entries of one CSR row.
///
/// Everything is computed in Double as scikit-learn does (dtype float64), then rounded once to
/// Float32 by the caller:
/// - text_hash: each term adds `+1` (or `-1` when `alternate_sign` and its signed MurmurHash3 is
///   negative) at `abs(h) % n_features`; equal columns are summed (`sum_duplicates`, which keeps
///   entries that cancel out as stored zeros), `binary` sets every stored value to 1, then the norm.
/// - tfidf: each term in the vocabulary counts 1 at its column; `binary` sets counts to 1,
///   `sublinear_tf` maps `tf` to `log(tf) + 1`, the idf weight multiplies, then the norm.
/// - norm: l2 divides by `sqrt(Σ v²)`, l1 by `Σ |v|`, both summed in ascending column order
///   (scikit-learn's `inplace_csr_row_normalize_*`); a row whose sum is 0 is left as it is.
struct TextFeature: Sendable {
    enum Weighting: Sendable {
        case hashing(nFeatures: Int, alternateSign: Bool)
        case tfidf(vocabulary: CategoryTable, idf: [Double]?, sublinear: Bool)
    }

    let terms: TermExtractor
    let weighting: Weighting
    let norm: TextNorm
    let binary: Bool

    init(_ spec: TextHashing) {
        terms = TermExtractor(spec.analysis)
        weighting = .hashing(nFeatures: spec.nFeatures, alternateSign: spec.alternateSign)
        norm = spec.norm
        binary = spec.binary
    }

    /// - Returns: nil when two vocabulary terms are equal (byte for byte).
    init?(_ spec: Tfidf) {
        guard let table = CategoryTable(spec.vocabulary) else { return nil }
        terms = TermExtractor(spec.analysis)
        weighting = .tfidf(vocabulary: table, idf: spec.idf, sublinear: spec.sublinearTF)
        norm = spec.norm
        binary = spec.binary
    }

    /// Fills `scratch.entries` with the row of the document `text`: ascending, distinct columns.
    func row(_ text: UnsafeRawBufferPointer, scratch s: TextScratch) {
        s.entries.removeAll(keepingCapacity: true)
        switch weighting {
        case .hashing(let nFeatures, let alternateSign):
            terms.forEachTerm(in: text, scratch: s) { term in
                let h = murmurHash3_32Signed(term, seed: 0)
                // Int32.min: `magnitude` is 2^31, which is what scikit-learn's special case computes.
                let value: Double = alternateSign && h < 0 ? -1 : 1
                s.entries.append(TextEntry(column: UInt32(Int(h.magnitude) % nFeatures), value: value))
            }
        case .tfidf(let vocabulary, _, _):
            terms.forEachTerm(in: text, scratch: s) { term in
                if let i = vocabulary.index(of: term) { s.entries.append(TextEntry(column: UInt32(i), value: 1)) }
            }
        }
        sumDuplicates(s)
        s.entries.withUnsafeMutableBufferPointer { entries in
            if binary {
                for i in entries.indices { entries[i].value = 1 }
            }
            if case .tfidf(_, let idf, let sublinear) = weighting {
                if sublinear {
                    for i in entries.indices { entries[i].value = log(entries[i].value) + 1 }
                }
                if let idf {
                    for i in entries.indices { entries[i].value *= idf[Int(entries[i].column)] }
                }
            }
            normalize(entries)
        }
    }

    /// Sorts the entries by column and merges equal columns by adding their values (which are
    /// ±1 counts: exact in any order).
    private func sumDuplicates(_ s: TextScratch) {
        guard s.entries.count > 1 else { return }
        if s.entries.count <= 64 {
            // A document's few dozen terms: insertion sort beats the general sort (measured ~9%
            // of featurize on text), and being stable it adds duplicates in a fixed order.
            s.entries.withUnsafeMutableBufferPointer { e in
                for i in 1..<e.count {
                    let x = e[i]
                    var j = i
                    while j > 0 && e[j - 1].column > x.column {
                        e[j] = e[j - 1]
                        j -= 1
                    }
                    e[j] = x
                }
            }
        } else {
            s.entries.sort { $0.column < $1.column }
        }
        var out = 0
        s.entries.withUnsafeMutableBufferPointer { e in
            for i in 1..<e.count {
                if e[i].column == e[out].column {
                    e[out].value += e[i].value
                } else {
                    out += 1
                    e[out] = e[i]
                }
            }
        }
        s.entries.removeLast(s.entries.count - out - 1)
    }

    private func normalize(_ entries: UnsafeMutableBufferPointer<TextEntry>) {
        var sum = 0.0
        switch norm {
        case .none:
            return
        case .l1:
            for e in entries { sum += abs(e.value) }
        case .l2:
            for e in entries { sum += e.value * e.value }
        }
        if sum == 0 { return }
        if norm == .l2 { sum = sum.squareRoot() }
        for i in entries.indices { entries[i].value /= sum }
    }
}
