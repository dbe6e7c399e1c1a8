import Testing
@testable import Engine

@Suite struct SessionTests {
    /// Batch sizes around the chunk size (maxBatch 256): one row, a few, exactly one chunk, more.
    @Test(arguments: [1, 7, 256, 300])
    func batchSizes(rows: Int) throws {
        for fixture in ["mlp_gemm", "mlp_sklearn", "lr_multi"] {
            let tensors = try Fixture.tensors(fixture)
            var session = try InferenceSession(model: try Fixture.model(fixture), maxBatch: 256)
            let expected = tensors.first { $0.name == session.outputName }!
            let got = try Fixture.run(&session, tensors[0], rows: rows)
            let diff = Fixture.maxAbsDiff(got[...], expected.values[0..<(rows * session.outputWidth)])
            #expect(diff <= OperatorTests.tolerance, "\(fixture) rows \(rows): \(diff)")
        }
    }

    @Test func zeroRowsIsANoOp() throws {
        var session = try InferenceSession(model: try Fixture.model("mlp_gemm"))
        let got = try Fixture.run(&session, try Fixture.tensors("mlp_gemm")[0], rows: 0)
        #expect(got.isEmpty)
    }

    @Test func repeatedRunsReuseBuffersAndAgree() throws {
        let tensors = try Fixture.tensors("mlp_act")
        var session = try InferenceSession(model: try Fixture.model("mlp_act"), maxBatch: 64)
        let first = try Fixture.run(&session, tensors[0], rows: 300)
        let workspace = ObjectIdentifier(session.workspace)
        let second = try Fixture.run(&session, tensors[0], rows: 300)
        #expect(first == second)
        #expect(ObjectIdentifier(session.workspace) == workspace)
    }

    @Test func copiesGetTheirOwnBuffers() throws {
        let tensors = try Fixture.tensors("mlp_gemm")
        var a = try InferenceSession(model: try Fixture.model("mlp_gemm"))
        var b = a
        let ra = try Fixture.run(&a, tensors[0], rows: 50)
        let rb = try Fixture.run(&b, tensors[0], rows: 50)
        #expect(ra == rb)
        #expect(ObjectIdentifier(a.workspace) != ObjectIdentifier(b.workspace))
    }

    /// CSR from the dense input with about half the entries zeroed.
    private func sparse(_ dense: [Float], rows: Int, width: Int) -> (dense: [Float], rowStart: [UInt32], columns: [UInt32], values: [Float]) {
        var kept = dense
        var rowStart: [UInt32] = [0]
        var columns: [UInt32] = []
        var values: [Float] = []
        for r in 0..<rows {
            for c in 0..<width {
                let i = r * width + c
                if (r + 3 * c) % 2 == 0 || r % 17 == 0 {
                    kept[i] = 0
                } else {
                    columns.append(UInt32(c))
                    values.append(dense[i])
                }
            }
            rowStart.append(UInt32(columns.count))
        }
        return (kept, rowStart, columns, values)
    }

    /// Sparse runs equal dense runs: through the sparse GEMM (first op linear) and densified.
    @Test(arguments: ["mlp_gemm", "mlp_matmul", "lr_multi", "linreg", "mlp_sklearn", "shape_ops", "ml_ops"])
    func sparseRunEqualsDenseRun(fixture: String) throws {
        let input = try Fixture.tensors(fixture)[0]
        var session = try InferenceSession(model: try Fixture.model(fixture), maxBatch: 128)
        let rows = input.rows
        let csr = sparse(input.values, rows: rows, width: input.width)
        var denseInput = input
        denseInput.values = csr.dense
        let dense = try Fixture.run(&session, denseInput, rows: rows)
        var got = [Float](repeating: .nan, count: rows * session.outputWidth)
        try got.withUnsafeMutableBufferPointer { out in
            try session.runSparse(rows: rows, rowStart: csr.rowStart, columns: csr.columns, values: csr.values, output: out.baseAddress!)
        }
        let diff = Fixture.maxAbsDiff(got[...], dense[...])
        #expect(diff <= 1e-5, "\(fixture): \(diff)")
        // shape_ops starts with Flatten/Sub: densified. ml_ops' default output needs one LinearClassifier.
        let expectSparseGemm = fixture != "shape_ops"
        #expect((session.plan.sparseStep != nil) == expectSparseGemm, "\(fixture)")
    }

    @Test func sparseInputIsValidated() throws {
        var session = try InferenceSession(model: try Fixture.model("mlp_gemm"))
        var out = [Float](repeating: 0, count: 2 * session.outputWidth)
        let badColumn = #expect(throws: ModelError.self) {
            try session.runSparse(rows: 1, rowStart: [0, 1], columns: [10], values: [1], output: &out)
        }
        #expect(badColumn?.kind == .invalidArgument)
        #expect(badColumn?.description.contains("column 10") == true)
        #expect(throws: ModelError.self) {
            try session.runSparse(rows: 2, rowStart: [0, 2, 1], columns: [0, 1], values: [1, 1], output: &out)
        }
    }

    @Test func modelInfo() throws {
        let model = try Fixture.model("mlp_gemm")
        #expect(model.inputs == [TensorInfo(name: "input", elementType: .float, shape: [nil, 10], typeName: "tensor(float)")])
        #expect(model.outputs.map(\.name) == ["output"])
        #expect(model.outputs[0].shape == [nil, 4])
        #expect(model.opCounts.map(\.op) == ["Gemm", "Relu", "Softmax"])
        #expect(model.opCounts.map(\.count) == [2, 1, 1])
        #expect(model.producerName == "pytorch")

        let zipmap = try Fixture.model("lr_multi_zipmap")
        #expect(zipmap.outputs.map(\.typeName) == ["tensor(int64)", "seq(map(int64,tensor(float)))"])
        #expect(zipmap.outputs[1].isTensor == false)
        #expect(zipmap.opCounts.contains { $0.op == "ZipMap" && $0.count == 1 })
    }

    @Test func integerOutputsComeOutAsWholeFloats() throws {
        let tensors = try Fixture.tensors("mlp_sklearn")
        var session = try InferenceSession(model: try Fixture.model("mlp_sklearn"), output: "label")
        #expect(session.outputWidth == 1)
        let got = try Fixture.run(&session, tensors[0], rows: 300)
        #expect(got == tensors.first { $0.name == "label" }!.values)
    }
}
