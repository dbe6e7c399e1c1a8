import Testing
import Kernels
import TestSupport

/// Rows that stress the quantizer: random, halves of the scale (ties), signed zeros, NaN, ±inf,
/// all-zero and one-signed rows.
private func awkwardRows(cols: Int, seed: UInt64) -> [[Float]] {
    var rng = SplitMix64(seed: seed)
    var rows: [[Float]] = []
    rows.append(rng.floats(cols, in: -4...4))
    rows.append(rng.floats(cols, in: 0...1))
    rows.append(rng.floats(cols, in: -1...0))
    rows.append([Float](repeating: 0, count: cols))
    rows.append((0..<cols).map { $0 % 2 == 0 ? -0.0 : 0.0 })
    // 255 steps of 1 from -127.5: ties at every step once scaled.
    rows.append((0..<cols).map { Float($0 % 256) - 127.5 })
    rows.append((0..<cols).map { Float($0 % 7) * 0.5 - 1 })
    var special = rng.floats(cols, in: -2...2)
    if cols > 0 { special[cols / 2] = .nan }
    rows.append(special)
    var infinite = rng.floats(cols, in: -2...2)
    if cols > 1 { infinite[1] = .infinity }
    rows.append(infinite)
    rows.append(rng.floats(cols, in: -1e-30...1e-30))
    return rows
}

@Suite struct QuantizeTests {
    @Test("quantizeRowsDynamic equals its scalar twin bit for bit", arguments: awkwardSizes + [64, 256])
    func dynamicRows(cols: Int) {
        let rows = awkwardRows(cols: cols, seed: UInt64(cols))
        let ldx = cols + 3
        var x = [Float](repeating: 99, count: rows.count * ldx)
        for (i, row) in rows.enumerated() { x.replaceSubrange(i * ldx..<i * ldx + cols, with: row) }
        let ldq = cols + 1
        var q = [UInt8](repeating: 77, count: rows.count * ldq)
        var qRef = q
        var scales = [Float](repeating: 0, count: rows.count), scalesRef = scales
        var zeros = [Int32](repeating: 0, count: rows.count), zerosRef = zeros
        quantizeRowsDynamic(x, rows: rows.count, cols: cols, ldx: ldx, &q, ldq: ldq, scales: &scales, zeroPoints: &zeros)
        quantizeRowsDynamicReference(x, rows: rows.count, cols: cols, ldx: ldx, &qRef, ldq: ldq, scales: &scalesRef,
                                     zeroPoints: &zerosRef)
        #expect(q == qRef)
        #expect(scales.map(\.bitPattern) == scalesRef.map(\.bitPattern))
        #expect(zeros == zerosRef)
    }

    @Test("quantizeLinear equals its scalar twin bit for bit, for many scales and zero points",
          arguments: awkwardSizes)
    func linear(count: Int) {
        var rng = SplitMix64(seed: 99 &+ UInt64(count))
        for row in awkwardRows(cols: count, seed: UInt64(count)) {
            for _ in 0..<8 {
                let scale = Float.random(in: 1e-3...0.1, using: &rng)
                let zero = Int32.random(in: 0...255, using: &rng)
                var q = [UInt8](repeating: 1, count: count + 1)
                var qRef = q
                quantizeLinear(row, count: count, scale: scale, zeroPoint: zero, &q)
                quantizeLinearReference(row, count: count, scale: scale, zeroPoint: zero, &qRef)
                #expect(q == qRef, "scale \(scale) zero \(zero)")
            }
        }
    }

    @Test("dequantizeRows equals its scalar twin bit for bit", arguments: awkwardSizes)
    func dequantize(cols: Int) {
        var rng = SplitMix64(seed: 5 &+ UInt64(cols))
        let rows = 5
        let ldc = cols + 2
        let c: [Int32] = (0..<(rows * ldc)).map { i in
            switch i % 5 {
            case 0: return Int32.max
            case 1: return Int32.min
            default: return Int32.random(in: -20_000_000...20_000_000, using: &rng)
            }
        }
        let rowScales = rng.floats(rows, in: 1e-4...1e-2)
        let bias = rng.floats(cols, in: -2...2)
        for columnScales in [rng.floats(1, in: 1e-4...1e-2), rng.floats(cols, in: 1e-4...1e-2)] where !columnScales.isEmpty {
            for activation in allActivations {
                for withBias in [false, true] {
                    var out = [Float](repeating: 3, count: rows * (cols + 1))
                    var outRef = out
                    bias.withUnsafeBufferPointer { b in
                        let biasPointer = withBias ? b.baseAddress : nil
                        dequantizeRows(c, rows: rows, cols: cols, ldc: ldc, rowScales: rowScales, columnScales: columnScales,
                                       columnScaleCount: columnScales.count, bias: biasPointer, activation: activation,
                                       &out, ldo: cols + 1)
                        dequantizeRowsReference(c, rows: rows, cols: cols, ldc: ldc, rowScales: rowScales,
                                                columnScales: columnScales, columnScaleCount: columnScales.count,
                                                bias: biasPointer, activation: activation, &outRef, ldo: cols + 1)
                    }
                    #expect(out.map(\.bitPattern) == outRef.map(\.bitPattern), "\(activation) bias=\(withBias)")
                }
            }
        }
    }
}
