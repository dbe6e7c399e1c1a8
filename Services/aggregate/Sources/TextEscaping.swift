/// Writing text values into JSON and CSV output.
extension OutputBuffer {
    /// `bytes` as a JSON string (RFC 8259): quoted, `"` and `\` backslash-escaped, control
    /// characters as `\u00XX`, everything else (UTF-8 included) as is.
    func append(jsonString bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count * 6 + 2)  // worst case: every byte a \u00XX escape
        var p = end
        p[0] = UInt8(ascii: "\"")
        p += 1
        for b in bytes {
            if b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                p[0] = b
                p += 1
            } else if b >= 0x20 {
                p[0] = UInt8(ascii: "\\")
                p[1] = b
                p += 2
            } else {
                p[0] = UInt8(ascii: "\\")
                p[1] = UInt8(ascii: "u")
                p[2] = UInt8(ascii: "0")
                p[3] = UInt8(ascii: "0")
                p[4] = hexDigit(b >> 4)
                p[5] = hexDigit(b & 0xF)
                p += 6
            }
        }
        p[0] = UInt8(ascii: "\"")
        advance(p + 1 - end)
    }

    /// `bytes` as one CSV field (RFC 4180): as is, or quoted with `"` doubled when it holds a
    /// comma, a quote, CR or LF.
    func append(csvField bytes: UnsafeRawBufferPointer) {
        let needsQuotes = bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else {
            append(bytes)
            return
        }
        reserve(bytes.count * 2 + 2)
        var p = end
        p[0] = UInt8(ascii: "\"")
        p += 1
        for b in bytes {
            p[0] = b
            p += 1
            if b == UInt8(ascii: "\"") {
                p[0] = b
                p += 1
            }
        }
        p[0] = UInt8(ascii: "\"")
        advance(p + 1 - end)
    }
}

@inline(__always)
private func hexDigit(_ x: UInt8) -> UInt8 {
    x < 10 ? UInt8(ascii: "0") + x : UInt8(ascii: "a") + x - 10
}

/// `text` escaped by `write` into a new byte array (for the fixed pieces built once at init).
func escaped(_ text: String, _ write: (OutputBuffer) -> (UnsafeRawBufferPointer) -> Void) -> [UInt8] {
    let buffer = OutputBuffer(capacity: 64)
    var text = text
    text.withUTF8 { write(buffer)(UnsafeRawBufferPointer($0)) }
    return Array(buffer.bytes)
}
