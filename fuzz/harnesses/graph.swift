// libFuzzer target `graph`: ONNX models written from the fuzz input's choices, then loaded and run
// as in the `onnx` target (OnnxRun.swift).
//
// Mutating a model file's bytes mostly breaks its protobuf framing; here every input is a
// well-formed model, so mutations explore what comes after the reader: opsets, initializers of
// every element type with small, zero, negative and absurd dims (and data that does or does not
// match them), graph inputs with odd shapes, and chains of nodes of every supported operator (and
// an unsupported one) wired to any value defined before, with plausible, odd and wrongly typed
// attributes. That is shape inference, constant folding, lowering, planning and the kernels.

import Glibc

func littleEndian<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
    (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
}

/// With FUZZ_GRAPH_MODEL=path (e.g. `fuzz/run.sh --repro graph crash-…`), the model written for
/// the input is saved there: the .onnx file a regression test can load.
let graphModelPath: String? = getenv("FUZZ_GRAPH_MODEL").map { String(cString: $0) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var generator = GraphGenerator(input: FuzzInput(data, size))
    let model = generator.model()
    if let path = graphModelPath, let f = fopen(path, "wb") {
        _ = model.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }
    model.withUnsafeBytes { _ = loadAndRun($0) }
    return 0
}

struct GraphGenerator {
    var input: FuzzInput
    /// Values defined so far (graph inputs, initializers, node outputs), for node inputs to use.
    var defined: [String] = []
    var initializers: [ProtoWriter] = []

    init(input: FuzzInput) { self.input = input }

    mutating func byte() -> UInt8 { input.byte() }
    mutating func pick<T>(_ options: [T]) -> T { options[Int(byte()) % options.count] }
    mutating func chance(_ n: UInt8) -> Bool { byte() % n == 0 }

    static let oddDims: [Int64] = [0, 1, 2, 3, 16, 1 << 20, 1 << 24, 1 << 31, 1 << 40, 1 << 62, -1, -7]
    static let oddInts: [Int64] = [0, 1, -1, 2, -2, 3, -3, 4, 7, 1 << 31, -(1 << 31), 1 << 62, .min, .max]
    static let oddFloats: [Float] = [0, 1, -1, 0.5, 2, -3.25, 1e-8, 1e30, -1e30, .nan, .infinity, -.infinity]

    /// A dimension: mostly small, sometimes zero, negative or huge.
    mutating func dim() -> Int64 { chance(5) ? pick(Self.oddDims) : Int64(1 + byte() % 8) }

    mutating func intValue() -> Int64 { chance(4) ? pick(Self.oddInts) : Int64(Int8(bitPattern: byte())) % 8 }

    mutating func floatValue() -> Float {
        chance(4) ? pick(Self.oddFloats) : Float(Int8(bitPattern: byte())) / 16
    }

    mutating func model() -> [UInt8] {
        var w = ProtoWriter()
        w.int(1, pick([8, 7, 3, 9, 0]))
        if chance(2) { w.string(2, pick(["skl2onnx", "pytorch", ""])) }
        let graph = self.graph()
        w.data(7, graph)
        let opset = pick([Int64(13), 11, 17, 9, 7, 12, 1, 0, -1])
        if opset != 0 { w.message(8) { o in o.string(1, ""); o.int(2, opset) } }
        if !chance(4) { w.message(8) { o in o.string(1, "ai.onnx.ml"); o.int(2, pick([Int64(1), 2, 3, 5])) } }
        if chance(16) { w.message(25) { f in f.string(1, "Foo") } }
        return w.bytes
    }

