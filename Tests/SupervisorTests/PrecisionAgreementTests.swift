import Bench
import Testing

/// The figures `pipeline check --data` prints, from known scores.
@Suite struct PrecisionAgreementTests {
    func agreement(_ reference: [Float], _ candidate: [Float], columns: Int) -> PrecisionAgreement {
        var a = PrecisionAgreement(columns: columns)
        reference.withUnsafeBufferPointer { r in candidate.withUnsafeBufferPointer { c in
            a.add(reference: r, candidate: c, rows: reference.count / columns)
        } }
        return a
    }

    @Test func countsLabelsAndDifferences() {
        // Row 0: same label, differences 0.25 and 0.25; row 1: the label flips (0 → 1); row 2: equal.
        let a = agreement([0.75, 0.25, 0.5, 0.25, 0.1, 0.9],
                          [0.5, 0.5, 0.25, 0.5, 0.1, 0.9], columns: 2)
        // Row 0 ties at 0.5/0.5: the first maximum (column 0) is the label, as the output writes it.
        #expect(a.records == 3 && a.sameLabel == 2)
        #expect(a.largestDifference == 0.25)
        #expect(a.meanDifference == (0.25 + 0.25 + 0.25 + 0.25) / 6)
    }

    @Test func batchesAccumulateAndNaNOnOneSideIsInfinite() {
        var a = PrecisionAgreement(columns: 1)
        let r: [Float] = [1, 2, .nan], c: [Float] = [1, 2.5, .nan]
        r.withUnsafeBufferPointer { r in c.withUnsafeBufferPointer { c in a.add(reference: r, candidate: c, rows: 3) } }
        #expect(a.records == 3 && a.sameLabel == 3 && a.largestDifference == 0.5)
        let n: [Float] = [.nan]
        let one: [Float] = [0]
        n.withUnsafeBufferPointer { r in one.withUnsafeBufferPointer { c in a.add(reference: r, candidate: c, rows: 1) } }
        #expect(a.records == 4 && a.largestDifference == .infinity)
        #expect(PrecisionAgreement(columns: 3).meanDifference == 0)
    }

    @Test func reportSaysWhatCheckPrints() {
        let a = agreement([0.75, 0.25, 0.5, 0.25, 0.1, 0.9], [0.5, 0.5, 0.25, 0.5, 0.1, 0.9], columns: 2)
        #expect(a.report(precision: "int8") == "  int8 vs float32: same label for 2 of 3 records (66.67%)\n"
                + "  score difference: largest 0.250000, mean 0.166667\n")
        let single = agreement([1, 5e20], [1, .infinity], columns: 1)
        #expect(single.report(precision: "bf16") == "  bf16 vs float32: one score per record (no label to compare)\n"
                + "  score difference: largest inf, mean inf\n")
        let same = agreement([1, 2], [1, 2], columns: 2)
        #expect(same.report(precision: "bf16").contains("note: no score changed"))
    }
}
