import Config
import Testing

/// One name written twice in an output record (a JSON key, a CSV column) is refused at the
/// passthrough entry that repeats it.
@Suite struct OutputNameTests {
    /// `ValidationCase.base` plus schema fields named like the output's own.
    static let base = ValidationCase.base + """

        [[input.field]]
        name = "score"
        type = "float"
        [[input.field]]
        name = "label"
        type = "string"
        [[input.field]]
        name = "p_fraud"
        type = "float"
        [[input.field]]
        name = "p_1"
        type = "float"
        """

    static let collisions: [ValidationCase] = [
        .init("[output]\npassthrough = [\"id\", \"score\"]\nfields = [\"label\", \"score\"]", base: base, 2, 22, .invalidValue,
              "`output.passthrough[1]` names \"score\", which `output.fields` also writes: each output record would have "
                  + "two \"score\" keys; drop \"score\" from `output.passthrough` or from `output.fields`"),
        .init("[output]\npassthrough = [\"label\"]", base: base, 2, 16, .invalidValue,
              "`output.passthrough[0]` names \"label\", which `output.fields` also writes (by default: label, score): each "
                  + "output record would have two \"label\" keys; drop \"label\" from `output.passthrough`, or set "
                  + "`output.fields` without it"),
        .init("[output]\nformat = \"csv\"\npassthrough = [\"score\"]", base: base, 3, 16, .invalidValue,
              "`output.passthrough[0]` names \"score\", which `output.fields` also writes (by default: label, score): the "
                  + "CSV header would have two \"score\" columns; drop \"score\" from `output.passthrough`, or set "
                  + "`output.fields` without it"),
        .init("[output]\nformat = \"csv\"\npassthrough = [\"p_fraud\"]\nlabels = [\"legit\", \"fraud\"]\n"
                  + "fields = [\"probabilities\"]", base: base, 3, 16, .invalidValue,
              "`output.passthrough[0]` names \"p_fraud\", the CSV column of the probability of class \"fraud\": the CSV "
                  + "header would have two \"p_fraud\" columns; drop \"p_fraud\" from `output.passthrough`, rename the class "
                  + "in `output.labels`, or drop \"probabilities\" from `output.fields`"),
    ]

    @Test(arguments: collisions)
    func refusedAtThePassthroughEntry(_ test: ValidationCase) throws {
        let error = try #require(configError(test.text))
        #expect(error.message == test.message)
        #expect(error.position == at(test.line, test.column))
        #expect(error.kind == test.kind)
    }

    /// Names that only look alike, or that meet in one format only, are fine.
    @Test(arguments: [
        "[output]\npassthrough = [\"score\"]\nfields = [\"label\"]",
        "[output]\npassthrough = [\"p_fraud\"]\nlabels = [\"legit\", \"fraud\"]\nfields = [\"probabilities\"]",
        "[output]\nformat = \"csv\"\npassthrough = [\"p_fraud\"]\nlabels = [\"legit\", \"fraud\"]\nfields = [\"label\"]",
        "[output]\nformat = \"csv\"\npassthrough = [\"p_1\"]\nlabels = [\"legit\", \"fraud\"]\nfields = [\"probabilities\"]",
    ])
    func namesThatDoNotMeetAreAccepted(_ snippet: String) throws {
        let config = try parseConfig(snippet + "\n" + Self.base)
        #expect(!config.output.passthrough.isEmpty)
    }

    /// Without `labels` the CSV columns are p_0, p_1, …: checked once the model's width is known.
    @Test func indexColumnsAreCheckedWithTheModelsWidth() throws {
        let text = "[output]\nformat = \"csv\"\npassthrough = [\"id\", \"p_1\"]\nfields = [\"probabilities\"]\n" + Self.base
        _ = try parseConfig(text)
        #expect(throws: Never.self) { try PipelineConfig.parse(text: text, path: testFile, model: ModelOutput(width: 1)) }
        let error = try #require(throws: ConfigError.self) {
            try PipelineConfig.parse(text: text, path: testFile, model: ModelOutput(width: 2))
        }
        #expect(error.position == at(3, 22))
        #expect(error.message == "`output.passthrough[1]` names \"p_1\", the CSV column of the probability of class 1: "
                + "the CSV header would have two \"p_1\" columns; drop \"p_1\" from `output.passthrough`, name the classes "
                + "with `output.labels`, or drop \"probabilities\" from `output.fields`")
    }
}
