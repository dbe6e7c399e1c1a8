import Testing
import Kernels
import TestSupport

@Suite struct ActivationTests {
    private static func worst(_ activation: Activation, _ input: [Float]) -> (ulps: Float, at: Float) {
        var fast = input
        var slow = input
        applyActivation(activation, &fast, count: fast.count)
        applyActivationReference(activation, &slow, count: slow.count)
        var worst: (ulps: Float, at: Float) = (0, 0)
        for i in input.indices {
            let d = ulpDistance(fast[i], slow[i])
            if !(d <= worst.ulps) { worst = (d, input[i]) }
        }
        return worst
    }

    static let cases: [(Activation, Int)] = allActivations.flatMap { a in awkwardSizes.map { (a, $0) } }

    @Test("vector activation vs the libm reference on every length", arguments: cases)
    func lengths(activation: Activation, count: Int) {
        var rng = SplitMix64(seed: UInt64(count) &* 31)
        let input = rng.floats(count, in: -12...12)
        let (ulps, at) = Self.worst(activation, input)
        #expect(ulps <= activationUlps, "\(activation): worst \(ulps) ulp at x = \(at)")
    }

    @Test("dense sweep including extremes and specials", arguments: allActivations)
    func sweep(activation: Activation) {
        var input: [Float] = [-.infinity, .infinity, .nan, 0, -0.0, -104, -89, -88, 88, 89, 104,
                              .leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude]
        var bits: UInt32 = 0
        while bits <= Float(120).bitPattern {
            input.append(Float(bitPattern: bits))
            input.append(-Float(bitPattern: bits))
            bits += 4099
        }
        let (ulps, at) = Self.worst(activation, input)
        #expect(ulps <= activationUlps, "\(activation): worst \(ulps) ulp at x = \(at)")
    }

    @Test("relu keeps NaN and -0.0, zeroes negatives")
    func relu() {
        var x: [Float] = [-1, -0.0, 0, 2, .nan, -.infinity, .infinity]
        applyActivation(.relu, &x, count: x.count)
        #expect(x[0] == 0 && x[1].sign == .minus && x[2] == 0 && x[3] == 2)
        #expect(x[4].isNaN && x[5] == 0 && x[6] == .infinity)
    }
}
