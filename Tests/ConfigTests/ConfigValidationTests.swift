import Config
import Testing

/// A configuration the loader must reject, and exactly where and why.
struct ValidationCase: CustomTestStringConvertible, Sendable {
    let text: String
    let line: Int
    let column: Int
    let kind: ConfigError.Kind
    let message: String
    var testDescription: String { message }

    /// `snippet` placed before `base` (so the snippet's lines are lines 1, 2, …).
    init(_ snippet: String, base: String = ValidationCase.base, _ line: Int, _ column: Int,
         _ kind: ConfigError.Kind, _ message: String) {
        text = snippet + "\n" + base
        self.line = line
        self.column = column
        self.kind = kind
        self.message = message
    }

    /// A valid configuration with four fields: amount (float), id (int), country (string),
    /// flag (bool).
    static let schema = """
        [[input.field]]
        name = "amount"
        type = "float"
        [[input.field]]
        name = "id"
        type = "int"
        [[input.field]]
        name = "country"
        type = "string"
        [[input.field]]
        name = "flag"
        type = "bool"
        """
    static let feature = "[[feature]]\nfield = \"amount\"\nkind = \"identity\""
    static let model = "[model]\npath = \"m.onnx\""
    static let base = [schema, feature, model].joined(separator: "\n")
    static let noModel = [schema, feature].joined(separator: "\n")
    static let noFeature = [schema, model].joined(separator: "\n")
    static let noSchema = [feature, model].joined(separator: "\n")
}

