// Release-mode micro-benchmark for the Kernels module. Not a test, not part of the package:
// compiled together with the module's sources by ./run.sh (see there). Prints GFLOP/s for the
// GEMM shapes the MLP uses, rows/s for the whole MLP forward pass, and ns/element for the
// element-wise kernels. Best of several timed repetitions of thread CPU time (the host drifts
// 10-20% and is shared).

import Glibc

/// CPU seconds of this thread: the machine is shared, and wall-clock time would count the time
/// other processes hold the core.
func threadSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Seconds taken by `body`, best of `repeats` runs of `iterations` calls, per call.
func timePerCall(iterations: Int, repeats: Int = 9, _ body: () -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = threadSeconds()
        for _ in 0..<iterations { body() }
        best = min(best, (threadSeconds() - start) / Double(iterations))
    }
    return best
}

var state: UInt64 = 12345
func random() -> Float {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) * 1e-6
}
func randomArray(_ count: Int) -> [Float] { (0..<count).map { _ in random() } }

func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
func fmt(_ x: Double, _ decimals: Int = 1) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let v = (x * scale).rounded() / scale
    return "\(v)"
}

let arguments = CommandLine.arguments
let only = arguments.count > 1 ? arguments[1] : "all"

if only == "all" || only == "gemm" {
    print("gemm, relu, bias (single thread):")
    for (m, k, n) in [(256, 64, 256), (256, 256, 256), (256, 256, 10), (1, 256, 256), (16, 256, 256),
                      (1024, 1024, 1024), (255, 255, 255), (256, 255, 17), (256, 32, 1), (256, 4099, 33)] {
        let a = randomArray(m * k)
        let packed = PackedWeights(randomArray(k * n), k: k, n: n)
        let bias = randomArray(n)
        var c = [Float](repeating: 0, count: m * n)
        let flops = 2.0 * Double(m * k * n)
        let iterations = max(1, Int(2e8 / flops))
        let seconds = a.withUnsafeBufferPointer { a in
            bias.withUnsafeBufferPointer { bias in
                c.withUnsafeMutableBufferPointer { c in
                    timePerCall(iterations: iterations) {
                        gemm(m: m, a: a.baseAddress!, lda: k, b: packed, bias: bias.baseAddress!,
                             activation: .relu, c: c.baseAddress!, ldc: n)
                    }
                }
            }
        }
        print("  m=\(pad("\(m)", 4)) k=\(pad("\(k)", 4)) n=\(pad("\(n)", 4)): \(pad(fmt(flops / seconds / 1e9), 6)) GFLOP/s  \(pad(fmt(seconds * 1e6, 2), 8)) us")
    }
}

if only == "all" || only == "mlp" {
    print("MLP 64→256→256→10 + softmax (relu hidden layers):")
    let widths = [64, 256, 256, 10]
    let layers = (0..<3).map { PackedWeights(randomArray(widths[$0] * widths[$0 + 1]), k: widths[$0], n: widths[$0 + 1]) }
    let biases = (0..<3).map { randomArray(widths[$0 + 1]) }
    for batch in [1, 16, 256, 4096] {
        let input = randomArray(batch * 64)
        var h1 = [Float](repeating: 0, count: batch * 256)
        var h2 = h1
        var out = [Float](repeating: 0, count: batch * 10)
        let iterations = max(1, 2_000_000 / (batch * 170))
        let seconds = timePerCall(iterations: iterations) {
            gemm(m: batch, a: input, lda: 64, b: layers[0], bias: biases[0], activation: .relu, c: &h1, ldc: 256)
            gemm(m: batch, a: h1, lda: 256, b: layers[1], bias: biases[1], activation: .relu, c: &h2, ldc: 256)
            gemm(m: batch, a: h2, lda: 256, b: layers[2], bias: biases[2], activation: .identity, c: &out, ldc: 10)
            softmaxRows(&out, rows: batch, cols: 10, ld: 10)
        }
        let flops = 2.0 * Double(batch) * Double(64 * 256 + 256 * 256 + 256 * 10)
        if batch == 256 {
            let t1 = timePerCall(iterations: iterations) {
                gemm(m: batch, a: input, lda: 64, b: layers[0], bias: biases[0], activation: .relu, c: &h1, ldc: 256)
            }
            let t2 = timePerCall(iterations: iterations) {
                gemm(m: batch, a: h1, lda: 256, b: layers[1], bias: biases[1], activation: .relu, c: &h2, ldc: 256)
            }
            let t3 = timePerCall(iterations: iterations) {
                gemm(m: batch, a: h2, lda: 256, b: layers[2], bias: biases[2], activation: .identity, c: &out, ldc: 10)
            }
            let t4 = timePerCall(iterations: iterations) { softmaxRows(&out, rows: batch, cols: 10, ld: 10) }
            print("  batch 256 per step (us): \(fmt(t1 * 1e6)) + \(fmt(t2 * 1e6)) + \(fmt(t3 * 1e6)) + softmax \(fmt(t4 * 1e6))")
        }
        print("  batch \(pad("\(batch)", 4)): \(pad(fmt(Double(batch) / seconds / 1e3, 0), 7))k rows/s  \(pad(fmt(flops / seconds / 1e9), 6)) GFLOP/s")
    }
    // The same MLP with bfloat16 weights (half the bytes; widened to float as the kernel loads them).
    let halves = layers.map { $0.converted(to: .bfloat16) }
    let batch = 256
    let input = randomArray(batch * 64)
    var h1 = [Float](repeating: 0, count: batch * 256)
    var h2 = h1
    var out = [Float](repeating: 0, count: batch * 10)
    let seconds = timePerCall(iterations: 40) {
        gemm(m: batch, a: input, lda: 64, b: halves[0], bias: biases[0], activation: .relu, c: &h1, ldc: 256)
        gemm(m: batch, a: h1, lda: 256, b: halves[1], bias: biases[1], activation: .relu, c: &h2, ldc: 256)
        gemm(m: batch, a: h2, lda: 256, b: halves[2], bias: biases[2], activation: .identity, c: &out, ldc: 10)
        softmaxRows(&out, rows: batch, cols: 10, ld: 10)
    }
    print("  batch  256, bfloat16 weights: \(pad(fmt(Double(batch) / seconds / 1e3, 0), 7))k rows/s")
}

