/// The operators the engine implements, by domain, and the check that rejects the rest at load.
enum OperatorSet {
    static let defaultDomainOps = [
        "Add", "ArgMax", "BatchNormalization", "Cast", "Concat", "Constant", "DequantizeLinear", "Div", "Dropout",
        "DynamicQuantizeLinear", "Erf", "Flatten", "Gather", "Gelu", "Gemm", "Identity", "LogSoftmax", "MatMul",
        "MatMulInteger", "Mul", "QLinearMatMul", "QuantizeLinear", "Relu", "Reshape", "Sigmoid", "Softmax", "Sub", "Tanh",
    ]
    static let mlDomainOps = [
        "ArrayFeatureExtractor", "Imputer", "LinearClassifier", "LinearRegressor", "Normalizer", "OneHotEncoder",
        "Scaler", "TreeEnsemble", "TreeEnsembleClassifier", "TreeEnsembleRegressor", "ZipMap",
    ]
    static let mlDomain = "ai.onnx.ml"

    /// Every supported op, for error messages: `Add, ArgMax, …; ai.onnx.ml: LinearClassifier, …`.
    static var supportedList: String {
        defaultDomainOps.joined(separator: ", ") + "; " + mlDomain + ": " + mlDomainOps.joined(separator: ", ")
    }

    static func isDefaultDomain(_ domain: String) -> Bool { domain.isEmpty || domain == "ai.onnx" }

    /// How ops are named in errors and `opCounts`: bare for the default and ML domains (their
    /// names do not collide), `domain.Op` for any other domain.
    static func qualifiedName(domain: String, opType: String) -> String {
        isDefaultDomain(domain) || domain == mlDomain ? opType : "\(domain).\(opType)"
    }

    static func isSupported(domain: String, opType: String) -> Bool {
        if isDefaultDomain(domain) { return defaultDomainOps.contains(opType) }
        if domain == mlDomain { return mlDomainOps.contains(opType) }
        return false
    }

    /// Throws the one "unsupported operator" error for `node` unless the engine implements it.
    static func check(_ node: NodeProto, functionNames: [String]) throws(ModelError) {
        if isSupported(domain: node.domain, opType: node.opType) { return }
        let name = qualifiedName(domain: node.domain, opType: node.opType)
        var why = "operator \(name) is not supported"
        if functionNames.contains(node.opType) {
            why = "operator \(name) is a model-local function, which is not supported"
        } else if !isDefaultDomain(node.domain) && node.domain != mlDomain {
            why += " (domain '\(node.domain)' is not implemented)"
        }
        throw ModelError(.unsupported, "\(why); supported operators: \(supportedList)",
                         node: node.name, opType: name)
    }
}