@Suite struct ConfigValidationTests {
    static let pipelineAndInput: [ValidationCase] = [
        .init("[pipeline]\nbatch_rows = 0", 2, 14, .invalidValue,
              "`pipeline.batch_rows` must be in 1...65536, found 0"),
        .init("[pipeline]\nlinger_ms = 10001", 2, 13, .invalidValue,
              "`pipeline.linger_ms` must be in 0...10000, found 10001"),
        .init("[pipeline]\nlinger_ms = \"2\"", 2, 13, .typeMismatch,
              "`pipeline.linger_ms` must be an integer, found a string"),
        .init("[pipeline]\nwindow = 2.0", 2, 10, .typeMismatch,
              "`pipeline.window` must be an integer, found a float"),
        .init("[pipeline]\nbatchRows = 5", 2, 1, .unknownKey,
              "unknown key `pipeline.batchRows`; did you mean `batch_rows`?"),
        .init("[pipeline]\nwindw = 5", 2, 1, .unknownKey,
              "unknown key `pipeline.windw`; did you mean `window`?"),
        .init("[pipeline]\ncolor = 1", 2, 1, .unknownKey,
              "unknown key `pipeline.color` (expected one of: name, batch_rows, linger_ms, window)"),
        .init("[pipeline]\nname = \"a/b\"", 2, 8, .invalidValue,
              "`pipeline.name` may only contain letters, digits, `.`, `_` and `-` (it names a "
                  + "directory), found `/` in \"a/b\""),
        .init("[pipeline]\nname = \"..\"", 2, 8, .invalidValue,
              "`pipeline.name` must not start with `.`, found \"..\""),
        .init("[pipelne]\nname = \"x\"", 1, 2, .unknownKey,
              "unknown table `[pipelne]`; did you mean `[pipeline]`?"),
        .init("pipeline = 5", 1, 12, .typeMismatch, "`pipeline` must be a table, found an integer"),
        .init("name = \"x\"", 1, 1, .unknownKey,
              "unknown key `name` (expected one of: pipeline, input, feature, model, output, stage, metrics, autoscale, drift)"),
        .init("[autoscale]\ntarget = 0", 2, 10, .invalidValue, "`autoscale.target` must be from 0.1 to 0.95, found 0.0"),
        .init("[autoscale]\ntargets = 0.5", 2, 1, .unknownKey, "unknown key `autoscale.targets`; did you mean `target`?"),
        .init("[input]\nformat = \"json\"", 2, 10, .invalidValue,
              "`input.format` must be one of \"jsonl\", \"csv\", found \"json\"; did you mean `jsonl`?"),
        .init("[input]\nmax_errors = -2", 2, 14, .invalidValue,
              "`input.max_errors` must be at least -1, found -2"),
        .init("[input]\nmax_line_bytes = 100", 2, 18, .invalidValue,
              "`input.max_line_bytes` must be in 1024...33554432 (1 KiB...32 MiB), found 100"),
        .init("[[input.fields]]\nname = \"x\"", 1, 9, .unknownKey,
              "unknown table `[[input.fields]]`; did you mean `[[input.field]]`?"),
        .init("[input.field]\nname = \"x\"\ntype = \"int\"", base: ValidationCase.noSchema, 1, 1,
              .typeMismatch, "`input.field` must be an array of tables (`[[input.field]]`), found a table"),
        .init("[[input.field]]\nname = \"amount\"\ntype = \"int\"", 5, 8, .invalidValue,
              "`input.field[1].name` repeats the field name \"amount\" (first at 2:8)"),
        .init("[[input.field]]\nname = \"x\"\ntype = \"double\"", 3, 8, .invalidValue,
              "`input.field[0].type` must be one of \"float\", \"int\", \"string\", \"bool\", found \"double\""),
        .init("[[input.field]]\nname = \"x\"\ntype = \"Float\"", 3, 8, .invalidValue,
              "`input.field[0].type` must be one of \"float\", \"int\", \"string\", \"bool\", found \"Float\"; "
                  + "did you mean `float`?"),
        .init("[[input.field]]\nname = \"x\"", 1, 1, .missingKey,
              "missing required key `input.field[0].type` in the `[[input.field]]` table at line 1"),
        .init("[[input.field]]\nname = \"\"\ntype = \"int\"", 2, 8, .invalidValue,
              "`input.field[0].name` must not be empty"),
        .init("[[input.field]]\nname = \"x\"\ntype = \"int\"\nrequired = \"yes\"", 4, 12, .typeMismatch,
              "`input.field[0].required` must be a boolean, found a string"),
        .init("", base: ValidationCase.noSchema, 1, 1, .missingKey,
              "missing `[[input.field]]`: the input schema needs at least one field"),
        .init("\n[input]\nformat = \"csv\"", base: ValidationCase.noSchema, 2, 1, .missingKey,
              "missing `[[input.field]]` in the `[input]` table at line 2: the input schema needs at "
                  + "least one field"),
        .init("input.field = []", base: ValidationCase.noSchema, 1, 15, .invalidValue,
              "`input.field` must not be empty: the input schema needs at least one field"),
    ]

