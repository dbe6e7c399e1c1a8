import Testing
@testable import Engine
import EngineTestSupport

/// Every model gives each row the same bits whatever batch it is in: the pipeline cuts batches
/// by timing, and its output must not depend on the cut.
@Suite struct BatchInvarianceTests {
    static let models = Fixture.files.modelNames

    @Test(arguments: models)
    func rowsGiveTheSameBitsInAnyBatch(name: String) throws {
        let input = try Fixture.tensors(name)[0]
        guard input.dims.count == 2 else { return }  // rank-3 inputs are batched differently
        var session = try InferenceSession(model: try Fixture.model(name), maxBatch: 64)
        let rows = input.rows
        let whole = try Fixture.run(&session, input, rows: rows)
        let width = session.outputWidth
        for size in [1, 7, 50] {
            var pieces: [Float] = []
            var start = 0
            while start < rows {
                let end = min(rows, start + size)
                var part = Fixture.Tensor(name: input.name, dims: [end - start, input.width],
                                          values: Array(input.values[(start * input.width)..<(end * input.width)]))
                part.name = input.name
                pieces += try Fixture.run(&session, part, rows: end - start)
                start = end
            }
            #expect(pieces.count == rows * width)
            let same = zip(pieces, whole).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
            #expect(same, "\(name): batches of \(size) rows differ from one batch of \(rows)")
        }
    }
}