    mutating func graph() -> [UInt8] {
        var g = ProtoWriter()
        var inputs = ProtoWriter()
        for i in 0..<(1 + Int(byte() % 2)) {
            let name = "x\(i)"
            valueInfo(&inputs, field: 11, name: name, input: true)
            defined.append(name)
        }
        for i in 0..<Int(byte() % 4) {
            let name = "c\(i)"
            var t = ProtoWriter()
            tensor(&t, name: name)
            initializers.append(t)
            defined.append(name)
            if chance(8) { valueInfo(&inputs, field: 11, name: name, input: true) }  // an initializer also listed as input
        }
        var nodes: [ProtoWriter] = []
        var last = defined.last ?? "x0"
        for i in 0..<(1 + Int(byte() % 6)) {
            var n = ProtoWriter()
            last = node(&n, index: i)
            nodes.append(n)
        }
        for n in nodes { g.data(1, n.bytes) }
        g.string(2, "fuzz")
        for t in initializers { g.data(5, t.bytes) }
        g.bytes += inputs.bytes
        valueInfo(&g, field: 12, name: last, input: false)
        if chance(3) { valueInfo(&g, field: 12, name: pick(defined), input: false) }
        if chance(16) { valueInfo(&g, field: 12, name: "nowhere", input: false) }
        return g.bytes
    }

    /// A ValueInfoProto: float [N, dims…] mostly; other element types, no shape or no type too.
    mutating func valueInfo(_ w: inout ProtoWriter, field: Int, name: String, input: Bool) {
        let typeChoice = byte()
        w.message(field) { v in
            v.string(1, name)
            if !input && typeChoice % 3 == 0 { return }  // outputs often carry no type
            v.message(2) { type in
                if typeChoice % 16 == 1 {
                    type.message(4) { s in s.message(1) { t in t.message(1) { $0.int(1, 1) } } }  // seq(tensor(float))
                    return
                }
                type.message(1) { tensor in
                    tensor.int(1, typeChoice % 8 == 2 ? pick([7, 8, 11, 6]) : 1)
                    if typeChoice % 32 == 3 { return }  // no shape
                    tensor.message(2) { shape in
                        shape.message(1) { d in if typeChoice & 0x80 != 0 { d.int(1, 1) } else { d.string(2, "N") } }
                        for _ in 0..<Int(byte() % 3) {
                            let size = dim()
                            shape.message(1) { d in if chance(12) { d.string(2, "d") } else { d.int(1, size) } }
                        }
                    }
                }
            }
        }
    }

    /// A TensorProto with input-chosen dims and element type; data of the right size mostly.
    mutating func tensor(_ w: inout ProtoWriter, name: String?, forceType: Int32? = nil, forceDims: [Int64]? = nil,
                         values forcedValues: [Int64]? = nil) {
        var dims: [Int64] = []
        if let forceDims {
            dims = forceDims
        } else if chance(8) {
            // Empty but absurd: a zero dim among huge ones (no data, yet products of the other
            // dims overflow).
            dims = (0..<(2 + Int(byte() % 3))).map { _ in pick([Int64(1) << 40, 1 << 62, 1 << 31, 3]) }
            dims[Int(byte()) % dims.count] = 0
        } else {
            for _ in 0..<Int(byte() % 4) { dims.append(dim()) }
        }
        let types: [Int32] = [1, 1, 1, 7, 7, 11, 6, 9, 8, 2, 16]
        var type: Int32 = 1
        if let forceType { type = forceType } else { type = pick(types) }
        if chance(6) {
            for d in dims { w.int(1, d) }  // unpacked dims
        } else {
            w.packedInts(1, dims)
        }
        w.int(2, Int64(type))
        if let name { w.string(8, name) }
        var count = 1
        for d in dims {
            let (p, overflow) = count.multipliedReportingOverflow(by: Int(clamping: d))
            if d < 0 || overflow || p > 64 { count = Int(byte() % 3); break }
            count = p
        }
        if chance(16) { count += 1 }  // a size mismatch
        let raw = chance(3)
        switch type {
        case 1:
            var v: [Float] = []
            if let forcedValues { v = forcedValues.map { Float($0) } } else { for _ in 0..<count { v.append(floatValue()) } }
            if raw { w.data(9, v.flatMap { littleEndian($0.bitPattern) }) } else { w.packedFloats(4, v) }
        case 7:
            var v: [Int64] = []
            if let forcedValues { v = forcedValues } else { for _ in 0..<count { v.append(intValue()) } }
            if raw { w.data(9, v.flatMap { littleEndian($0) }) } else { w.packedInts(7, v) }
        case 11:
            w.packedDoubles(10, (0..<count).map { _ in Double(floatValue()) })
        case 6, 9, 2:
            let v = (0..<count).map { _ in intValue() % 128 }
            if raw && type == 6 {
                w.data(9, v.flatMap { littleEndian(Int32(truncatingIfNeeded: $0)) })
            } else {
                w.packedInts(5, v)
            }
        case 8:
            for i in 0..<count { w.string(6, "s\(i)") }
        default:
            w.data(9, Array(repeating: 0, count: 2 * count))  // bfloat16: unsupported
        }
    }

