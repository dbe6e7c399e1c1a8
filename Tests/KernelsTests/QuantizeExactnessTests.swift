import Testing
import Kernels
import TestSupport

// Sweeps that a shortcut in the quantizer would fail: every float within a few ulps of each
// rounding tie (where x · (1/scale) and x / scale round differently), and the row range with its
// extremes (and NaN, +inf, ±0) in every lane position, including the tails.

/// Scales to sweep: random ones of every magnitude the quantizer meets, powers of two (exact
/// reciprocals), the edges of the normal range and beyond, and (max − min) / 255 as rows make them.
private func sweepScales(seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    var scales: [Float] = [1, 0.5, 0x1p-10, 3, 1.0 / 255, 0x1p-126, 0x1p-126 * 1.5, 0x1p126, 0x1p127,
                           Float.leastNormalMagnitude.nextDown, Float.leastNonzeroMagnitude * 7]
    for _ in 0..<24 {
        scales.append(Float.random(in: 1...2, using: &rng) * Float(sign: .plus, exponent: Int.random(in: -40...20, using: &rng),
                                                                       significand: 1))
    }
    for _ in 0..<8 {
        let low = -Float.random(in: 0...8, using: &rng), high = Float.random(in: 0...8, using: &rng)
        scales.append((high - low) / 255)
    }
    return scales
}

/// For each tie t = k + 1/2 of x / scale in and around [-z, 255 - z], the floats x within
/// `ulps` of the float nearest t · scale.
private func floatsAroundTies(scale: Float, zeroPoint: Int32, ulps: Int) -> [Float] {
    var xs: [Float] = []
    for k in Int(-zeroPoint) - 2...Int(255 - zeroPoint) + 1 {
        let center = (Float(k) + 0.5) * scale
        guard center.isFinite else { continue }
        var up = center, down = center
        xs.append(center)
        for _ in 0..<ulps {
            up = up.nextUp
            down = down.nextDown
            xs.append(up)
            xs.append(down)
        }
    }
    return xs
}

@Suite struct QuantizeExactnessTests {
    @Test("quantizeLinear equals its twin on every float within 8 ulps of a rounding tie",
          arguments: [Int32(0), 1, 37, 127, 128, 254, 255])
    func tiesLinear(zeroPoint: Int32) {
        for scale in sweepScales(seed: UInt64(zeroPoint)) {
            let xs = floatsAroundTies(scale: scale, zeroPoint: zeroPoint, ulps: 8)
            var q = [UInt8](repeating: 7, count: xs.count), qRef = q
            quantizeLinear(xs, count: xs.count, scale: scale, zeroPoint: zeroPoint, &q)
            quantizeLinearReference(xs, count: xs.count, scale: scale, zeroPoint: zeroPoint, &qRef)
            let wrong = (0..<xs.count).first { q[$0] != qRef[$0] }
            #expect(wrong == nil, "scale \(scale) zero \(zeroPoint): x = \(wrong.map { xs[$0] } ?? 0)")
        }
    }

    @Test("quantizeRowsDynamic equals its twin on rows of near-ties of their own scale")
    func tiesRows() {
        var rng = SplitMix64(seed: 17)
        for cols in [16, 64, 256, 1000] {
            for _ in 0..<24 {
                // The row's own range sets the scale; the other values sit at its ties.
                let low = -Float.random(in: 0...10, using: &rng) * (Bool.random(using: &rng) ? 1 : 1e-20)
                let high = Float.random(in: 0...10, using: &rng)
                let scale = high == low ? 1 : (high - low) / 255
                let zero = Int32((0 - low / scale).rounded())
                var row = floatsAroundTies(scale: scale, zeroPoint: zero, ulps: 3).filter { $0 >= low && $0 <= high }
                row.shuffle(using: &rng)
                row = Array(row.prefix(cols - 2)) + [low, high]
                row.shuffle(using: &rng)
                expectRowsMatch([row])
            }
        }
    }

