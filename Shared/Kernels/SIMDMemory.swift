// Loads and stores of SIMD16<Float> through raw pointers, whole and partial.
//
// Whole loads and stores are unaligned (`loadUnaligned`, and `storeBytes`, which needs no
// alignment since SE-0349): rows of A and C start wherever the caller's strides put them.

/// The vector type every kernel computes in: one AVX-512 register.
typealias Vector = SIMD16<Float>

/// The number of lanes of `Vector`.
let lanes = 16

/// Loads 16 floats from `p` (any alignment).
func loadVector(_ p: UnsafePointer<Float>) -> Vector {
    UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
}

/// Stores 16 floats to `p` (any alignment).
func storeVector(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
}

/// Loads the first `count` (< 16) floats from `p`; the other lanes hold `padding`. Touches no
/// memory past `p + count`.
///
/// Goes through a 64-byte stack copy rather than 16 lane insertions, which LLVM compiles to a
/// store and reload of the whole vector per lane.
func loadPartialVector(_ p: UnsafePointer<Float>, count: Int, padding: Float) -> Vector {
    var v = Vector(repeating: padding)
    withUnsafeMutableBytes(of: &v) { bytes in
        bytes.baseAddress!.copyMemory(from: p, byteCount: count * MemoryLayout<Float>.stride)
    }
    return v
}

/// Stores the first `count` (< 16) lanes of `v` to `p`. Touches no memory past `p + count`.
func storePartialVector(_ v: Vector, _ p: UnsafeMutablePointer<Float>, count: Int) {
    withUnsafeBytes(of: v) { bytes in
        UnsafeMutableRawPointer(p).copyMemory(from: bytes.baseAddress!, byteCount: count * MemoryLayout<Float>.stride)
    }
}