    /// An input name for a node: any value defined so far, mostly the latest ones.
    mutating func operand() -> String {
        if chance(24) { return pick(["", "undefined"]) }
        if defined.isEmpty { return "x0" }
        let back = Int(byte() % 3)
        return chance(3) ? pick(defined) : defined[max(0, defined.count - 1 - back)]
    }

    /// An int64 constant (a Reshape shape, Dropout's training_mode), added as an initializer.
    mutating func shapeConstant(_ index: Int) -> String {
        let name = "s\(index)"
        let values = (0..<(1 + Int(byte() % 4))).map { _ in pick([Int64(0), -1, 1, 2, 3, 4, 7, 16, -2, 1 << 40]) }
        var t = ProtoWriter()
        tensor(&t, name: name, forceType: 7, forceDims: chance(8) ? [] : [Int64(values.count)], values: values)
        initializers.append(t)
        return name
    }

    static let ops: [(name: String, ml: Bool, arity: ClosedRange<Int>)] = [
        ("Gemm", false, 2...3), ("MatMul", false, 2...2), ("Add", false, 2...2), ("Sub", false, 2...2),
        ("Mul", false, 2...2), ("Div", false, 2...2), ("Relu", false, 1...1), ("Sigmoid", false, 1...1),
        ("Tanh", false, 1...1), ("Softmax", false, 1...1), ("LogSoftmax", false, 1...1), ("Flatten", false, 1...1),
        ("Reshape", false, 2...2), ("Identity", false, 1...1), ("Dropout", false, 1...3), ("Cast", false, 1...1),
        ("ArgMax", false, 1...1), ("Concat", false, 1...4), ("Constant", false, 0...0),
        ("LinearClassifier", true, 1...1), ("LinearRegressor", true, 1...1), ("Normalizer", true, 1...1),
        ("ZipMap", true, 1...1), ("ArrayFeatureExtractor", true, 2...2), ("Foo", false, 1...2),
        ("Gather", false, 2...2), ("Erf", false, 1...1), ("Gelu", false, 1...1), ("BatchNormalization", false, 5...5),
        ("Scaler", true, 1...1), ("Imputer", true, 1...1), ("OneHotEncoder", true, 1...1),
        ("TreeEnsembleClassifier", true, 1...1), ("TreeEnsembleRegressor", true, 1...1), ("TreeEnsemble", true, 1...1),
    ]

