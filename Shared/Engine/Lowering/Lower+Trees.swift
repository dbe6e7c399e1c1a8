import Kernels

/// TreeEnsembleClassifier, TreeEnsembleRegressor (ai.onnx.ml 1–3) and TreeEnsemble (ai.onnx.ml 5).
///
/// Each becomes a `treeScores` step (the forest kernel: raw aggregated leaf values per class or
/// target), then `treeFinalize` (base values and post_transform, as onnxruntime applies them) for
/// the scores output, and `treeLabel` for the classifier's label output.
extension GraphLowering {
    mutating func lowerTreeEnsembleClassifier(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let (x, width) = try treeInput(ctx, inputs)
        let intLabels = try ctx.ints("classlabels_int64s")
        let stringLabels = try ctx.strings("classlabels_strings")
        guard (intLabels == nil) != (stringLabels == nil) else {
            throw ctx.error(.invalidGraph, "exactly one of classlabels_int64s and classlabels_strings must be set")
        }
        let classes = intLabels?.count ?? stringLabels?.count ?? 0
        guard classes >= 2 else {
            throw ctx.unsupported("a classifier with \(classes) class label(s) is not supported; it needs at least 2")
        }
        noteClassLabels(ints: intLabels, strings: stringLabels)
        let transform = try treePostTransform(ctx)
        let base = try TreeAttributes.floats(ctx, "base_values")
        guard base.count <= classes else {
            throw ctx.error(.invalidGraph, "\(base.count) base_values for \(counted(classes, "class"))")
        }
        let attributes = try TreeAttributes(ctx, weightPrefix: "class", outputs: classes)
        let rawName = internalName(ctx, "raw")
        let forest = try makeForest(ctx, attributes.trees, outputs: classes, aggregate: .sum, width: width, key: rawName)
        let ids = Set(try ctx.ints("class_ids") ?? [])
        let weights = try TreeAttributes.floats(ctx, "class_weights")
        let presence = Self.presence(attributes.trees, outputs: classes)
        let finalize = TreeFinalize(
            outputs: classes, classifier: true, base: base, transform: transform,
            binaryCase: classes == 2 && ids.count == 1, weightsAllPositive: weights.allSatisfy { $0 >= 0 },
            labels: intLabels.map { $0.map { Float($0) } } ?? (0..<classes).map { Float($0) },
            staticPresence: presence.map { $0 ?? false }, dynamicPresence: presence.contains { $0 == nil })
        let raw = try emit(.treeScores(TreeScores(forest: forest, presence: finalize.dynamicPresence)), inputs: [x],
                           output: rawName, shape: ActivationShape(dims: [finalize.rawWidth]), ctx)
        if let z = outputName(ctx, 1) {
            try emit(.treeFinalize(finalize), inputs: [raw], output: z, shape: ActivationShape(dims: [classes]), ctx)
        }
        if let y = outputName(ctx, 0) {
            if intLabels != nil {
                try emit(.treeLabel(finalize), inputs: [raw], output: y, shape: ActivationShape(dims: [], isInteger: true), ctx)
            } else {
                define(y, .opaque(OpaqueValue(typeName: "tensor(string)", reason: "holds string class labels, which the engine does not compute")))
            }
        }
    }

    mutating func lowerTreeEnsembleRegressor(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let (x, width) = try treeInput(ctx, inputs)
        let targets = try ctx.int("n_targets", default: 1)
        guard targets >= 1, targets <= Int64(ActivationShape.maxWidth) else {
            throw ctx.error(.invalidGraph, "n_targets=\(targets) must be between 1 and \(ActivationShape.maxWidth)")
        }
        let outputs = Int(targets)
        let base = try TreeAttributes.floats(ctx, "base_values")
        let aggregate = try treeAggregate(ctx, try ctx.string("aggregate_function", default: "SUM"))
        let attributes = try TreeAttributes(ctx, weightPrefix: "target", outputs: outputs)
        try emitRegression(ctx, x: x, width: width, trees: attributes.trees, outputs: outputs, base: base,
                           aggregate: aggregate, transform: try treePostTransform(ctx))
    }

    /// TreeEnsemble (ai.onnx.ml opset 5): integer-coded aggregate_function and post_transform,
    /// tensor-valued splits and weights, leaves apart from the nodes.
    mutating func lowerTreeEnsemble(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) {
        let (x, width) = try treeInput(ctx, inputs)
        let targets = try ctx.int("n_targets", default: 0)
        guard targets >= 1, targets <= Int64(ActivationShape.maxWidth) else {
            throw ctx.error(.invalidGraph, "n_targets=\(targets) must be between 1 and \(ActivationShape.maxWidth)")
        }
        let aggregates = ["AVERAGE", "SUM", "MIN", "MAX"]
        // onnxruntime 1.32 reads the codes in its own enum order (1 = LOGISTIC, 2 = SOFTMAX), not the
        // spec's (1 = SOFTMAX, 2 = LOGISTIC); measured on tree_ensemble5. We follow onnxruntime.
        let transforms = ["NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT"]
        let a = try ctx.int("aggregate_function", default: 1)
        let p = try ctx.int("post_transform", default: 0)
        guard a >= 0, a < 4 else { throw ctx.unsupported("aggregate_function \(a) is not supported; supported: 0-3 (AVERAGE, SUM, MIN, MAX)") }
        guard p >= 0, p < 5, let transform = PostTransform(rawValue: transforms[Int(p)]) else {
            throw ctx.unsupported("post_transform \(p) is not supported; supported: 0-3 (NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO in onnxruntime's numbering)")
        }
        let attributes = try TreeAttributes(ensemble: ctx, outputs: Int(targets))
        try emitRegression(ctx, x: x, width: width, trees: attributes.trees, outputs: Int(targets), base: [],
                           aggregate: try treeAggregate(ctx, aggregates[Int(a)]), transform: transform)
    }

