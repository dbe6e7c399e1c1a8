/// The character classes and the lowercasing of Python's `str` that scikit-learn's text
/// vectorizers rely on, for Unicode scalars held as `UInt32`.
///
/// - `\w` in a `str` pattern (`re.UNICODE`): `str.isalnum()` or `_`, i.e. general category
///   L[ultmo], or any Numeric_Type (Decimal, Digit, Numeric), or U+005F.
/// - `\s` and `str.split()`: `str.isspace()`, the fixed set below (bidi classes WS, B, S, or
///   category Zs).
/// - `str.lower()`: each scalar's full lowercase mapping (SpecialCasing's unconditional ones,
///   e.g. U+0130 → "i\u{307}"), except U+03A3 Σ, which becomes ς in the Final_Sigma context and σ
///   otherwise, exactly as CPython's `handle_capital_sigma` decides.
///
/// The Unicode data is the Swift standard library's. Measured against CPython 3.11 (Unicode
/// 14.0) over every scalar: `\w` and the lowercase mapping agree on every scalar Python
/// considers assigned; they differ only on scalars assigned after Unicode 14 (14,049 for `\w`,
/// 55 for lowercasing), which Python 3.11 treats as unassigned: not word characters, no case.
/// The Final_Sigma context differs for 2 assigned scalars (U+0295, U+1171E, whose Cased /
/// Case_Ignorable properties changed after Unicode 14). See tools/make_feature_vectors.py and
/// `PythonUnicodeTests`.
enum PythonUnicode {
    /// `\w` for the 128 ASCII scalars.
    private static let asciiWord: [Bool] = (0..<128).map { c in
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
    }

    /// Whether `c` matches `\w` in a Python `str` pattern.
    static func isWord(_ c: UInt32) -> Bool {
        if c < 128 { return asciiWord[Int(c)] }
        guard let scalar = Unicode.Scalar(c) else { return false }
        let p = scalar.properties
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return p.numericType != nil
        }
    }

    /// Whether `c` matches `\s` in a Python `str` pattern (and splits in `str.split()`).
    static func isSpace(_ c: UInt32) -> Bool {
        switch c {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Appends Python's `text.lower()` of the scalars `text` to `out`.
    static func appendLowercased(_ text: UnsafeBufferPointer<UInt32>, to out: inout [UInt32]) {
        for i in 0..<text.count {
            let c = text[i]
            if c < 128 {
                out.append(c >= 0x41 && c <= 0x5A ? c + 0x20 : c)
            } else if c == 0x3A3 {
                out.append(isFinalSigma(text, at: i) ? 0x3C2 : 0x3C3)
            } else if let scalar = Unicode.Scalar(c), scalar.properties.changesWhenLowercased {
                for lowered in scalar.properties.lowercaseMapping.unicodeScalars { out.append(lowered.value) }
            } else {
                out.append(c)
            }
        }
    }

    /// CPython's `handle_capital_sigma`: Σ at `i` is final when a cased scalar precedes it
    /// (skipping case-ignorable ones) and none follows it (skipping case-ignorable ones).
    private static func isFinalSigma(_ text: UnsafeBufferPointer<UInt32>, at i: Int) -> Bool {
        var j = i - 1
        while j >= 0 && isCaseIgnorable(text[j]) { j -= 1 }
        guard j >= 0 && isCased(text[j]) else { return false }
        j = i + 1
        while j < text.count && isCaseIgnorable(text[j]) { j += 1 }
        return j == text.count || !isCased(text[j])
    }

    private static func isCased(_ c: UInt32) -> Bool {
        Unicode.Scalar(c)?.properties.isCased ?? false
    }

    private static func isCaseIgnorable(_ c: UInt32) -> Bool {
        Unicode.Scalar(c)?.properties.isCaseIgnorable ?? false
    }

    /// Appends the scalars of the UTF-8 text `bytes` to `out`; an invalid sequence (the ingest
    /// stage validates UTF-8, so only a bug gets here) becomes U+FFFD, as Python's
    /// `errors="replace"` would.
    static func appendScalars(utf8 bytes: UnsafeRawBufferPointer, to out: inout [UInt32]) {
        var iterator = bytes.makeIterator()
        var decoder = Unicode.UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): out.append(scalar.value)
            case .emptyInput: return
            case .error: out.append(0xFFFD)
            }
        }
    }

    /// Appends the UTF-8 encoding of the scalar `c` to `out`.
    static func appendUTF8(_ c: UInt32, to out: inout [UInt8]) {
        switch c {
        case 0..<0x80:
            out.append(UInt8(c))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (c >> 6)))
            out.append(UInt8(0x80 | (c & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (c >> 12)))
            out.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (c & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (c >> 18)))
            out.append(UInt8(0x80 | ((c >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (c & 0x3F)))
        }
    }
}