    /// One node; returns its first output's name.
    mutating func node(_ n: inout ProtoWriter, index: Int) -> String {
        let op = pick(Self.ops)
        let arity = op.arity.lowerBound + Int(byte()) % (op.arity.count)
        var inputs: [String] = []
        for k in 0..<arity {
            if op.name == "Reshape" && k == 1 && !chance(6) {
                inputs.append(shapeConstant(index))
            } else if (op.name == "Gather" || (op.name == "ArrayFeatureExtractor" && chance(2))) && k == 1 && !chance(6) {
                // Column selection: constant integer indices, maybe negative or out of range.
                let name = "idx\(index)"
                let values = (0..<(1 + Int(byte() % 4))).map { _ in pick([Int64(0), 1, 2, 3, -1, -2, 7, 1 << 40]) }
                let dims: [Int64] = switch byte() % 4 {
                case 0: values.count == 1 ? [] : [Int64(values.count)]
                case 1: [1, Int64(values.count)]
                default: [Int64(values.count)]
                }
                var t = ProtoWriter()
                tensor(&t, name: name, forceType: 7, forceDims: dims, values: values)
                initializers.append(t)
                inputs.append(name)
            } else if op.name == "BatchNormalization" && k > 0 && !chance(8) {
                let name = "bn\(index)_\(k)"
                let channels = Int64(1 + byte() % 4)
                var t = ProtoWriter()
                tensor(&t, name: name, forceType: 1, forceDims: [channels],
                       values: (0..<channels).map { _ in Int64(byte() % 5) - (k == 4 ? 0 : 2) })
                initializers.append(t)
                inputs.append(name)
            } else if op.name == "ArrayFeatureExtractor" && k == 0 && !chance(4) {
                // skl2onnx's label table: a constant 1-D table looked up by computed indices.
                let name = "labels\(index)"
                var t = ProtoWriter()
                tensor(&t, name: name, forceType: pick([7, 1, 8]), forceDims: [Int64(1 + byte() % 4)])
                initializers.append(t)
                inputs.append(name)
            } else {
                inputs.append(operand())
            }
        }
        let output = "t\(index)"
        for i in inputs { n.string(1, i) }
        n.string(2, output)
        let twoOutputs = op.name == "LinearClassifier" || op.name == "TreeEnsembleClassifier"
        if twoOutputs || ((op.name == "Dropout" || op.name == "BatchNormalization") && chance(2)) { n.string(2, output + "b") }
        n.string(3, chance(4) ? "" : "n\(index)")
        n.string(4, op.name)
        if op.ml { n.string(7, chance(16) ? "ai.onnx" : "ai.onnx.ml") } else if chance(16) { n.string(7, pick(["ai.onnx", "com.example"])) }
        attributes(&n, op.name)
        defined.append(output)
        if twoOutputs { defined.append(output + "b") }
        return output
    }

    enum AttrValue {
        case int(Int64), float(Float), string(String), ints([Int64]), floats([Float]), strings([String]), tensor
        /// A 1-D tensor of these values, as float (type 1), double (11) or integers (7, 2).
        case valuesTensor(Int32, [Float])
    }