    @Test("the row range finds the extremes in every lane position, with NaN, +inf and ±0",
          arguments: [1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 100, 256])
    func extremesEverywhere(cols: Int) {
        var rng = SplitMix64(seed: UInt64(cols))
        var rows: [[Float]] = []
        for p in 0..<cols {
            let base = rng.floats(cols, in: -1...1)
            var high = base, low = base, nan = base, positive = base.map(\.magnitude), negative = base.map { -$0.magnitude }
            high[p] = 3
            low[p] = -3
            nan[p] = .nan
            positive[p] = 5
            negative[p] = -5
            var zeros = [Float](repeating: 0, count: cols)
            zeros[p] = -0.0
            var minusZeros = [Float](repeating: -0.0, count: cols)
            minusZeros[p] = 0
            var infinite = base
            infinite[p] = .infinity
            var minusInfinite = base
            minusInfinite[p] = -.infinity
            var bothInfinite = base
            bothInfinite[p] = -.infinity
            bothInfinite[(p + 1) % cols] = .infinity
            var allNaN = [Float](repeating: .nan, count: cols)
            allNaN[p] = 0.25
            rows += [high, low, nan, positive, negative, zeros, minusZeros, infinite, minusInfinite, bothInfinite, allNaN]
        }
        expectRowsMatch(rows)
    }

    @Test("quantizeRowsDynamic equals its twin on random rows of every magnitude and length")
    func randomRows() {
        var rng = SplitMix64(seed: 2024)
        for _ in 0..<400 {
            let cols = Int.random(in: 0...300, using: &rng)
            let magnitude = Float(sign: .plus, exponent: Int.random(in: -120...120, using: &rng), significand: 1)
            let rows = (0..<3).map { _ in
                rng.floats(cols, in: -1...1).map { $0 * magnitude * (Bool.random(using: &rng) ? 1 : 0.001) }
            }
            expectRowsMatch(rows)
        }
    }
}

/// Quantizes `rows` (equal lengths) with both versions, at strides with padding, and expects
/// the same bytes, scales and zero points, and the padding untouched.
private func expectRowsMatch(_ rows: [[Float]], sourceLocation: SourceLocation = #_sourceLocation) {
    guard let cols = rows.first?.count else { return }
    let ldx = cols + 5, ldq = cols + 3
    var x = [Float](repeating: 42, count: rows.count * ldx)
    for (i, row) in rows.enumerated() { x.replaceSubrange(i * ldx..<i * ldx + cols, with: row) }
    var q = [UInt8](repeating: 99, count: rows.count * ldq), qRef = q
    var scales = [Float](repeating: 0, count: rows.count), scalesRef = scales
    var zeros = [Int32](repeating: -9, count: rows.count), zerosRef = zeros
    quantizeRowsDynamic(x, rows: rows.count, cols: cols, ldx: ldx, &q, ldq: ldq, scales: &scales, zeroPoints: &zeros)
    quantizeRowsDynamicReference(x, rows: rows.count, cols: cols, ldx: ldx, &qRef, ldq: ldq, scales: &scalesRef,
                                 zeroPoints: &zerosRef)
    let wrongRow = (0..<rows.count).first { i in
        q[i * ldq..<(i + 1) * ldq] != qRef[i * ldq..<(i + 1) * ldq] || scales[i].bitPattern != scalesRef[i].bitPattern
            || zeros[i] != zerosRef[i]
    }
    #expect(wrongRow == nil, "\(cols) columns, row \(wrongRow.map { rows[$0] } ?? [])", sourceLocation: sourceLocation)
}

/// Rows with a NaN or an infinity get the scale NaN (their scores come out NaN) and bytes 0,
/// rather than trapping or scoring as if the value were not there; other rows are untouched.
@Test func rowsWithANaNOrAnInfinityGetANaNScale() {
    for row: [Float] in [[1, -.infinity, 2], [.infinity, -3, 0], [-.infinity, .infinity, 0.5], [.nan, -.infinity, 4],
                         [.nan, 1, 2], [.nan, .nan, .nan], [Float](repeating: 1, count: 40) + [.nan]] {
        let cols = row.count
        var q = [UInt8](repeating: 7, count: 2 * cols)
        var scale: [Float] = [0, 0], zero: [Int32] = [-1, -1]
        let x = row + [Float](repeating: 2, count: cols)  // a finite row after it
        quantizeRowsDynamic(x, rows: 2, cols: cols, ldx: cols, &q, ldq: cols, scales: &scale, zeroPoints: &zero)
        #expect(q[0..<cols].allSatisfy { $0 == 0 } && zero[0] == 0 && scale[0].isNaN, "\(row): \(q) \(zero) \(scale)")
        #expect(scale[1] == 2 / 255 && zero[1] == 0 && q[cols..<(2 * cols)].allSatisfy { $0 == 255 }, "\(row): the next row")
    }
}
