import Config

/// scikit-learn's `build_analyzer()` for the text kinds: a document's UTF-8 bytes become terms
/// (words, word n-grams or character n-grams), each handed over as its UTF-8 bytes, which is what
/// scikit-learn hashes or looks up in the vocabulary.
///
/// Steps, as scikit-learn runs them: `str.lower()` when `lowercase`, then
/// - `word`: tokens are the matches of `(?u)\b\w\w+\b` (maximal runs of two or more word
///   characters), stop words are dropped, then n-grams of `min_n...max_n` tokens joined by " ";
/// - `char`: each run of two or more white-space characters becomes one space, then every
///   substring of `min_n...max_n` characters;
/// - `char_wb`: for each white-space separated word `w`, the n-grams of `" " + w + " "`, a word
///   shorter than n giving itself once.
/// Characters are Unicode scalars (Python's `str` indexes code points). See `PythonUnicode` for
/// the character classes and lowercasing.
struct TermExtractor: Sendable {
    let analyzer: TextAnalyzer
    let lowercase: Bool
    let minN: Int
    let maxN: Int
    /// Stop words (word analyzer only), by their UTF-8 bytes.
    let stopWords: CategoryTable?

    init(_ analysis: TextAnalysis) {
        analyzer = analysis.analyzer
        lowercase = analysis.lowercase
        minN = analysis.ngramRange.lowerBound
        maxN = analysis.ngramRange.upperBound
        // CategoryTable refuses duplicates; a repeated stop word is harmless, so drop repeats.
        var unique: [String] = []
        var seen = Set<[UInt8]>()
        for word in analysis.stopWords where seen.insert(Array(word.utf8)).inserted { unique.append(word) }
        stopWords = unique.isEmpty ? nil : CategoryTable(unique)
    }

    /// Calls `emit` with the UTF-8 bytes of every term of the document `text`, in no promised
    /// order (callers count terms, so order does not matter), repeats included.
    func forEachTerm(in text: UnsafeRawBufferPointer, scratch s: TextScratch,
                     _ emit: (UnsafeRawBufferPointer) -> Void) {
        s.prepare(text, lowercase: lowercase, collapseSpaces: analyzer == .char)
        switch analyzer {
        case .word: words(s, emit)
        case .char: characters(s, emit)
        case .charWB: wordBoundedCharacters(s, emit)
        }
    }

    private func words(_ s: TextScratch, _ emit: (UnsafeRawBufferPointer) -> Void) {
        s.tokens.removeAll(keepingCapacity: true)
        s.utf8.withUnsafeBytes { bytes in
            s.starts.withUnsafeBufferPointer { starts in
                s.chars.withUnsafeBufferPointer { chars in
                    var i = 0
                    while i < chars.count {
                        guard PythonUnicode.isWord(chars[i]) else {
                            i += 1
                            continue
                        }
                        var j = i + 1
                        while j < chars.count && PythonUnicode.isWord(chars[j]) { j += 1 }
                        if j - i >= 2 {
                            let token = starts[i]..<starts[j]
                            if stopWords?.index(of: UnsafeRawBufferPointer(rebasing: bytes[token])) == nil {
                                s.tokens.append(token)
                            }
                        }
                        i = j
                    }
                }
            }
            let tokens = s.tokens
            if minN == 1 {
                for t in tokens { emit(UnsafeRawBufferPointer(rebasing: bytes[t])) }
            }
            guard maxN >= 2 else { return }
            for n in max(minN, 2)...maxN where n <= tokens.count {
                for first in 0...(tokens.count - n) {
                    s.joined.removeAll(keepingCapacity: true)
                    for k in first..<(first + n) {
                        if k > first { s.joined.append(0x20) }
                        s.joined.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[tokens[k]]))
                    }
                    s.joined.withUnsafeBytes(emit)
                }
            }
        }
    }

    private func characters(_ s: TextScratch, _ emit: (UnsafeRawBufferPointer) -> Void) {
        let count = s.chars.count
        guard count >= minN else { return }
        s.utf8.withUnsafeBytes { bytes in
            s.starts.withUnsafeBufferPointer { starts in
                for n in minN...min(maxN, count) {
                    for i in 0...(count - n) {
                        emit(UnsafeRawBufferPointer(rebasing: bytes[starts[i]..<starts[i + n]]))
                    }
                }
            }
        }
    }

    private func wordBoundedCharacters(_ s: TextScratch, _ emit: (UnsafeRawBufferPointer) -> Void) {
        let chars = s.chars, starts = s.starts
        var i = 0
        while i < chars.count {
            if PythonUnicode.isSpace(chars[i]) {
                i += 1
                continue
            }
            var j = i + 1
            while j < chars.count && !PythonUnicode.isSpace(chars[j]) { j += 1 }
            // " " + word + " ", with the start of each of its scalars.
            s.joined.removeAll(keepingCapacity: true)
            s.joinedStarts.removeAll(keepingCapacity: true)
            s.joinedStarts.append(0)
            s.joined.append(0x20)
            for k in i..<j {
                s.joinedStarts.append(s.joined.count)
                s.utf8.withUnsafeBytes { s.joined.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[starts[k]..<starts[k + 1]])) }
            }
            s.joinedStarts.append(s.joined.count)
            s.joined.append(0x20)
            s.joinedStarts.append(s.joined.count)
            let length = j - i + 2
            s.joined.withUnsafeBytes { bytes in
                s.joinedStarts.withUnsafeBufferPointer { at in
                    for n in minN...maxN {
                        var offset = 0
                        emit(UnsafeRawBufferPointer(rebasing: bytes[at[0]..<at[min(n, length)]]))
                        while offset + n < length {
                            offset += 1
                            emit(UnsafeRawBufferPointer(rebasing: bytes[at[offset]..<at[offset + n]]))
                        }
                        if offset == 0 { break }  // a word shorter than n: counted once
                    }
                }
            }
            i = j
        }
    }
}