    mutating func attributes(_ n: inout ProtoWriter, _ op: String) {
        var list: [(String, AttrValue)] = []
        func maybe(_ name: String, _ value: AttrValue) { list.append((name, value)) }
        switch op {
        case "Gemm":
            if chance(2) { maybe("alpha", .float(floatValue())) }
            if chance(2) { maybe("beta", .float(floatValue())) }
            if chance(2) { maybe("transB", .int(pick([0, 1, 1, 2]))) }
            if chance(6) { maybe("transA", .int(pick([0, 1]))) }
            if chance(24) { maybe("broadcast", .int(1)) }
        case "Softmax", "LogSoftmax", "Flatten", "Concat":
            if op == "Concat" || chance(2) { maybe("axis", .int(chance(4) ? intValue() : Int64(byte() % 7) - 3)) }
        case "ArgMax":
            if chance(2) { maybe("axis", .int(Int64(byte() % 7) - 3)) }
            if chance(2) { maybe("keepdims", .int(pick([0, 1]))) }
            if chance(3) { maybe("select_last_index", .int(pick([0, 1]))) }
        case "Cast":
            if !chance(12) { maybe("to", .int(pick([1, 7, 6, 11, 9, 8, 0, 100]))) }
        case "Reshape":
            if chance(3) { maybe("allowzero", .int(pick([0, 1]))) }
        case "Dropout":
            if chance(3) { maybe("ratio", .float(0.5)) }
        case "Constant":
            switch byte() % 8 {
            case 0, 1: maybe("value", .tensor)
            case 2: maybe("value_float", .float(floatValue()))
            case 3: maybe("value_floats", .floats((0..<Int(byte() % 5)).map { _ in floatValue() }))
            case 4: maybe("value_int", .int(intValue()))
            case 5: maybe("value_ints", .ints((0..<Int(byte() % 5)).map { _ in intValue() }))
            case 6: maybe("value_strings", .strings(["a", "b"]))
            default: if chance(2) { maybe("value_string", .string("a")) }
            }
        case "LinearClassifier", "LinearRegressor":
            let targets = 1 + Int(byte() % 4), width = 1 + Int(byte() % 8)
            maybe("coefficients", .floats((0..<(targets * width)).map { _ in floatValue() }))
            if chance(2) { maybe("intercepts", .floats((0..<targets).map { _ in floatValue() })) }
            if op == "LinearClassifier" {
                let labels = targets == 1 ? 2 : targets
                switch byte() % 5 {
                case 0: maybe("classlabels_strings", .strings((0..<labels).map { "l\($0)" }))
                case 1: break
                case 2: maybe("classlabels_ints", .ints((0..<(labels + 1)).map(Int64.init)))
                default: maybe("classlabels_ints", .ints((0..<labels).map(Int64.init)))
                }
            } else if chance(2) {
                maybe("targets", .int(chance(4) ? intValue() : Int64(targets)))
            }
            if chance(2) { maybe("post_transform", .string(pick(["NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT"]))) }
        case "Normalizer":
            if !chance(6) { maybe("norm", .string(pick(["MAX", "L1", "L2", "L3"]))) }
        case "ZipMap":
            let count = Int(byte() % 5)
            if chance(2) { maybe("classlabels_int64s", .ints((0..<count).map(Int64.init))) } else {
                maybe("classlabels_strings", .strings((0..<count).map { "l\($0)" }))
            }
        case "Add", "Sub", "Mul", "Div":
            if chance(32) { maybe("broadcast", .int(1)) }
        case "Gather":
            if !chance(4) { maybe("axis", .int(pick([1, 1, 0, -1, 2]))) }
        case "Gelu":
            if chance(2) { maybe("approximate", .string(pick(["none", "tanh", "erf"]))) }
        case "BatchNormalization":
            if chance(2) { maybe("epsilon", .float(pick([1e-5, 0, -1, 1e-3]))) }
            if chance(8) { maybe("training_mode", .int(1)) }
            if chance(8) { maybe("spatial", .int(0)) }
        case "Scaler":
            let width = 1 + Int(byte() % 4)
            if chance(3) { maybe("offset", .floats((0..<width).map { _ in floatValue() })) }
            if !chance(3) { maybe("scale", .floats((0..<width).map { _ in floatValue() })) }
        case "Imputer":
            if !chance(6) { maybe("imputed_value_floats", .floats((0..<(1 + Int(byte() % 4))).map { _ in floatValue() })) }
            if chance(2) { maybe("replaced_value_float", .float(chance(2) ? .nan : floatValue())) }
            if chance(12) { maybe("imputed_value_int64s", .ints([1])) }
        case "OneHotEncoder":
            if !chance(8) { maybe("cats_int64s", .ints((0..<(1 + Int(byte() % 5))).map { _ in pick([0, 1, 2, 3, -1, 1 << 25]) })) }
            if chance(3) { maybe("zeros", .int(pick([0, 1]))) }
            if chance(12) { maybe("cats_strings", .strings(["a"])) }
        case "TreeEnsembleClassifier", "TreeEnsembleRegressor":
            forest(&list, classifier: op == "TreeEnsembleClassifier")
        case "TreeEnsemble":
            ensemble5(&list)
        default:
            break
        }
        if chance(32) { list.append(("unknown_attribute", .int(1))) }
        for (name, value) in list {
            // The declared type: mostly right, sometimes unset (old models) or wrong.
            let typeChoice = byte() % 16
            n.message(5) { a in
                a.string(1, name)
                var type: Int64
                switch value {
                case .int(let v): a.int(3, v); type = 2
                case .float(let v): a.float(2, v); type = 1
                case .string(let v): a.string(4, v); type = 3
                case .ints(let v): if typeChoice & 1 == 0 { a.packedInts(8, v) } else { for x in v { a.int(8, x) } }; type = 7
                case .floats(let v): a.packedFloats(7, v); type = 6
                case .strings(let v): for s in v { a.string(9, s) }; type = 8
                case .tensor:
                    var t = ProtoWriter()
                    tensor(&t, name: nil)
                    a.data(5, t.bytes)
                    type = 4
                case .valuesTensor(let elementType, let v):
                    a.message(5) { t in
                        t.packedInts(1, [Int64(v.count)])
                        t.int(2, Int64(elementType))
                        switch elementType {
                        case 1: t.packedFloats(4, v)
                        case 11: t.packedDoubles(10, v.map { Double($0) })
                        case 7: t.packedInts(7, v.map { Int64(exactly: $0.rounded()) ?? 0 })
                        default: t.packedInts(5, v.map { Int64(exactly: $0.rounded()) ?? 0 })
                        }
                    }
                    type = 4
                }
                if typeChoice == 0 { return }
                if typeChoice == 1 { type = pick([1, 2, 3, 5, 13]) }
                a.int(20, type)
                if typeChoice == 2 { a.string(21, "ref") }
            }
        }
    }

