/// `[output]`, and the names an output record is written under.
extension ConfigLoader {
    func loadOutput(_ top: TableReader, schema: InputSpec) throws(ConfigError) -> OutputSpec {
        var spec = OutputSpec()
        guard let output = try top.subtable("output", title: "[output]",
                                            known: ["format", "passthrough", "labels", "fields"])
        else { return spec }
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
        if let labels = try output.strings("labels") {
            if labels.isEmpty {
                throw output.invalid("output.labels", "must not be empty (leave it out to print "
                                     + "class indices)", at: output.value("labels")!.position)
            }
            spec.labels = labels.map(\.string)
        }
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
        try checkNames(spec, passthrough, output, defaultFields: fields == nil)
        return spec
    }

    /// Refuses a passthrough field written under a name the record already has: one of
    /// `fields` (a JSON key or a CSV column), or in CSV the `p_<class>` column of a probability.
    /// A JSON object with a key twice, or a CSV header with a column twice, is read differently
    /// by every reader (most keep the last), so the output would lose a value silently.
    ///
    /// Without `labels` the probability columns are `p_0`, `p_1`, …: checked only when the
    /// model's width is known (`outputWidth`).
    private func checkNames(_ spec: OutputSpec, _ passthrough: [PositionedString], _ output: TableReader,
                            defaultFields: Bool) throws(ConfigError) {
        let csv = spec.format == .csv
        let twice = { (name: String) in csv ? "the CSV header would have two \"\(name)\" columns"
                                            : "each output record would have two \"\(name)\" keys" }
        // The p_ columns, each with how the message names its class and what renames it.
        var columns: [(name: String, what: String, rename: String)] = []
        if csv && spec.fields.contains(.probabilities) {
            if let labels = spec.labels {
                columns = labels.map { ("p_" + $0, "class \"\($0)\"", "rename the class in `output.labels`") }
            } else if let outputWidth {
                columns = (0..<outputWidth).map { ("p_\($0)", "class \($0)", "name the classes with `output.labels`") }
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
