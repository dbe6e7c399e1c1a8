extension PipelineConfig {
    /// Parses and validates a `pipeline.toml` (DESIGN.md section 5).
    ///
    /// Every key is type- and range-checked, unknown keys and tables are rejected (with a
    /// "did you mean" when one is close), features and output fields are checked against the
    /// input schema, and relative paths are resolved against the file's directory. `stages`
    /// holds all four stages, with defaults for those without a `[stage.X]` table.
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - path: the file's absolute path: it names the file in errors, gives the directory
    ///     relative paths are resolved against, and the default `pipeline.name`.
    /// - Throws: `ConfigError` at the first problem, as `file:line:column: message`.
    public static func parse(text: String, path: String) throws(ConfigError) -> PipelineConfig {
        try parse(bytes: Array(text.utf8), path: path)
    }

    /// Like `parse(text:path:)`, from the file's raw bytes, so that invalid UTF-8 is reported
    /// at its line and column instead of being replaced.
    /// - Throws: `ConfigError` at the first problem, as `file:line:column: message`.
    public static func parse(bytes: [UInt8], path: String) throws(ConfigError) -> PipelineConfig {
        let root = try TOMLParser.parse(bytes: bytes, file: path)
        return try ConfigLoader(file: path).load(root)
    }

    /// Parses a `pipeline.toml` again, knowing what the model gives: without `labels` in the
    /// config, `output.labels` are the model's own classes (when it has one per output column),
    /// and the checks that need the model (the CSV columns `p_<class>` named by those classes,
    /// or `p_0`, `p_1`, … without any) are made too, still pointing at the file.
    /// - Parameter model: the model's output, as loaded.
    /// - Throws: `ConfigError` at the first problem, as `file:line:column: message`.
    public static func parse(text: String, path: String, model: ModelOutput) throws(ConfigError) -> PipelineConfig {
        let root = try TOMLParser.parse(bytes: Array(text.utf8), file: path)
        return try ConfigLoader(file: path, model: model).load(root)
    }
}

/// Maps the parsed TOML tree onto `PipelineConfig`, section by section.
struct ConfigLoader {
    let file: String
    let baseDirectory: String
    /// The model's output, when the model is known (see `loadOutput`).
    let model: ModelOutput?

    init(file: String, model: ModelOutput? = nil) {
        self.file = file
        self.model = model
        baseDirectory = ConfigPath.directory(of: file)
    }

    func load(_ root: TOMLTable) throws(ConfigError) -> PipelineConfig {
        let sections = ["pipeline", "input", "feature", "model", "output", "stage", "metrics", "autoscale", "drift"]
        let top = try TableReader(root, path: "", title: "", file: file, known: sections)
        let pipeline = try loadPipeline(top)
        let input = try loadInput(top)
        let features = try loadFeatures(top, schema: input)
        let model = try loadModel(top)
        let output = try loadOutput(top, schema: input)
        let stages = try loadStages(top)
        let metrics = try loadMetrics(top)
        var config = PipelineConfig(pipeline: pipeline, input: input, features: features, model: model,
                                    output: output, stages: stages, baseDirectory: baseDirectory, metrics: metrics)
        config.autoscale = try loadAutoscale(top)
        config.drift = try loadDrift(top)
        return config
    }

    // MARK: [drift]