    // MARK: Tree ensembles

    static let branchModes = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"]

    /// A small forest in the TreeEnsembleClassifier / TreeEnsembleRegressor attributes: trees in
    /// heap layout (children of node k at 2k+1 and 2k+2), mostly consistent; sometimes a child
    /// outside the tree, a cycle, a duplicate node, an unsupported mode, a weight for an output
    /// that does not exist, or arrays of different lengths.
    mutating func forest(_ list: inout [(String, AttrValue)], classifier: Bool) {
        let outputs = classifier ? 2 + Int(byte() % 3) : 1 + Int(byte() % 3)
        var treeIDs: [Int64] = [], nodeIDs: [Int64] = [], features: [Int64] = [], modes: [String] = []
        var trueIDs: [Int64] = [], falseIDs: [Int64] = [], values: [Float] = [], missing: [Int64] = []
        var wTrees: [Int64] = [], wNodes: [Int64] = [], wIDs: [Int64] = [], wValues: [Float] = []
        for t in 0..<(1 + Int(byte() % 3)) {
            let size = 1 + Int(byte() % 7)
            for k in 0..<size {
                let isLeaf = 2 * k + 2 >= size || chance(5)
                treeIDs.append(Int64(t))
                nodeIDs.append(chance(32) ? 0 : Int64(k))
                values.append(floatValue())
                missing.append(Int64(byte() % 2))
                if isLeaf {
                    modes.append(chance(32) ? "BRANCH_MEMBER" : "LEAF")
                    features.append(0)
                    trueIDs.append(0)
                    falseIDs.append(0)
                    for _ in 0..<Int(byte() % 3) {
                        wTrees.append(Int64(t))
                        wNodes.append(Int64(k))
                        wIDs.append(chance(24) ? Int64(outputs) : Int64(byte()) % Int64(outputs))
                        wValues.append(floatValue())
                    }
                } else {
                    modes.append(pick(Self.branchModes))
                    features.append(chance(16) ? pick([-1, 1 << 40, 100]) : Int64(byte() % 4))
                    trueIDs.append(chance(24) ? pick([0, Int64(k), 99]) : Int64(2 * k + 1))
                    falseIDs.append(Int64(2 * k + 2))
                }
            }
        }
        if chance(16) { values.removeLast() }
        if chance(24) { treeIDs.append(0); nodeIDs.append(50) }  // tree 0 again, not contiguous
        let prefix = classifier ? "class" : "target"
        list += [("nodes_treeids", .ints(treeIDs)), ("nodes_nodeids", .ints(nodeIDs)), ("nodes_featureids", .ints(features)),
                 ("nodes_modes", .strings(modes)), ("nodes_truenodeids", .ints(trueIDs)), ("nodes_falsenodeids", .ints(falseIDs)),
                 (prefix + "_treeids", .ints(wTrees)), (prefix + "_nodeids", .ints(wNodes)), (prefix + "_ids", .ints(wIDs))]
        list.append(chance(4) ? ("nodes_values_as_tensor", .valuesTensor(11, values)) : ("nodes_values", .floats(values)))
        list.append(chance(4) ? (prefix + "_weights_as_tensor", .valuesTensor(11, wValues)) : (prefix + "_weights", .floats(wValues)))
        if chance(3) { list.append(("nodes_missing_value_tracks_true", .ints(missing))) }
        if chance(3) { list.append(("base_values", .floats((0..<outputs).map { _ in floatValue() }))) }
        if chance(2) { list.append(("post_transform", .string(pick(["NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT"])))) }
        if classifier {
            switch byte() % 6 {
            case 0: list.append(("classlabels_strings", .strings((0..<outputs).map { "c\($0)" })))
            case 1: break
            case 2: list.append(("classlabels_int64s", .ints([7])))
            default: list.append(("classlabels_int64s", .ints((0..<outputs).map { Int64($0) * 3 })))
            }
        } else {
            if !chance(4) { list.append(("n_targets", .int(chance(8) ? pick([0, -1, 1 << 30]) : Int64(outputs)))) }
            if chance(2) { list.append(("aggregate_function", .string(pick(["SUM", "AVERAGE", "MIN", "MAX", "MEDIAN"])))) }
        }
    }