    static let features: [ValidationCase] = [
        .init("[[feature]]\nfield = \"country\"\nkind = \"standardize\"\nmean = 1\nstd = 2", 2, 9,
              .invalidValue, "`feature[0].field` names \"country\", a string field, but kind "
                  + "\"standardize\" needs a field of type float, int, bool"),
        .init("[[feature]]\nfield = \"amount\"\nkind = \"standardize\"\nmean = 1\nstd = -1", 5, 7,
              .invalidValue, "`feature[0].std` must be >= 0, found -1.0"),
        .init("[[feature]]\nfield = \"amount\"\nkind = \"standardize\"\nmean = 1", 1, 1, .missingKey,
              "missing required key `feature[0].std` in the `[[feature]]` table at line 1"),
        .init("[[feature]]\nfield = \"amount\"\nkind = \"standardize\"\nmean = \"1\"\nstd = 1", 4, 8,
              .typeMismatch, "`feature[0].mean` must be a number, found a string"),
        .init("[[feature]]\nfield = \"amount\"\nkind = \"standardize\"\nmean = nan\nstd = 1", 4, 8,
              .invalidValue, "`feature[0].mean` must be a finite number, found nan"),
        .init("[[feature]]\nfield = \"amount\"\nkind = \"minmax\"\nmin = 2\nmax = 1", 5, 7,
              .invalidValue, "`feature[0].max` (1.0) must be >= `feature[0].min` (2.0)"),
        .init("[[feature]]\nfield = \"amount\"\nkind = \"minmax\"\nmin = 0\nmax = 1\nmean = 3", 6, 1,
              .unknownKey, "`feature[0].mean` does not apply to kind \"minmax\", which takes only "
                  + "`min`, `max`, `feature_range`, `clip`, `fill`"),
        .init("[[feature]]\nfield = \"amount\"\nkind = \"identity\"\nstd = 2", 4, 1, .unknownKey,
              "`feature[0].std` does not apply to kind \"identity\", which takes only `fill`"),
        .init("[[feature]]\nfield = \"amount\"\nkind = \"identity\"\nscale = 2", 4, 1, .unknownKey,
              "unknown key `feature[0].scale` (expected one of: field, kind, fill)"),
        .init("[[feature]]\nfield = \"amount\"\nkind = \"identity\"\ncategoris = []", 4, 1, .unknownKey,
              "unknown key `feature[0].categoris`; did you mean `categories`?"),
        .init("[[feature]]\nfield = \"amount\"\nkind = \"standardise\"", 3, 8, .invalidValue,
              "`feature[0].kind` must be one of \"identity\", \"impute\", \"standardize\", \"minmax\", "
                  + "\"log1p\", \"bucketize\", \"onehot\", \"hash\", \"text_hash\", \"tfidf\", found \"standardise\"; "
                  + "did you mean `standardize`?"),
        .init("[[feature]]\nfield = \"countri\"\nkind = \"onehot\"", 2, 9, .invalidValue,
              "`feature[0].field` names \"countri\", which is not an input field; did you mean `country`?"),
        .init("[[feature]]\nfield = \"zzz\"\nkind = \"identity\"", 2, 9, .invalidValue,
              "`feature[0].field` names \"zzz\", which is not an input field (input fields: amount, id, "
                  + "country, flag)"),
        .init("[[feature]]\nkind = \"identity\"", 1, 1, .missingKey,
              "missing required key `feature[0].field` in the `[[feature]]` table at line 1"),
        .init("\n\n[[feature]]\nfield = \"amount\"", 3, 1, .missingKey,
              "missing required key `feature[0].kind` in the `[[feature]]` table at line 3"),
        .init("[[feature]]\nfield = \"country\"\nkind = \"onehot\"\ncategories = []", 4, 14,
              .invalidValue, "`feature[0].categories` must not be empty"),
        .init("[[feature]]\nfield = \"country\"\nkind = \"onehot\"\ncategories = [\"US\", \"DE\", \"US\"]",
              4, 27, .invalidValue, "`feature[0].categories[2]` repeats \"US\" (first at 4:15)"),
        .init("[[feature]]\nfield = \"country\"\nkind = \"onehot\"\ncategories = [\"US\", 1]", 4, 21,
              .typeMismatch, "`feature[0].categories[1]` must be a string, found an integer"),
        .init("[[feature]]\nfield = \"country\"\nkind = \"onehot\"\ncategories = \"US\"", 4, 14,
              .typeMismatch, "`feature[0].categories` must be an array of strings, found a string"),
        .init("[[feature]]\nfield = \"id\"\nkind = \"onehot\"\ncategories = [\"1\", \"x\"]", 4, 20,
              .invalidValue, "`feature[0].categories[1]` is \"x\", which can never match the int field "
                  + "\"id\": write categories of an int field as decimal integers"),
        .init("[[feature]]\nfield = \"flag\"\nkind = \"onehot\"\ncategories = [\"true\"]", 2, 9,
              .invalidValue, "`feature[0].field` names \"flag\", a bool field, but kind \"onehot\" "
                  + "needs a field of type string, int"),
        .init("[[feature]]\nfield = \"country\"\nkind = \"hash\"\nbuckets = 0", 4, 11, .invalidValue,
              "`feature[0].buckets` must be in 1...16777216 (up to 2^24), found 0"),
        .init("[[feature]]\nfield = \"country\"\nkind = \"hash\"\nbuckets = 16_777_217", 4, 11,
              .invalidValue, "`feature[0].buckets` must be in 1...16777216 (up to 2^24), found 16777217"),
        .init("[[feature]]\nfield = \"country\"\nkind = \"hash\"\nbuckets = 8.0", 4, 11, .typeMismatch,
              "`feature[0].buckets` must be an integer, found a float"),
        .init("[[feature]]\nfield = \"id\"\nkind = \"hash\"\nbuckets = 8", 2, 9, .invalidValue,
              "`feature[0].field` names \"id\", an int field, but kind \"hash\" needs a field of type string"),
        .init("[[feature]]\nfield = \"country\"\nkind = \"hash\"", 1, 1, .missingKey,
              "missing required key `feature[0].n_features` in the `[[feature]]` table at line 1"),
        .init("", base: ValidationCase.noFeature, 1, 1, .missingKey,
              "missing `[[feature]]`: at least one feature is needed"),
        .init("feature = []", base: ValidationCase.noFeature, 1, 11, .invalidValue,
              "`feature` must not be empty: at least one feature is needed"),
        .init("[feature]\nfield = \"amount\"\nkind = \"identity\"", base: ValidationCase.noFeature, 1, 1,
              .typeMismatch, "`feature` must be an array of tables (`[[feature]]`), found a table"),
        .init("feature = [1]", base: ValidationCase.noFeature, 1, 12, .typeMismatch,
              "`feature[0]` must be a table, found an integer"),
    ]

