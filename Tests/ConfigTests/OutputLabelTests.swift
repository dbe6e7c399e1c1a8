import Config
import Messages
import Testing

/// `output.labels`: integers stay integers, strings stay strings, and without any the model's
/// own classes are used once the model is known.
@Suite struct OutputLabelTests {
    static func config(_ output: String) -> String { "[output]\n" + output + "\n" + ValidationCase.base }

    @Test func integerLabelsAreIntegers() throws {
        let config = try parseConfig(Self.config("labels = [0, 1, -7]"))
        #expect(config.output.labels == [.int(0), .int(1), .int(-7)])
        #expect(config.output.labels?.map(\.isInteger) == [true, true, true])
    }

    @Test func stringLabelsAreStringsEvenWhenTheyLookLikeNumbers() throws {
        let config = try parseConfig(Self.config("labels = [\"0\", \"1\"]"))
        #expect(config.output.labels == [.string("0"), .string("1")])
    }

    @Test func withoutTheModelTheConfigHasNoLabelsOfItsOwn() throws {
        #expect(try parseConfig(Self.config("fields = [\"label\"]")).output.labels == nil)
        #expect(try parseConfig(ValidationCase.base).output.labels == nil)
    }

    /// The model's classes fill in what the config leaves out, and only that.
    @Test func theModelsClassesWhenTheConfigNamesNone() throws {
        let model = ModelOutput(width: 2, classLabels: [3, 7])
        for text in [Self.config("fields = [\"label\"]"), ValidationCase.base] {
            let config = try PipelineConfig.parse(text: text, path: testFile, model: model)
            #expect(config.output.labels == [.int(3), .int(7)])
        }
        let strings = try PipelineConfig.parse(text: ValidationCase.base, path: testFile,
                                               model: ModelOutput(width: 2, classLabels: ["cat", "dog"]))
        #expect(strings.output.labels == [.string("cat"), .string("dog")])
        // The config's labels win.
        let named = try PipelineConfig.parse(text: Self.config("labels = [\"legit\", \"fraud\"]"), path: testFile, model: model)
        #expect(named.output.labels == ["legit", "fraud"])
        // Classes that are not one per column of the output read are not the output's.
        let other = try PipelineConfig.parse(text: ValidationCase.base, path: testFile, model: ModelOutput(width: 1, classLabels: [3, 7]))
        #expect(other.output.labels == nil)
        let none = try PipelineConfig.parse(text: ValidationCase.base, path: testFile, model: ModelOutput(width: 2))
        #expect(none.output.labels == nil)
    }

    /// A passthrough field named like the CSV column of one of the model's classes.
    @Test func theModelsClassesNameCSVColumnsToo() throws {
        let text = Self.config("format = \"csv\"\npassthrough = [\"id\"]\nfields = [\"probabilities\"]")
            .replacingOccurrences("name = \"id\"", with: "name = \"p_7\"")
            .replacingOccurrences("passthrough = [\"id\"]", with: "passthrough = [\"p_7\"]")
        _ = try parseConfig(text)
        let error = try #require(throws: ConfigError.self) {
            try PipelineConfig.parse(text: text, path: testFile, model: ModelOutput(width: 2, classLabels: [3, 7]))
        }
        #expect(error.position == at(3, 16))
        #expect(error.message == "`output.passthrough[0]` names \"p_7\", the CSV column of the probability of the model's "
                + "class 7: the CSV header would have two \"p_7\" columns; drop \"p_7\" from `output.passthrough`, name the "
                + "classes with `output.labels`, or drop \"probabilities\" from `output.fields`")
        // Named otherwise by the config, the column is p_fraud: nothing collides.
        let named = text.replacingOccurrences("fields = [", with: "labels = [\"legit\", \"fraud\"]\nfields = [")
        #expect(throws: Never.self) {
            try PipelineConfig.parse(text: named, path: testFile, model: ModelOutput(width: 2, classLabels: [3, 7]))
        }
    }
}