    /// A TreeEnsemble (ai.onnx.ml 5) node: roots, nodes and leaves apart, codes and tensors.
    mutating func ensemble5(_ list: inout [(String, AttrValue)]) {
        let targets = 1 + Int(byte() % 3)
        let nodes = 1 + Int(byte() % 6), leaves = 1 + Int(byte() % 6)
        var features: [Int64] = [], splits: [Float] = [], modes: [Float] = [], trueIDs: [Int64] = [], falseIDs: [Int64] = []
        var trueLeafs: [Int64] = [], falseLeafs: [Int64] = []
        for k in 0..<nodes {
            features.append(chance(16) ? -1 : Int64(byte() % 4))
            splits.append(floatValue())
            modes.append(Float(chance(16) ? 6 : byte() % 6))
            // Children: a later node, or a leaf; sometimes anything (cycles, out of range).
            for leafList in 0..<2 {
                let toLeaf = k + 1 >= nodes || chance(2)
                let child: Int64 = chance(16) ? pick([0, Int64(k), 99, -1]) : toLeaf ? Int64(byte()) % Int64(leaves) : Int64(k + 1 + Int(byte()) % (nodes - k - 1))
                if leafList == 0 { trueIDs.append(child); trueLeafs.append(toLeaf ? 1 : 0) } else { falseIDs.append(child); falseLeafs.append(toLeaf ? 1 : 0) }
            }
        }
        let roots: [Int64] = (0..<(1 + Int(byte() % 2))).map { _ in chance(12) ? Int64(nodes) : Int64(byte()) % Int64(nodes) }
        list += [("tree_roots", .ints(roots)), ("nodes_featureids", .ints(features)),
                 ("nodes_splits", .valuesTensor(pick([1, 11]), splits)), ("nodes_modes", .valuesTensor(2, modes)),
                 ("nodes_truenodeids", .ints(trueIDs)), ("nodes_falsenodeids", .ints(falseIDs)),
                 ("nodes_trueleafs", .ints(trueLeafs)), ("nodes_falseleafs", .ints(falseLeafs)),
                 ("leaf_targetids", .ints((0..<leaves).map { _ in chance(16) ? Int64(targets) : Int64(byte()) % Int64(targets) })),
                 ("leaf_weights", .valuesTensor(pick([1, 11]), (0..<leaves).map { _ in floatValue() }))]
        if !chance(8) { list.append(("n_targets", .int(Int64(targets)))) }
        if chance(2) { list.append(("aggregate_function", .int(Int64(byte() % 5)))) }
        if chance(2) { list.append(("post_transform", .int(Int64(byte() % 6)))) }
        if chance(16) { list.append(("membership_values", .floats([1]))) }
    }

}