/// Buffers a text feature reuses from document to document (one per featurize processor).
final class TextScratch {
    /// The document's scalars as decoded.
    var decoded: [UInt32] = []
    /// The scalars the analyzer works on (lowercased, white space collapsed).
    var chars: [UInt32] = []
    /// `chars` in UTF-8; scalar i is `utf8[starts[i]..<starts[i + 1]]`.
    var utf8: [UInt8] = []
    var starts: [Int] = []
    /// Word analyzer: the byte ranges of the tokens kept.
    var tokens: [Range<Int>] = []
    /// A term assembled from pieces (word n-grams, padded words) and its scalar starts.
    var joined: [UInt8] = []
    var joinedStarts: [Int] = []
    /// The row's (column, value) entries; see `TextFeature`.
    var entries: [TextEntry] = []

    /// Fills `chars`, `utf8` and `starts` from the document's bytes.
    func prepare(_ text: UnsafeRawBufferPointer, lowercase: Bool, collapseSpaces: Bool) {
        decoded.removeAll(keepingCapacity: true)
        chars.removeAll(keepingCapacity: true)
        utf8.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        if !text.contains(where: { $0 >= 0x80 }) {
            prepareASCII(text, lowercase: lowercase, collapseSpaces: collapseSpaces)
            return
        }
        PythonUnicode.appendScalars(utf8: text, to: &decoded)
        if lowercase {
            decoded.withUnsafeBufferPointer { PythonUnicode.appendLowercased($0, to: &chars) }
        } else {
            swap(&decoded, &chars)
        }
        if collapseSpaces { collapseWhiteSpaceRuns() }
        for c in chars {
            starts.append(utf8.count)
            PythonUnicode.appendUTF8(c, to: &utf8)
        }
        starts.append(utf8.count)
    }

    /// The same for an ASCII document, where a scalar is a byte, `lower()` maps A-Z to a-z and
    /// nothing else, and UTF-8 is the bytes themselves: no decoding or encoding (measured: the
    /// two took ~15% of featurize on English text).
    private func prepareASCII(_ text: UnsafeRawBufferPointer, lowercase: Bool, collapseSpaces: Bool) {
        chars.reserveCapacity(text.count)
        for b in text {
            chars.append(UInt32(lowercase && b >= 0x41 && b <= 0x5A ? b | 0x20 : b))
        }
        if collapseSpaces { collapseWhiteSpaceRuns() }
        utf8.reserveCapacity(chars.count)
        starts.reserveCapacity(chars.count + 1)
        for (i, c) in chars.enumerated() {
            starts.append(i)
            utf8.append(UInt8(truncatingIfNeeded: c))
        }
        starts.append(chars.count)
    }

    /// `re.sub(r"\s\s+", " ", text)`: a single white-space character stays as it is.
    private func collapseWhiteSpaceRuns() {
        var out = 0, i = 0
        let n = chars.count
        while i < n {
            if PythonUnicode.isSpace(chars[i]) && i + 1 < n && PythonUnicode.isSpace(chars[i + 1]) {
                var j = i + 2
                while j < n && PythonUnicode.isSpace(chars[j]) { j += 1 }
                chars[out] = 0x20
                i = j
            } else {
                chars[out] = chars[i]
                i += 1
            }
            out += 1
        }
        chars.removeLast(n - out)
    }
}
