import Glibc

/// Which implementation of the int8 GEMM a `QuantizedWeights` value is packed for.
///
/// Both SIMD paths are separate modules with fixed target features (Int8VNNI: AVX-512 + VNNI;
/// Int8AVX2: AVX2 only, no EVEX instruction), so both are compiled on every x86-64 host and each
/// runs only where the CPU has its features. The tests run every path the testing CPU supports
/// and report the others as skipped; on an AVX2-only host the VNNI path is therefore covered only
/// by running the tests on an AVX-512 VNNI machine (the kind shared/MEASURED.md calls Zen 4),
/// and the AVX2 path is covered on both kinds.
public enum Int8Kernel: String, Sendable, CaseIterable {
    /// `vpdpbusd`: B stored as int8 in 4-deep groups; needs avx512_vnni and avx512bw.
    case vnni
    /// `vpmaddwd` on B − z_B stored as Int16 in 2-deep pairs; needs avx2.
    case avx2
    /// One product at a time (`int8GemmReference`) on the AVX2 layout; runs anywhere.
    case scalar

    /// The fastest path this CPU supports, from /proc/cpuinfo's flags (read once, on first use).
    public static var best: Int8Kernel { cpuKernels.best }

    /// Whether this CPU can run the path.
    public var isSupported: Bool {
        switch self {
        case .vnni: return cpuKernels.vnni
        case .avx2: return cpuKernels.avx2
        case .scalar: return true
        }
    }
}

/// The CPU's relevant features. A global `let` is initialized once, thread-safely, on first use.
private let cpuKernels = CPUKernels(flags: cpuFlags())

private struct CPUKernels {
    let vnni: Bool
    let avx2: Bool

    init(flags: Set<Substring>) {
        avx2 = flags.contains("avx2")
        vnni = avx2 && flags.contains("avx512_vnni") && flags.contains("avx512bw") && flags.contains("avx512f")
    }

    var best: Int8Kernel { vnni ? .vnni : avx2 ? .avx2 : .scalar }
}

/// The words of the first `flags` line of /proc/cpuinfo; empty if it cannot be read (then only
/// the scalar path runs). The kernel lists a feature there only when it also saves the
/// registers the feature needs (zmm state for AVX-512), so a listed flag is usable.
private func cpuFlags() -> Set<Substring> {
    let fd = open("/proc/cpuinfo", O_RDONLY)
    if fd < 0 { return [] }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16_384)
    // The whole file (a few KiB per CPU), up to 4 MiB: the first CPU's flags come early.
    while bytes.count < 4 << 20 {
        let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if got < 0 && errno == EINTR { continue }
        if got <= 0 { break }
        bytes += chunk[0..<got]
    }
    let text = String(decoding: bytes, as: UTF8.self)
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
          let colon = line.firstIndex(of: ":") else { return [] }
    return Set(line[line.index(after: colon)...].split(separator: " "))
}
