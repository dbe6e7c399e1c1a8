import Config
import Testing

/// The mapping of valid files onto `PipelineConfig`: the DESIGN.md example, defaults, paths.
@Suite struct ConfigLoaderTests {
    /// DESIGN.md section 5, verbatim except for the `id` and `country` fields, which the example
    /// uses (passthrough, one-hot) but leaves out of its abbreviated schema.
    static let designExample = """
        [pipeline]
        name = "demo"          # run-dir name; default: the config's directory name
        batch_rows = 256       # rows per batch
        linger_ms = 2          # longest wait to fill a batch while input keeps coming
        window = 64            # most batches in flight (uncommitted) at once

        [input]
        format = "jsonl"       # "jsonl" | "csv" (csv: first line is the header)
        max_errors = -1        # stop after this many rejected records; -1 = never

        [[input.field]]        # the schema; fields not listed are ignored
        name = "amount"
        type = "float"         # float | int | string | bool
        required = true        # missing or null: reject the record (false: NaN / "")

        [[input.field]]
        name = "id"
        type = "int"

        [[input.field]]
        name = "country"
        type = "string"
        required = false

        [[feature]]            # in order: their outputs, concatenated, are the model input
        field = "amount"
        kind = "standardize"   # identity | standardize | minmax | onehot | hash | …
        mean = 52.0
        std = 30.0

        [[feature]]
        field = "country"
        kind = "onehot"
        categories = ["US", "DE", "FR"]   # unknown category: all zeros

        [model]
        path = "../models/demo.onnx"      # ONNX file
        # input = "x"; output = "probabilities"   default: first input, first float output

        [output]
        format = "jsonl"                  # "jsonl" | "csv"
        passthrough = ["id"]              # input fields copied to each output record, first
        labels = ["legit", "fraud"]       # optional class names
        fields = ["label", "score"]       # any of: label, score, probabilities, prediction

        [stage.infer]                     # one table per stage; all optional
        replicas = 2                      # default 1
        restart = { max = 5, within_s = 30 }
        """

    @Test func designExampleParsesToTheExpectedModel() throws {
        let config = try parseConfig(Self.designExample, path: "/srv/pipeline/demo/pipeline.toml")
        let expected = PipelineConfig(
            pipeline: PipelineSection(name: "demo", batchRows: 256, lingerMs: 2, window: 64),
            input: InputSpec(format: .jsonl, maxErrors: -1, maxLineBytes: 1 << 20, fields: [
                FieldSpec(name: "amount", type: .float, required: true),
                FieldSpec(name: "id", type: .int),
                FieldSpec(name: "country", type: .string, required: false),
            ]),
            features: [
                FeatureSpec(field: "amount", kind: .standardize(mean: 52, std: 30), line: 25),
                FeatureSpec(field: "country", kind: .onehot(categories: ["US", "DE", "FR"]),
                            line: 31),
            ],
            model: ModelSpec(path: "/srv/pipeline/models/demo.onnx"),
            output: OutputSpec(format: .jsonl, passthrough: ["id"], labels: ["legit", "fraud"],
                               fields: [.label, .score]),
            stages: [.ingest: StageSpec(), .featurize: StageSpec(),
                     .infer: StageSpec(replicas: 2, maxRestarts: 5, restartWindowSeconds: 30),
                     .aggregate: StageSpec()],
            baseDirectory: "/srv/pipeline/demo")
        var written = expected
        written.input.maxErrorsSet = true  // the example writes max_errors
        #expect(config == written)
        #expect(config.features.map(\.width) == [1, 3])
    }