    static let modelOutputStages: [ValidationCase] = [
        .init("", base: ValidationCase.noModel, 1, 1, .missingKey,
              "missing required table `[model]` (with `path`, the ONNX file)"),
        .init("[model]\ninput = \"x\"", base: ValidationCase.noModel, 1, 1, .missingKey,
              "missing required key `model.path` in the `[model]` table at line 1"),
        .init("[model]\npath = 5", base: ValidationCase.noModel, 2, 8, .typeMismatch,
              "`model.path` must be a string, found an integer"),
        .init("[model]\npath = \"\"", base: ValidationCase.noModel, 2, 8, .invalidValue,
              "`model.path` must not be empty"),
        .init("[model]\npath = \"m\"\npth = 1", base: ValidationCase.noModel, 3, 1, .unknownKey,
              "unknown key `model.pth`; did you mean `path`?"),
        .init("[modle]\npath = \"x\"", 1, 2, .unknownKey, "unknown table `[modle]`; did you mean `[model]`?"),
        .init("[output]\nformat = \"JSONL\"", 2, 10, .invalidValue,
              "`output.format` must be one of \"jsonl\", \"csv\", found \"JSONL\"; did you mean `jsonl`?"),
        .init("[output]\npassthrough = [\"idd\"]", 2, 16, .invalidValue,
              "`output.passthrough[0]` names \"idd\", which is not an input field; did you mean `id`?"),
        .init("[output]\npassthrough = [\"id\", \"id\"]", 2, 22, .invalidValue,
              "`output.passthrough[1]` repeats \"id\" (first at 2:16): each output record would have it twice; "
                  + "list \"id\" once"),
        .init("[output]\npassthrough = \"id\"", 2, 15, .typeMismatch,
              "`output.passthrough` must be an array of strings, found a string"),
        .init("[output]\nlabels = []", 2, 10, .invalidValue,
              "`output.labels` must not be empty (leave it out to print class indices)"),
        .init("[output]\nlabels = [0.0, 1.0]", 2, 11, .typeMismatch,
              "`output.labels[0]` must be a string or an integer, found a float"),
        .init("[output]\nlabels = \"legit\"", 2, 10, .typeMismatch,
              "`output.labels` must be an array of strings or of integers, found a string"),
        .init("[output]\nlabels = [0, \"fraud\"]", 2, 14, .invalidValue,
              "`output.labels[1]` is a string but `output.labels[0]` is an integer: write every class as an integer "
                  + "(`[0, 1]`, written as JSON numbers) or every one as a string (`[\"legit\", \"fraud\"]`)"),
        .init("[output]\nlabels = [\"a\", \"b\", \"a\"]", 2, 21, .invalidValue,
              "`output.labels[2]` repeats \"a\" (first at 2:11): two classes would have one name"),
        .init("[output]\nlabels = [1, 0, 1]", 2, 17, .invalidValue,
              "`output.labels[2]` repeats 1 (first at 2:11): two classes would have one name"),
        .init("[output]\nfields = [\"label\", \"scores\"]", 2, 20, .invalidValue,
              "`output.fields[1]` must be one of \"label\", \"score\", \"probabilities\", \"prediction\", \"model_version\", "
                  + "found \"scores\"; did you mean `score`?"),
        .init("[output]\nfields = [\"label\", \"label\"]", 2, 20, .invalidValue,
              "`output.fields[1]` repeats \"label\" (first at 2:11)"),
        .init("[output]\nfields = []", 2, 10, .invalidValue, "`output.fields` must not be empty"),
        .init("[output]\nlabel = [\"a\"]", 2, 1, .unknownKey,
              "unknown key `output.label`; did you mean `labels`?"),
        .init("[stage.infer]\nreplicas = 0", 2, 12, .invalidValue,
              "`stage.infer.replicas` must be in 1...64, found 0"),
        .init("[stage.infer]\nreplicas = 65", 2, 12, .invalidValue,
              "`stage.infer.replicas` must be in 1...64, found 65"),
        .init("[stage.infr]\nreplicas = 2", 1, 8, .unknownKey,
              "unknown table `[stage.infr]`; did you mean `[stage.infer]`?"),
        .init("[stage.Infer]\nreplicas = 2", 1, 8, .unknownKey,
              "unknown table `[stage.Infer]`; did you mean `[stage.infer]`?"),
        .init("[stages.infer]\nreplicas = 2", 1, 2, .unknownKey,
              "unknown table `[stages]`; did you mean `[stage]`?"),
        .init("[stage.infer]\nrestart = { max = -1, within_s = 30 }", 2, 19, .invalidValue,
              "`stage.infer.restart.max` must be at least 0, found -1"),
        .init("[stage.infer]\nrestart = { max = 1, within_s = 0 }", 2, 33, .invalidValue,
              "`stage.infer.restart.within_s` must be > 0, found 0.0"),
        .init("[stage.infer]\nrestart = { max = 1, within = 3 }", 2, 22, .unknownKey,
              "unknown key `stage.infer.restart.within`; did you mean `within_s`?"),
        .init("[stage.infer]\nrestart = 5", 2, 11, .typeMismatch,
              "`stage.infer.restart` must be a table, found an integer"),
        .init("[stage.infer.restart]\nmax = \"5\"", 2, 7, .typeMismatch,
              "`stage.infer.restart.max` must be an integer, found a string"),
        .init("[stage]\ninfer = 2", 2, 9, .typeMismatch, "`stage.infer` must be a table, found an integer"),
        .init("stage.infer.replicas = 2\nstage.ingest.replica = 1", 2, 14, .unknownKey,
              "unknown key `stage.ingest.replica`; did you mean `replicas`?"),
    ]

    @Test(arguments: pipelineAndInput + features + modelOutputStages)
    func rejectsWithMessageAndPosition(_ test: ValidationCase) throws {
        let error = try #require(configError(test.text))
        #expect(error.message == test.message)
        #expect(error.position == at(test.line, test.column))
        #expect(error.kind == test.kind)
        #expect(error.description == "\(testFile):\(test.line):\(test.column): \(test.message)")
    }

    @Test func theBaseDocumentsAreValidWithoutTheBrokenPart() throws {
        _ = try parseConfig(ValidationCase.base)
    }
}
