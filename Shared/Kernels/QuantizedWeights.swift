import Int8AVX2
import Int8VNNI

/// Integer weights B (k×n) with a zero point per output column, packed once at model load for
/// `int8Gemm`: what onnxruntime's `quantize_dynamic` and QDQ models store (int8 or uint8), and
/// what `[model] precision = "int8"` makes from float weights.
///
/// Every stored value b and its column's zero point z satisfy -255 <= b - z <= 255, and
/// k <= 33 025 (= 2³¹ / 255², rounded down), so every product with a uint8 activation minus its
/// zero point, and every sum of k of them, is exact in Int32.
///
/// Layout (`kernel`):
/// - `.vnni`: B as int8, s = b − o with one offset o for the tensor (0 for int8 values, 128 for
///   uint8 ones), in panels of 32 columns (the last one 16 wide when at most 16 remain); within a
///   panel, k in groups of 4 (zero-padded), each group 4 bytes per column, column after column.
///   Per column (padded with zeros to whole panels): z − o, and Σₖ s − k·(z − o), which fold both
///   zero points into the exact result (see `int8GemmVNNI`).
/// - `.avx2`, `.scalar`: B − z as Int16 in panels of 16 columns (the last one 8 wide when at most
///   8 remain); within a panel, k in pairs (zero-padded), 2 values per column.
///
/// Immutable once built: share one value between threads freely. The packed values may live in
/// memory shared between processes (`buffers`, `init?(k:n:kernel:buffers:)`).
public struct QuantizedWeights: Sendable {
    /// The number of rows of B (the inner dimension of the product).
    public let k: Int
    /// The number of columns of B (the width of the output).
    public let n: Int
    /// The path the weights are packed for, and that `int8Gemm` runs on them.
    public let kernel: Int8Kernel
    /// The panels (`.vnni`: Int8; otherwise Int16), 64-byte aligned.
    let panels: WeightBuffer
    /// `.vnni` only (else empty): per column z − o, and Σₖ s − k·(z − o), padded to whole panels.
    let columnOffsets: WeightArray<Int32>
    let columnCorrections: WeightArray<Int32>

    /// The largest k for which every sum is exact in Int32 (2³¹ − 1 ≥ k · 255²).
    public static let maxK = 33_025

    /// Packs B for the fastest path this CPU runs (`Int8Kernel.best`); for `.avx2` when that is
    /// `.vnni` but B mixes values below 0 and above 127 (no one int8 offset fits them).
    ///
    /// - Parameters:
    ///   - b: `k * n` values of an int8 or uint8 tensor (each in -128...255): row-major k×n when
    ///     `transposed == false`, row-major n×k when `transposed == true`.
    ///   - zeroPoints: one zero point per column (n values) or one for all (1 value).
    public init(b: UnsafeBufferPointer<Int32>, k: Int, n: Int, zeroPoints: [Int32], transposed: Bool) {
        var kernel = Int8Kernel.best
        if kernel == .vnni && Self.int8Offset(b) == nil { kernel = .avx2 }
        self.init(b: b, k: k, n: n, zeroPoints: zeroPoints, transposed: transposed, kernel: kernel)
    }

