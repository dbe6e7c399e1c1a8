import Kernels

/// Running one step on a chunk of `rows` batch items. Pointers come from the workspace table;
/// every size used here was fixed by the plan, so nothing is allocated.
extension Step {
    func execute(rows: Int, _ pointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>) throws(ModelError) {
        let out = pointers[output]
        let x = UnsafePointer(pointers[inputs.first ?? output])
        let inCount = rows * inputWidth
        let outCount = rows * outputWidth
        switch kind {
        case .linear(let layer):
            let m = inCount / layer.k
            if let bias = layer.bias {
                bias.withUnsafeBufferPointer { b in
                    gemm(m: m, a: x, lda: layer.k, b: layer.weights, bias: b.baseAddress, activation: layer.activation, c: out, ldc: layer.n)
                }
            } else {
                gemm(m: m, a: x, lda: layer.k, b: layer.weights, bias: nil, activation: layer.activation, c: out, ldc: layer.n)
            }
        case .activation(let activation):
            copyInput(x, out, outCount)
            applyActivation(activation, out, count: outCount)
        case .truncate:
            for i in 0..<outCount { out[i] = x[i].rounded(.towardZero) }
        case .binaryConstant(let op, let row, let constantFirst):
            row.withUnsafeBufferPointer { r in
                Self.applyRow(op, constantFirst: constantFirst, x, r.baseAddress!, out, rows: rows, width: outputWidth)
            }
        case .binary(let op):
            let y = UnsafePointer(pointers[inputs[1]])
            Self.applyPairs(op, x, y, out, outCount)
        case .softmax(let cols, let log):
            copyInput(x, out, outCount)
            if log {
                logSoftmaxRows(out, rows: outCount / cols, cols: cols, ld: cols)
            } else {
                softmaxRows(out, rows: outCount / cols, cols: cols, ld: cols)
            }
        case .softmaxZero(let cols):
            copyInput(x, out, outCount)
            MLKernels.softmaxZero(out, rows: outCount / cols, cols: cols)
        case .argMax(let axis, let inner, let selectLast):
            MLKernels.argMax(x, out, outer: inCount / (axis * inner), axis: axis, inner: inner, selectLast: selectLast)
        case .concat(let outer, let pieces):
            concat(pointers, out, groups: rows * outer, pieces: pieces)
        case .binaryScores(let logistic):
            MLKernels.binaryScores(x, out, rows: rows, logistic: logistic)
        case .classLabel(let labels):
            labels.withUnsafeBufferPointer { MLKernels.classLabels(x, out, rows: rows, cols: inputWidth, labels: $0) }
        case .normalize(let norm):
            MLKernels.normalize(norm, x, out, rows: rows, cols: inputWidth)
        case .gather(let table):
            try table.withUnsafeBufferPointer { t in Result { () throws(ModelError) in try gather(x, out, outCount, t) } }.get()
        case .unary(let kind):
            UnaryKernels.apply(kind, x, out, count: outCount)
        case .selectColumns(let indices):
            indices.withUnsafeBufferPointer { MLKernels.selectColumns(x, out, rows: rows, inputWidth: inputWidth, indices: $0) }
        case .impute(let row, let replaced):
            row.withUnsafeBufferPointer { MLKernels.impute(x, out, rows: rows, row: $0, replaced: replaced) }
        case .oneHot(let categories, let zeros):
            try categories.withUnsafeBufferPointer { c in Result { () throws(ModelError) in
                if let bad = MLKernels.oneHot(x, out, count: inCount, categories: c), !zeros {
                    throw ModelError(.invalidArgument, "value \(bad) is not one of the \(c.count) categories (zeros=0)",
                                     node: nodeName, opType: opType)
                }
            } }.get()
        case .treeScores(let scores):
            scores.execute(rows: rows, x, inputWidth: inputWidth, out)
        case .treeFinalize(let finalize):
            finalize.execute(rows: rows, x, scores: out, labels: nil)
        case .treeLabel(let finalize):
            finalize.execute(rows: rows, x, scores: nil, labels: out)
        case .quantizedLinear(let layer):
            // The planner gives every quantizedLinear step a scratch slot.
            guard let scratch else { preconditionFailure("quantizedLinear step '\(nodeName)' has no scratch slot") }
            layer.execute(m: inCount / layer.k, x, out, scratch: UnsafeMutableRawPointer(pointers[scratch]))
        case .quantize(let p):
            p.withRows { s, z in quantizeLinearValues(x, rows: rows, width: outputWidth, scales: s, zeroPoints: z, low: p.low, high: p.high, out) }
        case .dequantize(let p):
            p.withRows { s, z in dequantizeLinearValues(x, rows: rows, width: outputWidth, scales: s, zeroPoints: z, out) }
        case .fakeQuantize(let p):
            p.withRows { s, z in fakeQuantizeValues(x, rows: rows, width: outputWidth, scales: s, zeroPoints: z, low: p.low, high: p.high, out) }
        case .quantizedSoftmax(let softmax):
            softmax.apply(x, rows: outCount / softmax.cols, out)
        case .alias:
            copyInput(x, out, outCount)
        }
    }

    private func copyInput(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        if x != UnsafePointer(out) { out.update(from: x, count: count) }
    }

    /// `x[i] op row[i % width]` (or `row op x`), row by row so the inner loop vectorises.
    @inline(__always)
    private static func applyRow(_ op: BinaryKind, constantFirst: Bool, _ x: UnsafePointer<Float>, _ r: UnsafePointer<Float>,
                                 _ out: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        func loop(_ f: (Float, Float) -> Float) {
            for row in 0..<rows {
                let base = row * width
                for j in 0..<width { out[base + j] = f(x[base + j], r[j]) }
            }
        }
        switch (op, constantFirst) {
        case (.add, _): loop { $0 + $1 }
        case (.mul, _): loop { $0 * $1 }
        case (.sub, false): loop { $0 - $1 }
        case (.sub, true): loop { $1 - $0 }
        case (.div, false): loop { $0 / $1 }
        case (.div, true): loop { $1 / $0 }
        }
    }

    private static func applyPairs(_ op: BinaryKind, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                                   _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        switch op {
        case .add: for i in 0..<count { out[i] = x[i] + y[i] }
        case .sub: for i in 0..<count { out[i] = x[i] - y[i] }
        case .mul: for i in 0..<count { out[i] = x[i] * y[i] }
        case .div: for i in 0..<count { out[i] = x[i] / y[i] }
        }
    }

    private func concat(_ pointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>, _ out: UnsafeMutablePointer<Float>,
                        groups: Int, pieces: [Int]) {
        let total = pieces.reduce(0, +)
        var offset = 0
        for (slot, piece) in zip(inputs, pieces) {
            let source = pointers[slot]
            for g in 0..<groups { (out + g * total + offset).update(from: source + g * piece, count: piece) }
            offset += piece
        }
    }

    private func gather(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int,
                        _ table: UnsafeBufferPointer<Float>) throws(ModelError) {
        for i in 0..<count {
            let v = x[i]
            guard v >= 0, v < Float(table.count) else {
                throw ModelError(.invalidArgument, "index \(v) is outside the table of \(table.count) entries", node: nodeName, opType: opType)
            }
            out[i] = table[Int(v)]
        }
    }
}