    @Test func autoscaleTableTakesEveryKnobAndDefaultsTheRest() throws {
        #expect(try parseConfig(minimalSchema, path: "/p/pipeline.toml").autoscale == nil, "no table: not autoscaled")
        let all = try parseConfig(minimalSchema + "\n[autoscale]\ncores = 3\ntarget = 0.7\ninterval_s = 0.25\nscale_up_after_s = 2\nscale_down_after_s = 60\n",
                                  path: "/p/pipeline.toml").autoscale
        #expect(all?.cores == 3 && all?.target == 0.7 && all?.intervalSeconds == 0.25 && all?.scaleUpAfterSeconds == 2
                && all?.scaleDownAfterSeconds == 60)
        let empty = try parseConfig(minimalSchema + "\n[autoscale]\n", path: "/p/pipeline.toml").autoscale
        #expect(empty == AutoscaleSpec() && empty?.cores == nil && empty?.target == 0.6 && empty?.intervalSeconds == 0.5
                && empty?.scaleUpAfterSeconds == 1 && empty?.scaleDownAfterSeconds == 30)
        #expect(throws: ConfigError.self) { try PipelineConfig.parse(text: minimalSchema + "\n[autoscale]\ntarget = 1.5\n", path: "/p/pipeline.toml") }
    }

    @Test func modelPrecisionDefaultsToFloat32AndNamesItsChoices() throws {
        #expect(try parseConfig(minimalSchema).model.precision == .float32)
        for precision in ModelPrecision.allCases {
            let text = minimalSchema + "precision = \"\(precision.rawValue)\"\n"  // [model] is the last table
            #expect(try parseConfig(text).model.precision == precision)
        }
        let bad = minimalSchema + "precision = \"int4\"\n"
        #expect(configError(bad)?.message.contains("must be one of \"float32\", \"int8\", \"bf16\", found \"int4\"; did you mean `int8`?") == true)
    }

    @Test func minimalFileGetsEveryDefault() throws {
        let config = try parseConfig(minimalSchema, path: "/home/u/fraud-demo/pipeline.toml")
        #expect(config.pipeline == PipelineSection(name: "fraud-demo"))
        #expect(config.pipeline.batchRows == 256 && config.pipeline.lingerMs == 2
                && config.pipeline.window == 64)
        #expect(config.input.format == .jsonl)
        #expect(config.input.maxErrors == -1)
        #expect(config.input.maxLineBytes == 1 << 20)
        #expect(config.input.fields == [FieldSpec(name: "amount", type: .float, required: true)])
        #expect(config.features == [FeatureSpec(field: "amount", kind: .identity, line: 5)])
        #expect(config.model == ModelSpec(path: "/home/u/fraud-demo/model.onnx"))
        #expect(config.output == OutputSpec())
        #expect(config.output.fields == [.label, .score] && config.output.labels == nil)
        #expect(config.stages.count == 4)
        for kind in StageKind.allCases {
            #expect(config.stage(kind) == StageSpec(replicas: 1, maxRestarts: 5,
                                                    restartWindowSeconds: 30))
        }
        #expect(config.baseDirectory == "/home/u/fraud-demo")
    }

    @Test(arguments: [
        ("/a/b/pipeline.toml", "b"),
        ("/pipeline.toml", "pipeline"),
        ("/x/my project!/p.toml", "my-project-"),
        ("/x/.hidden/p.toml", "hidden"),
        ("/x/y/./z/../p.toml", "y"),
    ])
    func defaultNameIsTheDirectoryName(path: String, name: String) throws {
        #expect(try parseConfig(minimalSchema, path: path).pipeline.name == name)
    }

    @Test(arguments: [
        ("model.onnx", "/cfg/demo/model.onnx"),
        ("./models/m.onnx", "/cfg/demo/models/m.onnx"),
        ("../models/m.onnx", "/cfg/models/m.onnx"),
        ("../../../../m.onnx", "/m.onnx"),
        ("a//b/./c/../m.onnx", "/cfg/demo/a/b/m.onnx"),
        ("/abs/./x/../m.onnx", "/abs/m.onnx"),
        ("dir with space/m.onnx", "/cfg/demo/dir with space/m.onnx"),
    ])
    func modelPathIsResolvedAgainstTheConfigDirectory(written: String, resolved: String) throws {
        let text = minimalSchema.replacingModelPath(with: written)
        let config = try parseConfig(text, path: "/cfg/demo/pipeline.toml")
        #expect(config.model.path == resolved)
    }

    @Test func configPathWithDotsIsNormalizedFirst() throws {
        let config = try parseConfig(minimalSchema, path: "/cfg//demo/../demo/./pipeline.toml")
        #expect(config.baseDirectory == "/cfg/demo")
        #expect(config.model.path == "/cfg/demo/model.onnx")
    }

    @Test func everyOptionalKeyIsRead() throws {
        let config = try parseConfig("""
            [pipeline]
            batch_rows = 1
            linger_ms = 0
            window = 4096
            [input]
            format = "csv"
            max_errors = 10
            max_line_bytes = 0x400
            [[input.field]]
            name = "amount"
            type = "float"
            required = false
            [[feature]]
            field = "amount"
            kind = "identity"
            [[feature]]
            field = "amount"
            kind = "minmax"
            min = -1            # integers are accepted where floats are expected
            max = 1.5e1
            [[feature]]
            field = "amount"
            kind = "standardize"
            mean = 0
            std = 0             # allowed: featurize treats 0 as 1
            [model]
            path = "m.onnx"
            input = "x"
            output = "probabilities"
            [output]
            format = "csv"
            fields = ["prediction", "probabilities"]
            labels = ["a"]
            passthrough = ["amount"]
            [stage.ingest]
            replicas = 64
            [stage.featurize.restart]
            max = 0
            within_s = 0.5
            [stage.aggregate]
            restart.max = 9
            """)
        #expect(config.pipeline.batchRows == 1 && config.pipeline.lingerMs == 0)
        #expect(config.pipeline.window == 4096)
        #expect(config.input.format == .csv && config.input.maxErrors == 10)
        #expect(config.input.maxLineBytes == 1024)
        #expect(config.input.fields == [FieldSpec(name: "amount", type: .float, required: false)])
        #expect(config.features.map(\.kind) == [.identity, .minmax(min: -1, max: 15),
                                                  .standardize(mean: 0, std: 0)])
        #expect(config.features.map(\.line) == [13, 16, 21])
        #expect(config.model == ModelSpec(path: "/cfg/demo/m.onnx", input: "x",
                                          output: "probabilities"))
        #expect(config.output == OutputSpec(format: .csv, passthrough: ["amount"], labels: ["a"],
                                            fields: [.prediction, .probabilities]))
        #expect(config.stage(.ingest) == StageSpec(replicas: 64))
        #expect(config.stage(.featurize) == StageSpec(maxRestarts: 0, restartWindowSeconds: 0.5))
        #expect(config.stage(.infer) == StageSpec())
        #expect(config.stage(.aggregate) == StageSpec(maxRestarts: 9))
    }

    @Test func featuresMayBeAnArrayOfInlineTables() throws {
        let schema = minimalSchema.replacingOccurrences("""
            [[feature]]
            field = "amount"
            kind = "identity"

            """, with: "")
        let config = try parseConfig("""
            feature = [
              { field = "amount", kind = "minmax", min = 0, max = 1 },
              { field = "amount", kind = "identity" },
            ]
            \(schema)
            """)
        #expect(config.features == [
            FeatureSpec(field: "amount", kind: .minmax(min: 0, max: 1), line: 2),
            FeatureSpec(field: "amount", kind: .identity, line: 3),
        ])
    }

    @Test func aKeyAfterATableHeaderBelongsToThatTable() throws {
        // A classic TOML slip: `feature = [...]` written below `[[input.field]]` is a key of
        // that field, and the error says so.
        let error = try #require(configError(minimalSchema.replacingOccurrences(
            "type = \"float\"", with: "type = \"float\"\nfeature = []")))
        #expect(error.message == "unknown key `input.field[0].feature` (expected one of: name, "
                + "type, required)")
        #expect(error.position == at(4, 1))
    }

    @Test func onehotOfAnIntFieldMatchesDecimalText() throws {
        let text = minimalSchema.replacingOccurrences("""
            field = "amount"
            kind = "identity"
            """, with: """
            field = "amount"
            kind = "onehot"
            categories = ["-1", "0", "42"]
            """).replacingOccurrences("type = \"float\"", with: "type = \"int\"")
        let config = try parseConfig(text)
        #expect(config.features[0].kind == .onehot(categories: ["-1", "0", "42"]))
    }

    @Test func stagesMayBeWrittenWithDottedKeysAtTheTop() throws {
        let config = try parseConfig("""
            stage.infer.replicas = 3
            stage.infer.restart = { max = 1 }
            \(minimalSchema)
            [stage.ingest]
            replicas = 2
            """)
        #expect(config.stage(.infer) == StageSpec(replicas: 3, maxRestarts: 1))
        #expect(config.stage(.ingest) == StageSpec(replicas: 2))
    }

    @Test func rawBytesAreCheckedForUTF8() throws {
        var bytes = Array(minimalSchema.utf8)
        bytes += Array("[output]\nlabels = [\"ok\", \"".utf8) + [0xC3, 0x28] + Array("\"]\n".utf8)
        do throws(ConfigError) {
            _ = try PipelineConfig.parse(bytes: bytes, path: testFile)
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            #expect(error.description == "\(testFile):12:18: invalid UTF-8 (byte 0xC3)")
        }
    }
}

extension String {
    /// A copy with every `target` replaced (no Foundation in this test target).
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }

    func replacingModelPath(with path: String) -> String {
        replacingOccurrences("path = \"model.onnx\"", with: "path = '\(path)'")
    }
}
