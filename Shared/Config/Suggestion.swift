/// "Did you mean …?" for unknown keys, tables and enumeration values.
public enum Suggestion {
    /// The candidate `word` was most likely meant to be, if one is close enough.
    ///
    /// Close means, in this order: equal ignoring case, `-` and `_` (`batchRows`, `Batch-Rows` →
    /// `batch_rows`); within edit distance 1 (insertions, deletions, substitutions and swaps of
    /// adjacent characters each count 1); one a prefix of the other, at least 4 characters long
    /// (`ngram` → `ngram_range`); within edit distance 2. Ties go to the earlier candidate.
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let folded = fold(word)
        if let same = candidates.first(where: { $0 != word && fold($0) == folded }) { return same }
        var best: (candidate: String, distance: Int)? = nil
        for candidate in candidates where candidate != word {
            let distance = editDistance(word, candidate)
            if distance <= 2, distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        if let best, best.distance <= 1 { return best.candidate }
        let shorter = { (a: String, b: String) in a.unicodeScalars.count >= 4 && b.hasPrefix(a) }
        if let prefixed = candidates.first(where: {
            $0 != word && (shorter(folded, fold($0)) || shorter(fold($0), folded))
        }) {
            return prefixed
        }
        return best?.candidate
    }

    /// `"; did you mean `x`?"`, or "" when nothing is close; `format` renders the candidate.
    static func didYouMean(_ word: String, in candidates: [String],
                           format: (String) -> String = { $0 }) -> String {
        closest(to: word, in: candidates).map { "; did you mean `\(format($0))`?" } ?? ""
    }

    /// Optimal-string-alignment distance between `a` and `b`, by Unicode scalar.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars)
        let b = Array(b.unicodeScalars)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        // Three rows of the dynamic-programming table: two back (for swaps), previous, current.
        var before = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], before[j - 2] + 1)
                }
            }
            (before, previous, current) = (previous, current, before)
        }
        return previous[b.count]
    }

    /// Lowercased, without `-` and `_`.
    private static func fold(_ word: String) -> String {
        String(word.lowercased().unicodeScalars.filter { $0 != "-" && $0 != "_" })
    }
}
