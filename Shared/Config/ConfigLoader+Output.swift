import Messages

/// `[output]`, and the names an output record is written under.
extension ConfigLoader {
    func loadOutput(_ top: TableReader, schema: InputSpec) throws(ConfigError) -> OutputSpec {
        var spec = OutputSpec()
        guard let output = try top.subtable("output", title: "[output]",
                                            known: ["format", "passthrough", "labels", "fields"])
        else {
            spec.labels = modelLabels
            return spec
        }
        spec.format = try output.choice("format", OutputFormat.self) ?? spec.format
        let passthrough = try output.strings("passthrough") ?? []
        try checkUnique(passthrough, output, "passthrough") { name in
            "each output record would have it twice; list \"\(name)\" once"
        }
        for (i, (name, position)) in passthrough.enumerated() where schema.fieldIndex(name) == nil {
            throw output.invalid("output.passthrough[\(i)]", "names \"\(name)\", which is not "
                                 + "an input field" + Schema.hint(name, schema), at: position)
        }
        spec.passthrough = passthrough.map(\.string)
        spec.labels = try loadLabels(output)
        let fields = try output.strings("fields")
        if let fields {
            if fields.isEmpty {
                throw output.invalid("output.fields", "must not be empty",
                                     at: output.value("fields")!.position)
            }
            try checkUnique(fields, output, "fields")
            spec.fields = []
            for (i, (name, position)) in fields.enumerated() {
                spec.fields.append(try TableReader.choice(name, OutputField.self) {
                    (message) throws(ConfigError) in
                    throw output.invalid("output.fields[\(i)]", message, at: position)
                })
            }
        }
        let labelsFromModel = spec.labels == nil && modelLabels != nil
        spec.labels = spec.labels ?? modelLabels
        try checkNames(spec, passthrough, output, defaultFields: fields == nil, labelsFromModel: labelsFromModel)
        return spec
    }

    /// The model's classes when it has one per output column (nil when the model is not known).
    private var modelLabels: [ClassLabel]? {
        guard let model, let labels = model.classLabels, labels.count == model.width else { return nil }
        return labels
    }

    /// `labels`: all integers (`[0, 1]`, written as JSON numbers) or all strings, none twice.
    private func loadLabels(_ output: TableReader) throws(ConfigError) -> [ClassLabel]? {
        guard let value = output.value("labels") else { return nil }
        guard let items = value.array, !value.isArrayOfTables else {
            throw output.typeMismatch("output.labels", "an array of strings or of integers", value)
        }
        if items.isEmpty {
            throw output.invalid("output.labels", "must not be empty (leave it out to print class indices)",
                                 at: value.position)
        }
        var labels: [ClassLabel] = []
        var seen: [[UInt8]: SourcePosition] = [:]
        for (i, item) in items.enumerated() {
            let label: ClassLabel
            switch item.kind {
            case .string(let name): label = .string(name)
            case .integer(let number): label = .int(Int64(number))
            default: throw output.typeMismatch("output.labels[\(i)]", "a string or an integer", item)
            }
            if let first = labels.first, first.isInteger != label.isInteger {
                throw output.invalid("output.labels[\(i)]", "is \(item.typeNameWithArticle) but `output.labels[0]` is "
                    + "\(items[0].typeNameWithArticle): write every class as an integer (`[0, 1]`, written as JSON "
                    + "numbers) or every one as a string (`[\"legit\", \"fraud\"]`)", at: item.position)
            }
            // Compared as bytes, as a reader of the output does.
            let key = Array(label.description.utf8)
            if let first = seen[key] {
                let shown = label.isInteger ? label.description : "\"\(label)\""
                throw output.invalid("output.labels[\(i)]", "repeats \(shown) (first at \(first)): two classes would "
                                     + "have one name", at: item.position)
            }
            seen[key] = item.position
            labels.append(label)
        }
        return labels
    }

    /// Refuses a passthrough field written under a name the record already has: one of
    /// `fields` (a JSON key or a CSV column), or in CSV the `p_<class>` column of a probability.
    /// A JSON object with a key twice, or a CSV header with a column twice, is read differently
    /// by every reader (most keep the last), so the output would lose a value silently.
    ///
    /// Without `labels` the probability columns are named by the model's classes, or are `p_0`,
    /// `p_1`, …: checked only when the model is known (`model`).
    private func checkNames(_ spec: OutputSpec, _ passthrough: [PositionedString], _ output: TableReader,
                            defaultFields: Bool, labelsFromModel: Bool) throws(ConfigError) {
        let csv = spec.format == .csv
        let twice = { (name: String) in csv ? "the CSV header would have two \"\(name)\" columns"
                                            : "each output record would have two \"\(name)\" keys" }
        // The p_ columns, each with how the message names its class and what renames it.
        var columns: [(name: String, what: String, rename: String)] = []
        if csv && spec.fields.contains(.probabilities) {
            if let labels = spec.labels {
                columns = labels.map { label in
                    let shown = label.isInteger ? label.description : "\"\(label)\""
                    return labelsFromModel ? ("p_\(label)", "the model's class \(shown)", "name the classes with `output.labels`")
                                           : ("p_\(label)", "class \(shown)", "rename the class in `output.labels`")
                }
            } else if let model {
                columns = (0..<model.width).map { ("p_\($0)", "class \($0)", "name the classes with `output.labels`") }
            }
        }
        for (i, (name, position)) in passthrough.enumerated() {
            let key = "output.passthrough[\(i)]"
            if spec.fields.contains(where: { same($0.rawValue, name) }) {
                let fields = spec.fields.map(\.rawValue).joined(separator: ", ")
                throw output.invalid(key, "names \"\(name)\", which `output.fields` also writes"
                    + (defaultFields ? " (by default: \(fields))" : "") + ": \(twice(name)); drop \"\(name)\" from "
                    + (defaultFields ? "`output.passthrough`, or set `output.fields` without it"
                                     : "`output.passthrough` or from `output.fields`"), at: position)
            }
            if let column = columns.first(where: { same($0.name, name) }) {
                throw output.invalid(key, "names \"\(name)\", the CSV column of the probability of \(column.what): "
                    + "\(twice(name)); drop \"\(name)\" from `output.passthrough`, \(column.rename), or drop "
                    + "\"probabilities\" from `output.fields`", at: position)
            }
        }
    }

    /// Equal as bytes: what a reader of the output compares.
    private func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }
}