    /// Packs B for `kernel`, whether or not this CPU can run it (tests pack for every path).
    ///
    /// - Parameters: as `init(b:k:n:zeroPoints:transposed:)`; for `.vnni` the values must be all
    ///   in -128...127 or all in 0...255.
    public init(b: UnsafeBufferPointer<Int32>, k: Int, n: Int, zeroPoints: [Int32], transposed: Bool,
                kernel: Int8Kernel) {
        precondition(k >= 0 && n >= 0, "QuantizedWeights: negative shape k=\(k) n=\(n)")
        precondition(k <= Self.maxK, "QuantizedWeights: k = \(k) could overflow the Int32 sums")
        let (product, overflow) = k.multipliedReportingOverflow(by: n)
        precondition(!overflow && b.count == product, "QuantizedWeights: expected k*n = \(k)*\(n) values, got \(b.count)")
        precondition(zeroPoints.count == n || zeroPoints.count == 1,
                     "QuantizedWeights: \(zeroPoints.count) zero points for \(n) columns")
        let zero = { (column: Int) in zeroPoints.count == 1 ? zeroPoints[0] : zeroPoints[column] }
        let value = { (row: Int, column: Int) in transposed ? b[column * k + row] : b[row * n + column] }
        for column in 0..<n {
            for row in 0..<k {
                let (v, z) = (value(row, column), zero(column))
                precondition(v >= -128 && v <= 255, "QuantizedWeights: value \(v) is neither int8 nor uint8")
                precondition(v - z >= -255 && v - z <= 255,
                             "QuantizedWeights: value \(v) minus zero point \(z) out of range")
            }
        }
        self.k = k
        self.n = n
        self.kernel = kernel
        let layout = Layout(kernel: kernel, k: k, n: n)
        if kernel == .vnni {
            guard let offset = Self.int8Offset(b) else {
                preconditionFailure("QuantizedWeights: values span both -128...-1 and 128...255; no int8 layout holds them")
            }
            panels = WeightBuffer(byteCount: layout.panelBytes) { bytes in
                let out = bytes.bindMemory(to: Int8.self)
                for column in 0..<n {
                    for row in 0..<k { out[layout.index(row: row, column: column)] = Int8(value(row, column) - offset) }
                }
            }
            columnOffsets = WeightArray(zeroedCount: layout.paddedColumns) { out in
                for column in 0..<n { out[column] = zero(column) - offset }
            }
        } else {
            panels = WeightBuffer(byteCount: layout.panelBytes) { bytes in
                let out = bytes.bindMemory(to: Int16.self)
                for column in 0..<n {
                    for row in 0..<k { out[layout.index(row: row, column: column)] = Int16(value(row, column) - zero(column)) }
                }
            }
            columnOffsets = WeightArray([])
        }
        columnCorrections = Self.corrections(kernel: kernel, k: k, n: n, panels: panels, offsets: columnOffsets)
    }

    /// Packs B from an array; see `init(b:k:n:zeroPoints:transposed:)`.
    public init(_ b: [Int32], k: Int, n: Int, zeroPoints: [Int32], transposed: Bool = false) {
        self = b.withUnsafeBufferPointer { QuantizedWeights(b: $0, k: k, n: n, zeroPoints: zeroPoints, transposed: transposed) }
    }

    /// Packs B from an array for `kernel`; see `init(b:k:n:zeroPoints:transposed:kernel:)`.
    public init(_ b: [Int32], k: Int, n: Int, zeroPoints: [Int32], transposed: Bool = false, kernel: Int8Kernel) {
        self = b.withUnsafeBufferPointer {
            QuantizedWeights(b: $0, k: k, n: n, zeroPoints: zeroPoints, transposed: transposed, kernel: kernel)
        }
    }

    /// Row-major k×n copy of B − z (tests, the reference path).
    public func centeredValues() -> [Int32] {
        let layout = Layout(kernel: kernel, k: k, n: n)
        var out = [Int32](repeating: 0, count: k * n)
        for column in 0..<n {
            for row in 0..<k {
                let i = layout.index(row: row, column: column)
                out[row * n + column] = kernel == .vnni
                    ? Int32(panels.base.load(fromByteOffset: i, as: Int8.self)) - columnOffsets[column]
                    : Int32(panels.base.load(fromByteOffset: 2 * i, as: Int16.self))
            }
        }
        return out
    }

    // MARK: - Sharing the packed values (a weight cache)

    /// The memory the packed weights are in, to be written to a file and mapped back with
    /// `init?(k:n:kernel:buffers:)`: `.vnni`: [panels, column offsets]; otherwise [panels].
    public var buffers: [WeightBuffer] {
        kernel == .vnni ? [panels, columnOffsets.buffer] : [panels]
    }

