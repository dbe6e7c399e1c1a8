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

if only == "int8" {
    int8Benchmark()
}

/// The MLP 64→256→256→10 + softmax in int8 (per layer: per-row dynamic quantization, the int8
/// GEMM with dequantization, bias and relu fused, as onnxruntime's `quantize_dynamic` model
/// computes it) against our float32 `gemm` and onnxruntime's int8 and float32 models, one
/// thread, three interleaved rounds.
func int8Benchmark() {
    print("CPU: \(cpuModel()); int8 path: \(Int8Kernel.best) (VNNI \(Int8Kernel.vnni.isSupported ? "used" : "not available"))")
    let widths = [64, 256, 256, 10]
    let floats = (0..<3).map { randomArray(widths[$0] * widths[$0 + 1]) }
    let biases = (0..<3).map { randomArray(widths[$0 + 1]) }
    let packed = (0..<3).map { PackedWeights(floats[$0], k: widths[$0], n: widths[$0 + 1]) }
    // Symmetric per-tensor int8 weights, as quantize_dynamic(weight_type=QInt8) makes them.
    let weightScales = floats.map { w in [w.map(\.magnitude).max()! / 127] }
    func quantized(_ kernel: Int8Kernel) -> [QuantizedWeights] {
        (0..<3).map { l in
            let q = floats[l].map { Int32(($0 / weightScales[l][0]).rounded(.toNearestOrEven)) }
            return QuantizedWeights(q, k: widths[l], n: widths[l + 1], zeroPoints: [0], kernel: kernel)
        }
    }
    let kernels = Int8Kernel.allCases.filter { $0.isSupported && $0 != .scalar }
    let layersByKernel = kernels.map(quantized)

    let batch = 256
    let input = randomArray(batch * 64)
    var h1 = [Float](repeating: 0, count: batch * 256), h2 = h1
    var out = [Float](repeating: 0, count: batch * 10)
    var q = [UInt8](repeating: 0, count: batch * 256)
    var sums = [Int32](repeating: 0, count: batch * 256)
    var scales = [Float](repeating: 0, count: batch)
    var zeros = [Int32](repeating: 0, count: batch)
    let iterations = max(1, 2_000_000 / (batch * 170))

    func floatForward() {
        gemm(m: batch, a: input, lda: 64, b: packed[0], bias: biases[0], activation: .relu, c: &h1, ldc: 256)
        gemm(m: batch, a: h1, lda: 256, b: packed[1], bias: biases[1], activation: .relu, c: &h2, ldc: 256)
        gemm(m: batch, a: h2, lda: 256, b: packed[2], bias: biases[2], activation: .identity, c: &out, ldc: 10)
        softmaxRows(&out, rows: batch, cols: 10, ld: 10)
    }
    /// One layer: quantize x's rows, then the fused int8 GEMM (or int8Gemm + dequantizeRows).
    func layer(_ x: UnsafePointer<Float>, _ l: Int, _ w: QuantizedWeights, _ activation: Activation,
               _ y: UnsafeMutablePointer<Float>, fused: Bool) {
        let (k, n) = (widths[l], widths[l + 1])
        quantizeRowsDynamic(x, rows: batch, cols: k, ldx: k, &q, ldq: k, scales: &scales, zeroPoints: &zeros)
        if fused {
            int8GemmDequantized(m: batch, a: q, lda: k, rowZeroPoints: zeros, rowScales: scales, b: w,
                                columnScales: weightScales[l], columnScaleCount: 1, bias: biases[l],
                                activation: activation, y, ldo: n)
        } else {
            int8Gemm(m: batch, a: q, lda: k, rowZeroPoints: zeros, b: w, c: &sums, ldc: n)
            dequantizeRows(sums, rows: batch, cols: n, ldc: n, rowScales: scales, columnScales: weightScales[l],
                           columnScaleCount: 1, bias: biases[l], activation: activation, y, ldo: n)
        }
    }
    func int8Forward(_ layers: [QuantizedWeights], fused: Bool = true) {
        layer(input, 0, layers[0], .relu, &h1, fused: fused)
        layer(h1, 1, layers[1], .relu, &h2, fused: fused)
        layer(h2, 2, layers[2], .identity, &out, fused: fused)
        softmaxRows(&out, rows: batch, cols: 10, ld: 10)
    }
    func rowsPerSecond(_ body: () -> Void) -> Double {
        Double(batch) / timePerCall(iterations: iterations, body)
    }

    // Per step, once (µs), on the best path: where the time goes. One forward pass first, so that
    // "quantize 256×256" quantizes real activations (h1 was all zeros, a single scale of 1).
    let best = layersByKernel[0]
    int8Forward(best)
    let steps: [(String, () -> Void)] = [
        ("quantize 256×64", { quantizeRowsDynamic(input, rows: batch, cols: 64, ldx: 64, &q, ldq: 64, scales: &scales, zeroPoints: &zeros) }),
        ("int8Gemm 256×64×256", { int8Gemm(m: batch, a: q, lda: 64, rowZeroPoints: zeros, b: best[0], c: &sums, ldc: 256) }),
        ("quantize 256×256", { quantizeRowsDynamic(h1, rows: batch, cols: 256, ldx: 256, &q, ldq: 256, scales: &scales, zeroPoints: &zeros) }),
        ("int8Gemm 256×256×256", { int8Gemm(m: batch, a: q, lda: 256, rowZeroPoints: zeros, b: best[1], c: &sums, ldc: 256) }),
        ("int8GemmDequantized 256×256×256", {
            int8GemmDequantized(m: batch, a: q, lda: 256, rowZeroPoints: zeros, rowScales: scales, b: best[1],
                                columnScales: weightScales[1], columnScaleCount: 1, bias: biases[1], activation: .relu, &h2, ldo: 256) }),
        ("dequantizeRows 256×256 + relu", {
            dequantizeRows(sums, rows: batch, cols: 256, ldc: 256, rowScales: scales, columnScales: weightScales[1],
                           columnScaleCount: 1, bias: biases[1], activation: .relu, &h2, ldo: 256) }),
        ("int8Gemm 256×256×10", { int8Gemm(m: batch, a: q, lda: 256, rowZeroPoints: zeros, b: best[2], c: &sums, ldc: 10) }),
        ("float gemm 256×256×256", { gemm(m: batch, a: h1, lda: 256, b: packed[1], bias: biases[1], activation: .relu, c: &h2, ldc: 256) }),
    ]
    print("batch 256, per step on the \(kernels[0]) path (us):")
    for (name, body) in steps {
        let seconds = timePerCall(iterations: iterations, body)
        let macs = name.hasPrefix("int8Gemm") || name.hasPrefix("float") ? name.split(separator: " ").last!.split(separator: "×").reduce(1.0) { $0 * Double($1)! } : 0
        print("  \(name): \(pad(fmt(seconds * 1e6), 7))" + (macs > 0 ? "  (\(fmt(macs / seconds / 1e9)) GMAC/s)" : ""))
    }

    let script = (getenv("KERNELS_BENCH_DIR").map { String(cString: $0) } ?? "Benchmarks/kernels") + "/ort_int8.py"
    var results: [String: [Double]] = [:]
    for round in 1...3 {
        var line = "round \(round):"
        func record(_ name: String, _ value: Double) {
            results[name, default: []].append(value)
            line += "  \(name) \(fmt(value / 1e3, 0))k"
        }
        record("float32", rowsPerSecond(floatForward))
        for (kernel, layers) in zip(kernels, layersByKernel) {
            record("int8-\(kernel)", rowsPerSecond { int8Forward(layers) })
            record("int8-\(kernel)-unfused", rowsPerSecond { int8Forward(layers, fused: false) })
        }
        for (name, value) in runOnnxruntime(script: script, batch: batch) { record("ort-\(name)", value) }
        print(line)
    }
    print("MLP 64→256→256→10 + softmax, batch 256, one thread: best of 3 rounds (range), rows/s")
    for name in results.keys.sorted() {
        let values = results[name]!
        print("  \(name): \(pad(fmt(values.max()! / 1e3, 0), 6))k  (\(fmt(values.min()! / 1e3, 0))k–\(fmt(values.max()! / 1e3, 0))k)")
    }
    let ours = results["int8-\(kernels[0])"]?.max() ?? .nan
    let float = results["float32"]!.max()!
    let ortInt8 = results["ort-int8"]?.max() ?? .nan
    let ortFloat = results["ort-float32"]?.max() ?? .nan
    print("ratios (best/best): our int8 / our float32 = \(fmt(ours / float, 2)) (goal ≥ 1.8); " +
          "our int8 / onnxruntime int8 = \(fmt(ours / ortInt8, 2)) (goal ≥ 1.0); our float32 / onnxruntime float32 = \(fmt(float / ortFloat, 2))")
}

/// onnxruntime's float32 and int8 rows/s from ort_int8.py, or nothing if it cannot run.
func runOnnxruntime(script: String, batch: Int) -> [(String, Double)] {
    guard let pipe = popen("python3 '\(script)' \(batch) 2", "r") else { return [] }
    var results: [(String, Double)] = []
    var line: UnsafeMutablePointer<CChar>? = nil
    var capacity = 0
    while getline(&line, &capacity, pipe) > 0 {
        let words = String(cString: line!).split(separator: " ")
        if words.count == 2, let value = Double(words[1].trimmingCharacters(in: "\n")) {
            results.append((String(words[0]), value))
        }
    }
    free(line)
    if pclose(pipe) != 0 { print("  (onnxruntime did not run: \(script))") }
    return results
}

/// /proc/cpuinfo's first "model name".
func cpuModel() -> String {
    guard let file = fopen("/proc/cpuinfo", "r") else { return "unknown" }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>? = nil
    var capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0 {
        let text = String(cString: line!)
        if text.hasPrefix("model name"), let colon = text.firstIndex(of: ":") {
            return text[text.index(after: colon)...].trimmingCharacters(in: " \n\t")
        }
    }
    return "unknown"
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