    private mutating func emitRegression(_ ctx: NodeContext, x: Int, width: Int, trees: [[TreeNode]], outputs: Int,
                                         base: [Float], aggregate: TreeAggregate, transform: PostTransform) throws(ModelError) {
        let rawName = internalName(ctx, "raw")
        let forest = try makeForest(ctx, trees, outputs: outputs, aggregate: aggregate, width: width, key: rawName)
        // onnxruntime writes 0 for a target no reached leaf has a value for (base value or not);
        // a single target always has one (each leaf's first value, or 0).
        let presence = outputs == 1 ? [true] : Self.presence(trees, outputs: outputs)
        let finalize = TreeFinalize(
            outputs: outputs, classifier: false, base: base, transform: transform, binaryCase: false,
            weightsAllPositive: false, labels: [], staticPresence: presence.map { $0 ?? false },
            dynamicPresence: presence.contains { $0 == nil })
        let raw = try emit(.treeScores(TreeScores(forest: forest, presence: finalize.dynamicPresence)), inputs: [x],
                           output: rawName, shape: ActivationShape(dims: [finalize.rawWidth]), ctx)
        try emit(.treeFinalize(finalize), inputs: [raw], output: try firstOutput(ctx), shape: ActivationShape(dims: [outputs]), ctx)
    }

    private func treeInput(_ ctx: NodeContext, _ inputs: [Int?]) throws(ModelError) -> (id: Int, width: Int) {
        let (x, shape) = try activation(ctx, inputs, 0, "X", allowInteger: true)
        guard shape.dims.count == 1 else {
            throw ctx.unsupported("X must be 2-D [N, C], got rank \(shape.dims.count + 1)")
        }
        return (x, shape.dims[0])
    }

    private func treePostTransform(_ ctx: NodeContext) throws(ModelError) -> PostTransform {
        let text = try ctx.string("post_transform", default: "NONE")
        guard let value = PostTransform(rawValue: text) else {
            throw ctx.unsupported("post_transform '\(text)' is not supported; supported: NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO")
        }
        return value
    }

    private func treeAggregate(_ ctx: NodeContext, _ text: String) throws(ModelError) -> TreeAggregate {
        switch text {
        case "SUM": return .sum
        case "AVERAGE": return .average
        case "MIN": return .min
        case "MAX": return .max
        default: throw ctx.unsupported("aggregate_function '\(text)' is not supported; supported: SUM, AVERAGE, MIN, MAX")
        }
    }

    /// The flattened forest (from the weight cache when it has it), stored under `key`, the
    /// name of the raw scores it computes.
    private func makeForest(_ ctx: NodeContext, _ trees: [[TreeNode]], outputs: Int, aggregate: TreeAggregate,
                            width: Int, key: String) throws(ModelError) -> TreeForest {
        let forest = try store.forest("forest:\(key)", accept: { $0.outputs == outputs && $0.aggregate == aggregate }) {
            () throws(ModelError) in
            do throws(TreeForestError) {
                return try TreeForest(trees: trees, outputs: outputs, aggregate: aggregate)
            } catch {
                throw ctx.error(.invalidGraph, error.description)
            }
        }
        guard forest.featureCount <= width else {
            throw ctx.error(.invalidGraph, "a node reads feature \(forest.featureCount - 1), but X has \(counted(width, "column"))")
        }
        return forest
    }

    /// Per output: true when some tree has a value for it in every leaf (every row reaches one
    /// leaf per tree, so every row gets a value), false when no leaf has one, nil when it
    /// depends on the leaves a row reaches (then presence is tracked per row).
    private static func presence(_ trees: [[TreeNode]], outputs: Int) -> [Bool?] {
        // O(weights + outputs): count per tree the leaves that have each output mentioned.
        var some = Set<Int>()
        var always = Set<Int>()
        for tree in trees {
            var leaves = 0
            var leavesWith: [Int: Int] = [:]
            for case .leaf(let weights) in tree {
                leaves += 1
                for output in Set(weights.map(\.output)) { leavesWith[output, default: 0] += 1 }
            }
            for (output, count) in leavesWith {
                some.insert(output)
                if count == leaves { always.insert(output) }
            }
        }
        return (0..<outputs).map { always.contains($0) ? true : (some.contains($0) ? nil : false) }
    }
}