    /// Weights packed before (`buffers` of a value with the same k, n and kernel), e.g. mapped
    /// from a file another process wrote. The column corrections are recomputed from them.
    ///
    /// Returns nil when this CPU cannot run `kernel`, when a buffer has the wrong size or
    /// alignment (64 bytes for the panels), or when a value is outside what the packing makes
    /// (padding not zero, a centered value outside -255...255).
    public init?(k: Int, n: Int, kernel: Int8Kernel, buffers: [WeightBuffer]) {
        guard k >= 0, n >= 0, k <= Self.maxK, kernel.isSupported,
              buffers.count == (kernel == .vnni ? 2 : 1) else { return nil }
        let layout = Layout(kernel: kernel, k: k, n: n)
        let panels = buffers[0]
        guard panels.byteCount == layout.panelBytes, UInt(bitPattern: panels.base) % 64 == 0 else { return nil }
        var offsets = WeightArray<Int32>([])
        if kernel == .vnni {
            guard let o = WeightArray<Int32>(viewing: buffers[1]), o.count == layout.paddedColumns else { return nil }
            offsets = o
        }
        // Real values must center into -255...255; padding (slots and columns) must be zero.
        let load = { (slot: Int) -> Int32 in
            kernel == .vnni ? Int32(panels.base.load(fromByteOffset: slot, as: Int8.self))
                            : Int32(panels.base.load(fromByteOffset: 2 * slot, as: Int16.self))
        }
        var isReal = [Bool](repeating: false, count: layout.slots)
        for column in 0..<n {
            let offset = kernel == .vnni ? offsets[column] : 0
            for row in 0..<k {
                let slot = layout.index(row: row, column: column)
                isReal[slot] = true
                let centered = Int(load(slot)) - Int(offset)
                guard centered >= -255 && centered <= 255 else { return nil }
            }
        }
        for slot in 0..<layout.slots where !isReal[slot] {
            guard load(slot) == 0 else { return nil }
        }
        for column in n..<max(n, offsets.count) {
            guard offsets[column] == 0 else { return nil }
        }
        self.k = k
        self.n = n
        self.kernel = kernel
        self.panels = panels
        columnOffsets = offsets
        columnCorrections = Self.corrections(kernel: kernel, k: k, n: n, panels: panels, offsets: offsets)
    }

    // MARK: - Packing

    /// The offset that makes every value an int8: 0 if all are in -128...127, 128 if all in 0...255.
    private static func int8Offset(_ b: UnsafeBufferPointer<Int32>) -> Int32? {
        if b.allSatisfy({ $0 >= -128 && $0 <= 127 }) { return 0 }
        if b.allSatisfy({ $0 >= 0 && $0 <= 255 }) { return 128 }
        return nil
    }

    /// `.vnni`: per column, Σₖ s − k·(z − o) (wrapping, like every sum here); else empty.
    private static func corrections(kernel: Int8Kernel, k: Int, n: Int, panels: WeightBuffer,
                                    offsets: WeightArray<Int32>) -> WeightArray<Int32> {
        guard kernel == .vnni else { return WeightArray([]) }
        let layout = Layout(kernel: kernel, k: k, n: n)
        return WeightArray(zeroedCount: layout.paddedColumns) { out in
            for column in 0..<n {
                var sum: Int32 = 0
                for row in 0..<k {
                    sum &+= Int32(panels.base.load(fromByteOffset: layout.index(row: row, column: column), as: Int8.self))
                }
                out[column] = sum &- Int32(k) &* offsets[column]
            }
        }
    }
}

/// Where each value of B sits in the panels of one kernel's layout.
struct Layout {
    /// Columns of a full panel, of a narrow last one, and k values per group.
    let panelWidth: Int, narrowWidth: Int, depth: Int
    let k: Int, n: Int
    /// Groups of `depth` k values (the last one zero-padded).
    let groups: Int
    /// Bytes per stored value.
    let valueBytes: Int

    init(kernel: Int8Kernel, k: Int, n: Int) {
        if kernel == .vnni {
            (panelWidth, depth, valueBytes) = (vnniPanelWidth, 4, 1)
        } else {
            (panelWidth, depth, valueBytes) = (avx2PanelWidth, 2, 2)
        }
        narrowWidth = panelWidth / 2
        self.k = k
        self.n = n
        groups = (k + depth - 1) / depth
    }

    /// The width of the panel holding `column`.
    func width(ofPanelAt column: Int) -> Int {
        n - column / panelWidth * panelWidth > narrowWidth ? panelWidth : narrowWidth
    }

    /// The value slot (not byte) of B[row, column].
    func index(row: Int, column: Int) -> Int {
        let start = column / panelWidth * panelWidth
        let width = width(ofPanelAt: column)
        return start * groups * depth + (row / depth) * width * depth + (column - start) * depth + row % depth
    }

    /// Value slots in all panels.
    var slots: Int {
        let full = n / panelWidth * panelWidth
        let rest = n - full
        let tail = rest == 0 ? 0 : (rest > narrowWidth ? panelWidth : narrowWidth)
        return (full + tail) * groups * depth
    }

    var panelBytes: Int { slots * valueBytes }

    /// n rounded up to whole full panels (the per-column arrays the VNNI epilogue loads).
    var paddedColumns: Int { (n + panelWidth - 1) / panelWidth * panelWidth }
}
