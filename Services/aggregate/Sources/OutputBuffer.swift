/// The bytes of one batch's output records, in memory reused for every batch.
///
/// Writers `reserve` an upper bound for a record, write it through the `ByteCursor` that returns,
/// and `commit` the cursor.
final class OutputBuffer {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 256 << 10) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The bytes written so far.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Forgets the contents, keeps the memory.
    func removeAll() { count = 0 }

    /// Makes room for `extra` more bytes and returns a cursor at the end.
    /// - Important: the cursor is valid until the next `reserve`; write at most `extra` bytes.
    @inline(__always)
    func reserve(_ extra: Int) -> ByteCursor {
        if count + extra > capacity { grow(count + extra) }
        return ByteCursor(base + count)
    }

    /// Takes the bytes written through `cursor` (from the last `reserve`) into the contents.
    @inline(__always)
    func commit(_ cursor: ByteCursor) {
        let end = cursor.position - base
        precondition(end >= count && end <= capacity, "OutputBuffer: wrote past the reserved room")
        count = end
    }

    private func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }
}

/// A write position in memory the caller has already reserved: the record writer's hot path.
///
/// A local struct rather than the buffer's own counter, so the inner loops are plain stores and
/// pointer increments (a class property would be re-read, and access-checked, at every byte).
/// Each `put` documents the most bytes it writes; reserve at least that much first.
struct ByteCursor {
    var position: UnsafeMutablePointer<UInt8>

    init(_ position: UnsafeMutablePointer<UInt8>) { self.position = position }

    /// Most bytes written by `putDecimal`, `ShortestFloat.write` ("-1.17549435e-38") and
    /// `putShortest(Double)` ("-2.2250738585072014e-308").
    static let maxDecimal = 20, maxFloat = 15, maxDouble = 24

    @inline(__always)
    mutating func put(_ byte: UInt8) {
        position[0] = byte
        position += 1
    }

    /// `bytes.count` bytes.
    @inline(__always)
    mutating func put(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        let n = bytes.count
        if n <= 16 {
            // Most pieces are a few bytes (a number, a key): a call to memmove costs more.
            for i in 0..<n { position[i] = base.load(fromByteOffset: i, as: UInt8.self) }
        } else {
            UnsafeMutableRawPointer(position).copyMemory(from: base, byteCount: n)
        }
        position += n
    }

    /// The fixed piece `range` of `OutputPlan.bytes` (at `pieces`), in whole 32-byte blocks: one
    /// vector copy for most pieces, where a byte loop or memmove cost more (measured with perf).
    /// - Important: reads up to 31 bytes past the piece (the plan's padding) and stores up to 31
    ///   bytes past the text, garbage that what follows overwrites: within `ShortestFloat.reach`.
    @inline(__always)
    mutating func putPiece(_ pieces: UnsafeRawPointer, _ range: Range<Int>) {
        let source = pieces + range.lowerBound
        var i = 0
        repeat {
            let block = source.loadUnaligned(fromByteOffset: i, as: SIMD32<UInt8>.self)
            UnsafeMutableRawPointer(position + i).storeBytes(of: block, as: SIMD32<UInt8>.self)
            i &+= 32
        } while i < range.count
        position += range.count
    }

    @inline(__always)
    mutating func put(_ text: StaticString) {
        put(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// An integer in decimal; at most `maxDecimal` bytes.
    @inline(__always)
    mutating func putDecimal(_ value: Int64) {
        position[0] = UInt8(ascii: "-")  // kept only for a negative value
        position += value < 0 ? 1 : 0
        position += DecimalDigits.write(value.magnitude, to: position)
    }

    /// A finite Float64 in Swift's shortest round-trip text (`Double.description`); at most
    /// `maxDouble` bytes.
    @inline(__always)
    mutating func putShortest(_ value: Double) {
        precondition(value.isFinite)
        value.write(to: &self)
    }

    /// `bytes` as a JSON string (RFC 8259): quoted, `"` and `\` backslash-escaped, control
    /// characters as `\u00XX`, everything else (UTF-8 included) as is. At most 6 × count + 2 bytes.
    mutating func putJSONString(_ bytes: UnsafeRawBufferPointer) {
        put(UInt8(ascii: "\""))
        for b in bytes {
            if b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                put(b)
            } else if b >= 0x20 {
                position[0] = UInt8(ascii: "\\")
                position[1] = b
                position += 2
            } else {
                put("\\u00")
                put(hexDigit(b >> 4))
                put(hexDigit(b & 0xF))
            }
        }
        put(UInt8(ascii: "\""))
    }

    /// `bytes` as one CSV field (RFC 4180): as is, or in quotes with `"` doubled when it holds a
    /// comma, a quote, CR or LF. At most 2 × count + 2 bytes.
    mutating func putCSVField(_ bytes: UnsafeRawBufferPointer) {
        let needsQuotes = bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else {
            put(bytes)
            return
        }
        put(UInt8(ascii: "\""))
        for b in bytes {
            put(b)
            if b == UInt8(ascii: "\"") { put(b) }
        }
        put(UInt8(ascii: "\""))
    }
}

extension ByteCursor: TextOutputStream {
    /// The general path (used by types that do not hand over ASCII bytes).
    mutating func write(_ string: String) {
        var string = string
        string.withUTF8 { put(UnsafeRawBufferPointer($0)) }
    }

    /// Where `Float.write(to:)` and `Double.write(to:)` deliver their digits, without a String.
    /// (An underscored customization point: if a future Swift stopped calling it, `write(_:)`
    /// would receive the same text, only slower.)
    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
        put(UnsafeRawBufferPointer(buffer))
    }
}

@inline(__always)
private func hexDigit(_ x: UInt8) -> UInt8 {
    x < 10 ? UInt8(ascii: "0") + x : UInt8(ascii: "a") + x - 10
}

/// `text` as a JSON string (`json`) or a CSV field, for the fixed pieces built once at init.
func escaped(_ text: String, json: Bool) -> [UInt8] {
    var text = text
    return text.withUTF8 { utf8 in
        [UInt8](unsafeUninitializedCapacity: utf8.count * 6 + 2) { buffer, count in
            var cursor = ByteCursor(buffer.baseAddress!)
            if json { cursor.putJSONString(UnsafeRawBufferPointer(utf8)) } else { cursor.putCSVField(UnsafeRawBufferPointer(utf8)) }
            count = cursor.position - buffer.baseAddress!
        }
    }
}
