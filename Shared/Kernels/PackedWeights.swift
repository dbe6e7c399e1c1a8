/// Weights B (k×n) packed once, at model load, into the column panels the GEMM kernel streams.
///
/// Layout: B is cut into panels of `PackedWeights.panelWidth` (16) consecutive columns; the last
/// panel is 8 wide when at most 8 columns remain. A panel of width w stores its k rows one after
/// another, w floats each, so the kernel reads it front to back with no stride. Columns past `n`
/// in the last panel are zero. Panel p starts at float offset `p * 16 * k`, 64-byte aligned, so
/// each k step of a full panel is exactly one cache line.
///
/// Immutable once built: share one value between threads freely. The panels may live in memory
/// shared between processes (`init(k:n:panels:)`, e.g. a mapped weight cache).
public struct PackedWeights: Sendable {
    /// The number of rows of B (the inner dimension of the product).
    public let k: Int
    /// The number of columns of B (the width of the output).
    public let n: Int

    /// The panels, `panelFloatCount(k:n:)` floats starting on a 64-byte boundary.
    public let panels: WeightArray<Float>

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
        panels = WeightArray(zeroedCount: Self.panelFloatCount(k: k, n: n)) { buffer in
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
        }
    }

    /// Weights packed before, e.g. by another process into a shared file: `panels` must hold
    /// exactly `panelFloatCount(k: k, n: n)` floats in this type's layout, 64-byte aligned.
    public init(k: Int, n: Int, panels: WeightArray<Float>) {
        precondition(k >= 0 && n >= 0, "PackedWeights: negative shape k=\(k) n=\(n)")
        precondition(panels.count == Self.panelFloatCount(k: k, n: n),
                     "PackedWeights: \(panels.count) floats of panels for k=\(k) n=\(n)")
        precondition(UInt(bitPattern: panels.buffer.base) % 64 == 0, "PackedWeights: panels not 64-byte aligned")
        self.k = k
        self.n = n
        self.panels = panels
    }

    /// Packs B from an array; see `init(b:k:n:transposed:)`.
    public init(_ b: [Float], k: Int, n: Int, transposed: Bool = false) {
        self = b.withUnsafeBufferPointer { PackedWeights(b: $0, k: k, n: n, transposed: transposed) }
    }

    /// Row-major k×n copy of B (tests, the reference path, the sparse path).
    public func unpacked() -> [Float] {
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

    /// Calls `body` with the 64-byte aligned start of panel 0.
    func withPanels<R>(_ body: (UnsafePointer<Float>) -> R) -> R {
        // A WeightBuffer always has an address, even when empty (k = 0: no panel is read).
        panels.withUnsafeBufferPointer { body($0.baseAddress!) }
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
