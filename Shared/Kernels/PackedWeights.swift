/// Weights B (k×n) packed once, at model load, into the column panels the GEMM kernel streams.
///
/// Layout: B is cut into panels of `PackedWeights.panelWidth` (16) consecutive columns; the last
/// panel is 8 wide when at most 8 columns remain. A panel of width w stores its k rows one after
/// another, w floats each, so the kernel reads it front to back with no stride. Columns past `n`
/// in the last panel are zero. Panel p starts at float offset `p * 16 * k`, 64-byte aligned, so
/// each k step of a full panel is exactly one cache line.
///
/// The panels hold 32-bit floats, or (`converted(to: .bfloat16)`) the same layout in bfloat16:
/// the upper half of each float's bits, half the memory; the kernel widens them back to floats
/// (exactly) as it loads them, so a bfloat16 product is the float32 product with B rounded.
///
/// Immutable once built: share one value between threads freely. The panels may live in memory
/// shared between processes (`init(k:n:format:buffer:)`, e.g. a mapped weight cache).
public struct PackedWeights: Sendable {
    /// The number of rows of B (the inner dimension of the product).
    public let k: Int
    /// The number of columns of B (the width of the output).
    public let n: Int
    /// What each stored value is.
    public let format: WeightFormat

    /// The panels: `panelFloatCount(k:n:)` values of `format`, starting on a 64-byte boundary.
    public let buffer: WeightBuffer

    /// The width of every panel but possibly the last.
    static let panelWidth = 16
    /// Columns 8 ..< 16 of a panel exist only when the panel is 16 wide.
    static let halfPanelWidth = 8

    /// Packs B.
    ///
    /// - Parameters:
    ///   - b: `k * n` floats: row-major k×n when `transposed == false`; row-major n×k (a PyTorch
    ///     Linear weight, ONNX Gemm with transB=1) when `transposed == true`.
    ///   - k: the inner dimension, >= 0.
    ///   - n: the output width, >= 0.
    ///   - transposed: whether `b` holds Bᵀ.
    public init(b: UnsafeBufferPointer<Float>, k: Int, n: Int, transposed: Bool) {
        precondition(k >= 0 && n >= 0, "PackedWeights: negative shape k=\(k) n=\(n)")
        let (product, overflow) = k.multipliedReportingOverflow(by: n)
        precondition(!overflow && b.count == product,
                     "PackedWeights: expected k*n = \(k)*\(n) floats, got \(b.count)")
        self.k = k
        self.n = n
        format = .float32
        buffer = WeightArray<Float>(zeroedCount: Self.panelFloatCount(k: k, n: n)) { buffer in
            guard let src = b.baseAddress, product > 0 else { return }
            let panels = buffer.baseAddress!
            for column in 0..<n {
                let panel = column / Self.panelWidth
                let width = Self.width(ofPanel: panel, n: n)
                let base = panels + panel * Self.panelWidth * k + column % Self.panelWidth
                for row in 0..<k {
                    base[row * width] = transposed ? src[column * k + row] : src[row * n + column]
                }
            }
        }.buffer
    }

    /// Weights packed before, e.g. by another process into a shared file: `panels` must hold
    /// exactly `panelFloatCount(k: k, n: n)` floats in this type's layout, 64-byte aligned.
    public init(k: Int, n: Int, panels: WeightArray<Float>) {
        self.init(k: k, n: n, format: .float32, buffer: panels.buffer)!
    }

    /// Weights packed before in `format` (see `init(k:n:panels:)`); nil when `buffer` does not
    /// hold exactly the panels of a k×n matrix in that format, 64-byte aligned.
    public init?(k: Int, n: Int, format: WeightFormat, buffer: WeightBuffer) {
        guard k >= 0 && n >= 0, buffer.byteCount == Self.panelFloatCount(k: k, n: n) * format.byteWidth,
              UInt(bitPattern: buffer.base) % 64 == 0 else { return nil }
        self.k = k
        self.n = n
        self.format = format
        self.buffer = buffer
    }

    /// The same weights stored as `format`: rounded to the nearest bfloat16 (ties to even; NaN
    /// stays NaN, infinities stay infinite), or widened back to floats (exactly).
    public func converted(to format: WeightFormat) -> PackedWeights {
        if format == self.format { return self }
        let count = Self.panelFloatCount(k: k, n: n)
        let source = buffer.base
        switch format {
        case .bfloat16:
            let values = WeightArray<UInt16>(zeroedCount: count) { out in
                for i in 0..<count { out[i] = bfloat16(source.load(fromByteOffset: 4 * i, as: Float.self)) }
            }
            return PackedWeights(k: k, n: n, format: .bfloat16, buffer: values.buffer)!
        case .float32:
            let values = WeightArray<Float>(zeroedCount: count) { out in
                for i in 0..<count { out[i] = Float(bitPattern: UInt32(source.load(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
            }
            return PackedWeights(k: k, n: n, panels: values)
        }
    }

    /// Packs B from an array; see `init(b:k:n:transposed:)`.
    public init(_ b: [Float], k: Int, n: Int, transposed: Bool = false) {
        self = b.withUnsafeBufferPointer { PackedWeights(b: $0, k: k, n: n, transposed: transposed) }
    }

    /// Row-major k×n copy of B (tests, the reference path, the sparse path).
    public func unpacked() -> [Float] {
        if format != .float32 { return converted(to: .float32).unpacked() }
        var out = [Float](repeating: 0, count: k * n)
        out.withUnsafeMutableBufferPointer { dst in
            withPanels { panels in
                for column in 0..<n {
                    let panel = column / Self.panelWidth
                    let width = Self.width(ofPanel: panel, n: n)
                    let base = panels + panel * Self.panelWidth * k + column % Self.panelWidth
                    for row in 0..<k {
                        dst[row * n + column] = base[row * width]
                    }
                }
            }
        }
        return out
    }

    /// The number of panels.
    var panelCount: Int { (n + Self.panelWidth - 1) / Self.panelWidth }

    /// Calls `body` with the 64-byte aligned start of panel 0 of float32 weights.
    func withPanels<R>(_ body: (UnsafePointer<Float>) -> R) -> R {
        precondition(format == .float32, "PackedWeights: float panels of \(format) weights")
        // A WeightBuffer always has an address, even when empty (k = 0: no panel is read).
        return body(buffer.base.assumingMemoryBound(to: Float.self))
    }

    /// The width (8 or 16) of panel `panel` of a matrix with `n` columns.
    static func width(ofPanel panel: Int, n: Int) -> Int {
        let remaining = n - panel * panelWidth
        return remaining > halfPanelWidth ? panelWidth : halfPanelWidth
    }

    /// The number of floats the panels of a k×n matrix take.
    public static func panelFloatCount(k: Int, n: Int) -> Int {
        let full = n / panelWidth
        let rest = n % panelWidth
        let tail = rest == 0 ? 0 : (rest > halfPanelWidth ? panelWidth : halfPanelWidth)
        return (full * panelWidth + tail) * k
    }
}

/// How packed weights are stored.
public enum WeightFormat: UInt8, Sendable, Equatable, CaseIterable {
    /// IEEE 754 single precision.
    case float32 = 0
    /// The upper 16 bits of a float32 (8-bit exponent, 7-bit mantissa).
    case bfloat16 = 1

    /// Bytes per value.
    public var byteWidth: Int { self == .float32 ? 4 : 2 }
}

/// `x` rounded to the nearest bfloat16, ties to even; a NaN stays a (quiet) NaN.
public func bfloat16(_ x: Float) -> UInt16 {
    let bits = x.bitPattern
    if x.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
    let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: rounded >> 16)
}