    private func loadDrift(_ top: TableReader) throws(ConfigError) -> DriftSpec? {
        guard let table = try top.subtable("drift", title: "[drift]",
                                           known: ["reference", "window", "psi_warn", "psi_alert", "js_warn", "js_alert"]) else { return nil }
        let reference = try table.require(table.text("reference"), "reference")
        var spec = DriftSpec(reference: ConfigPath.resolve(reference, against: baseDirectory))
        spec.window = try table.integer("window", in: 100...100_000_000) ?? spec.window
        func threshold(_ key: String, _ range: ClosedRange<Double>, _ fallback: Double) throws(ConfigError) -> Double {
            guard let x = try table.number(key) else { return fallback }
            guard range.contains(x) else {
                throw table.invalid(table.keyPath(key), "must be from \(range.lowerBound) to \(range.upperBound), found \(x)",
                                    at: table.value(key)!.position)
            }
            return x
        }
        spec.psiWarn = try threshold("psi_warn", 0.001...100, spec.psiWarn)
        spec.psiAlert = try threshold("psi_alert", 0.001...100, spec.psiAlert)
        spec.jsWarn = try threshold("js_warn", 0.001...1, spec.jsWarn)
        spec.jsAlert = try threshold("js_alert", 0.001...1, spec.jsAlert)
        for (warn, alert) in [("psi_warn", "psi_alert"), ("js_warn", "js_alert")] {
            let w = warn == "psi_warn" ? spec.psiWarn : spec.jsWarn, a = warn == "psi_warn" ? spec.psiAlert : spec.jsAlert
            if w > a {
                throw table.invalid(table.keyPath(warn), "(\(w)) must not be above `\(alert)` (\(a))",
                                    at: (table.value(warn) ?? table.value(alert))!.position)
            }
        }
        return spec
    }

    // MARK: [autoscale]

    private func loadAutoscale(_ top: TableReader) throws(ConfigError) -> AutoscaleSpec? {
        guard let table = try top.subtable("autoscale", title: "[autoscale]",
                                           known: ["cores", "target", "interval_s", "scale_up_after_s", "scale_down_after_s"]) else { return nil }
        var spec = AutoscaleSpec()
        func seconds(_ key: String, _ range: ClosedRange<Double>) throws(ConfigError) -> Double? {
            guard let x = try table.number(key) else { return nil }
            guard range.contains(x) else {
                throw table.invalid(table.keyPath(key), "must be from \(range.lowerBound) to \(range.upperBound), found \(x)", at: table.value(key)!.position)
            }
            return x
        }
        spec.cores = try seconds("cores", 0.5...4096)
        spec.target = try seconds("target", 0.1...0.95) ?? spec.target
        spec.intervalSeconds = try seconds("interval_s", 0.1...3600) ?? spec.intervalSeconds
        spec.scaleUpAfterSeconds = try seconds("scale_up_after_s", 0...86400) ?? spec.scaleUpAfterSeconds
        spec.scaleDownAfterSeconds = try seconds("scale_down_after_s", 0...86400) ?? spec.scaleDownAfterSeconds
        return spec
    }

    // MARK: [metrics]

    private func loadMetrics(_ top: TableReader) throws(ConfigError) -> MetricsSpec {
        guard let table = try top.subtable("metrics", title: "[metrics]", known: ["listen"]),
              let listen = try table.string("listen") else { return MetricsSpec() }
        if let problem = ListenAddress.problem(listen) {
            throw table.invalid("metrics.listen", "is not a listen address: \(problem)", at: table.value("listen")!.position)
        }
        return MetricsSpec(listen: listen)
    }

    // MARK: [pipeline]

    private func loadPipeline(_ top: TableReader) throws(ConfigError) -> PipelineSection {
        var section = PipelineSection(name: RunName.fallback(directory: baseDirectory))
        guard let table = try top.subtable("pipeline", title: "[pipeline]",
                                           known: ["name", "batch_rows", "linger_ms", "window"])
        else { return section }
        if let name = try table.string("name") {
            if let problem = RunName.problem(name) {
                throw table.invalid("pipeline.name", problem, at: table.value("name")!.position)
            }
            section.name = name
        }
        section.batchRows = try table.integer("batch_rows", in: 1...65536) ?? section.batchRows
        section.lingerMs = try table.integer("linger_ms", in: 0...10000) ?? section.lingerMs
        section.window = try table.integer("window", in: 1...4096) ?? section.window
        return section
    }

    // MARK: [input] and [[input.field]]