if only == "all" || only == "elementwise" {
    print("element-wise, 4096 floats in L1 (ns per element):")
    let count = 4096
    let source = randomArray(count).map { $0 * 20 }
    var x = source
    func report(_ name: String, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        let seconds = x.withUnsafeMutableBufferPointer { x in
            timePerCall(iterations: 2000) {
                x.baseAddress!.update(from: source, count: count)
                body(x.baseAddress!)
            }
        }
        print("  \(name): \(pad(fmt(seconds / Double(count) * 1e9, 3), 7)) ns")
    }
    report("copy only (baseline)     ") { _ in }
    report("expInPlace               ") { expInPlace($0, count: count) }
    report("expInPlaceReference      ") { expInPlaceReference($0, count: count) }
    report("sigmoid                  ") { applyActivation(.sigmoid, $0, count: count) }
    report("sigmoid reference        ") { applyActivationReference(.sigmoid, $0, count: count) }
    report("tanh                     ") { applyActivation(.tanh, $0, count: count) }
    report("tanh reference           ") { applyActivationReference(.tanh, $0, count: count) }
    report("softmax 409×10           ") { softmaxRows($0, rows: 409, cols: 10, ld: 10) }
    report("softmax ref 409×10       ") { softmaxRowsReference($0, rows: 409, cols: 10, ld: 10) }
    report("softmax 4×1024           ") { softmaxRows($0, rows: 4, cols: 1024, ld: 1024) }
    report("softmax ref 4×1024       ") { softmaxRowsReference($0, rows: 4, cols: 1024, ld: 1024) }
    report("logSoftmax 409×10        ") { logSoftmaxRows($0, rows: 409, cols: 10, ld: 10) }
    var labels = [Int32](repeating: 0, count: 409)
    report("argmax 409×10            ") { argmaxRows($0, rows: 409, cols: 10, ld: 10, into: &labels) }
    report("argmax ref 409×10        ") { argmaxRowsReference($0, rows: 409, cols: 10, ld: 10, into: &labels) }
}

if only == "all" || only == "sparse" {
    print("sparseGemm, 256 rows × 50 random entries (GFLOP/s counts 2·nnz·n):")
    for (k, n) in [(1 << 20, 2), (1 << 16, 16), (1 << 16, 64), (1 << 14, 256)] {
        let m = 256, perRow = 50
        let b = randomArray(k * n)
        var rowStart: [UInt32] = [0]
        var columns: [UInt32] = []
        for _ in 0..<m {
            for _ in 0..<perRow { columns.append(UInt32(Int(random().magnitude * 1e6) % k)) }
            rowStart.append(UInt32(columns.count))
        }
        let values = randomArray(columns.count)
        var c = [Float](repeating: 0, count: m * n)
        let fast = timePerCall(iterations: 50, repeats: 21) {
            sparseGemm(m: m, rowStart: rowStart, columns: columns, values: values, b: b, n: n, bias: nil,
                       activation: .identity, c: &c, ldc: n)
        }
        let slow = timePerCall(iterations: 5, repeats: 21) {
            sparseGemmReference(m: m, rowStart: rowStart, columns: columns, values: values, b: b, n: n,
                                bias: nil, activation: .identity, c: &c, ldc: n)
        }
        let flops = 2.0 * Double(m * perRow * n)
        print("  k=\(pad("\(k)", 8)) n=\(pad("\(n)", 4)): \(pad(fmt(flops / fast / 1e9, 2), 7)) GFLOP/s (\(pad(fmt(fast * 1e6), 7)) us), reference \(pad(fmt(slow * 1e6), 8)) us")
    }
}

if only == "all" || only == "scale" {
    print("scaleShift / scaleAdd, 4096 doubles (ns per element):")
    let x = (0..<4096).map { Double($0) * 0.37 - 500 }
    var out = [Float](repeating: 0, count: 4096 * 8)
    for stride in [1, 8] {
        let a = timePerCall(iterations: 2000) { scaleShift(x, count: 4096, shift: 3.5, divide: 7.25, into: &out, stride: stride) }
        let b = timePerCall(iterations: 2000) { scaleShiftReference(x, count: 4096, shift: 3.5, divide: 7.25, into: &out, stride: stride) }
        let c = timePerCall(iterations: 2000) { scaleAdd(x, count: 4096, scale: 0.1, offset: 2, into: &out, stride: stride) }
        let d = timePerCall(iterations: 2000) { scaleAddReference(x, count: 4096, scale: 0.1, offset: 2, into: &out, stride: stride) }
        print("  stride \(stride): scaleShift \(fmt(a / 4096 * 1e9, 3)) (reference \(fmt(b / 4096 * 1e9, 3))), scaleAdd \(fmt(c / 4096 * 1e9, 3)) (reference \(fmt(d / 4096 * 1e9, 3)))")
    }
}
