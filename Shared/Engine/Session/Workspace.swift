import Kernels

/// The buffers one session computes in: a slot per class of values (see `BufferAssignment`),
/// each sized for `rows` items (one chunk), allocated once and reused by every run.
///
/// `InferenceSession` copies it before writing whenever it is shared (copy-on-write), so the
/// session behaves as a value and copies of it never race on these buffers; that discipline is
/// why the class may be `@unchecked Sendable`.
final class Workspace: @unchecked Sendable {
    let rows: Int
    private let widths: [Int]
    private let buffers: [UnsafeMutablePointer<Float>?]
    /// Stands in for slots 0 and 1 until a run sets them.
    private let placeholder: UnsafeMutablePointer<Float>
    /// Per-slot base pointers for the chunk being computed; slots 0 and 1 are set per chunk.
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    /// `runSparse` only: a dense copy of the input chunk (when the graph cannot start sparse).
    private(set) var dense: UnsafeMutablePointer<Float>?
    private var denseCount = 0
    /// `runSparse` only: the first layer's weights unpacked row-major k×n for `sparseGemm`.
    var sparseWeights: WeightArray<Float>?

    init(slotWidths: [Int], rows: Int) {
        self.rows = rows
        widths = slotWidths
        let slotCount = max(slotWidths.count, 2)
        placeholder = Self.allocate(1)
        buffers = (0..<slotCount).map { slot in
            slot >= 2 && slot < slotWidths.count ? Self.allocate(max(slotWidths[slot], 1) * rows) : nil
        }
        pointers = .allocate(capacity: slotCount)
        for slot in 0..<slotCount { pointers[slot] = buffers[slot] ?? placeholder }
    }

    /// A fresh workspace of the same shape (contents are scratch, so nothing is copied).
    func clone() -> Workspace {
        let copy = Workspace(slotWidths: widths, rows: rows)
        copy.sparseWeights = sparseWeights
        return copy
    }

    /// The densify buffer, allocated on first use.
    func denseBuffer(count: Int) -> UnsafeMutablePointer<Float> {
        if let dense, denseCount >= count { return dense }
        dense?.deallocate()
        let buffer = Self.allocate(count)
        dense = buffer
        denseCount = count
        return buffer
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        // 64-byte alignment: whole cache lines and aligned SIMD16 loads for the kernels.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        return raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
    }

    deinit {
        for buffer in buffers { buffer?.deallocate() }
        dense?.deallocate()
        placeholder.deallocate()
        pointers.deallocate()
    }
}
