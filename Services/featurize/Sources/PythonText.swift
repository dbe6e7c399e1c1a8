import Config

/// The text processing of the text kinds, for tests and tools: what a document becomes before
/// it is hashed or looked up.
public enum PythonText {
    /// Python's `text.lower()` (see `PythonUnicode` for the Unicode data and its measured gaps).
    public static func lower(_ text: String) -> String {
        var scalars: [UInt32] = []
        var lowered: [UInt32] = []
        var copy = text
        copy.withUTF8 { PythonUnicode.appendScalars(utf8: UnsafeRawBufferPointer($0), to: &scalars) }
        scalars.withUnsafeBufferPointer { PythonUnicode.appendLowercased($0, to: &lowered) }
        var out = String.UnicodeScalarView()
        for c in lowered { out.append(Unicode.Scalar(c)!) }
        return String(out)
    }

    /// Whether `scalar` matches `\w` in a Python `str` pattern.
    public static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool { PythonUnicode.isWord(scalar.value) }

    /// Whether `scalar` matches `\s` in a Python `str` pattern (`str.isspace()`).
    public static func isWhiteSpace(_ scalar: Unicode.Scalar) -> Bool { PythonUnicode.isSpace(scalar.value) }

    /// The terms scikit-learn's `build_analyzer()` makes of `text` with these options, in the
    /// order the stage produces them (not scikit-learn's order; counts are what matter).
    public static func terms(in text: String, _ analysis: TextAnalysis) -> [String] {
        let extractor = TermExtractor(analysis)
        var terms: [String] = []
        var copy = text
        copy.withUTF8 { bytes in
            extractor.forEachTerm(in: UnsafeRawBufferPointer(bytes), scratch: TextScratch()) {
                terms.append(String(decoding: $0, as: UTF8.self))
            }
        }
        return terms
    }
}