    private func loadInput(_ top: TableReader) throws(ConfigError) -> InputSpec {
        let input = try top.subtable("input", title: "[input]",
                                     known: ["format", "max_errors", "max_line_bytes", "field"])
        var spec = InputSpec(fields: [])
        if let input {
            spec.format = try input.choice("format", InputFormat.self) ?? spec.format
            if let n = try input.integer("max_errors", in: -1...Int.max) {
                spec.maxErrors = n
                spec.maxErrorsSet = true
            }
            // At most 32 MiB: a batch with such a record must still fit a frame (64 MiB).
            spec.maxLineBytes = try input.integer("max_line_bytes", in: 1024...(32 << 20),
                                                  describing: " (1 KiB...32 MiB)")
                ?? spec.maxLineBytes
        }
        let tables = try input?.tables("field") ?? []
        if tables.isEmpty {
            let need = "the input schema needs at least one field"
            if let input, let empty = input.value("field") {
                throw input.invalid("input.field", "must not be empty: \(need)", at: empty.position)
            }
            let position = input?.table.position ?? .start
            let place = input == nil ? "" : " in the `[input]` table at line \(position.line)"
            throw ConfigError(.missingKey, file: file, position: position,
                              message: "missing `[[input.field]]`\(place): \(need)")
        }
        var seen: [String: SourcePosition] = [:]
        for (i, table) in tables.enumerated() {
            let field = try TableReader(table, path: "input.field[\(i)]", title: "[[input.field]]",
                                        file: file, known: ["name", "type", "required"])
            let name = try field.require(field.text("name"), "name")
            let namePosition = field.value("name")!.position
            if let first = seen[name] {
                throw field.invalid(field.keyPath("name"), "repeats the field name \"\(name)\" "
                                    + "(first at \(first))", at: namePosition)
            }
            seen[name] = namePosition
            let type = try field.require(field.choice("type", FieldType.self), "type")
            let required = try field.boolean("required") ?? true
            spec.fields.append(FieldSpec(name: name, type: type, required: required))
        }
        return spec
    }

    // MARK: [model]

    private func loadModel(_ top: TableReader) throws(ConfigError) -> ModelSpec {
        guard let model = try top.subtable("model", title: "[model]",
                                           known: ["path", "input", "output", "precision", "version"]) else {
            throw ConfigError(.missingKey, file: file, position: .start,
                              message: "missing required table `[model]` (with `path`, the ONNX "
                                  + "file)")
        }
        let path = try model.require(model.text("path"), "path")
        var spec = ModelSpec(path: ConfigPath.resolve(path, against: baseDirectory),
                             input: try model.text("input"), output: try model.text("output"),
                             precision: try model.choice("precision", ModelPrecision.self) ?? .float32)
        if let (version, value) = try model.typed("version", "a string", \.string) {
            guard ModelSpec.isValidVersion(version) else {
                throw model.invalid(model.keyPath("version"), "must be 1 to 64 letters, digits, '.', '_' or '-', found \"\(version)\"",
                                    at: value.position)
            }
            spec.version = version
        }
        return spec
    }

    /// Rejects the second occurrence of any string in `items`.
    ///
    /// Strings compare by their UTF-8 bytes, as Python does (Swift's `==` would also match
    /// canonically equivalent spellings, such as "é" and "e\u{301}", which are two categories or
    /// two vocabulary terms for scikit-learn).
    /// - Parameter consequence: what the repeat would do, said after the positions (nil: nothing).
    func checkUnique(_ items: [PositionedString], _ table: TableReader, _ key: String,
                     consequence: ((String) -> String)? = nil) throws(ConfigError)
    {
        var seen: [[UInt8]: SourcePosition] = [:]
        for (i, (item, position)) in items.enumerated() {
            if let first = seen[Array(item.utf8)] {
                throw table.invalid("\(table.keyPath(key))[\(i)]", "repeats \"\(item)\" (first at "
                                    + "\(first))" + (consequence.map { ": " + $0(item) } ?? ""), at: position)
            }
            seen[Array(item.utf8)] = position
        }
    }
}

/// Hints about the input schema for error messages.
enum Schema {
    /// "; did you mean `x`?" or " (input fields: a, b)".
    static func hint(_ name: String, _ schema: InputSpec) -> String {
        let names = schema.fields.map(\.name)
        let suggestion = Suggestion.didYouMean(name, in: names)
        return suggestion.isEmpty ? " (input fields: " + names.joined(separator: ", ") + ")"
            : suggestion
    }
}
