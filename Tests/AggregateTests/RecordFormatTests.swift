import AggregateStage
import Config
import Messages
import Testing

/// Whole output lines, exactly, for the shapes of model output a user configures.
@Suite struct RecordFormatTests {
    let idField = [FieldSpec(name: "id", type: .int)]

    @Test func jsonlClassifierWithLabels() throws {
        var p = try AggregateProcessor(config: makeConfig(fields: idField, passthrough: ["id"], labels: ["legit", "fraud"],
                                                          outputFields: [.label, .score, .probabilities]))
        let out = try aggregate(&p, [0.07, 0.93, 0.6, 0.4, 0.5, 0.5], rows: 3, cols: 2,
                                passthrough: [Column(.int([17, 18, -19]))])
        #expect(out.lines == [
            #"{"id":17,"label":"fraud","score":0.93,"probabilities":[0.07,0.93]}"#,
            #"{"id":18,"label":"legit","score":0.6,"probabilities":[0.6,0.4]}"#,
            #"{"id":-19,"label":"legit","score":0.5,"probabilities":[0.5,0.5]}"#,
        ])
        #expect(out.text.hasSuffix("}\n"))
    }

    /// The writer copies fixed pieces (keys, labels) in 32-byte blocks: pieces of every length
    /// around 32 and 64 bytes come out whole, and what each block writes past a piece is overwritten.
    @Test func longKeysAndLabels() throws {
        for length in [0, 1, 30, 31, 32, 33, 63, 64, 65, 100] {
            let key = "k" + String(repeating: "e", count: length)
            let labels = (0..<3).map { ClassLabel.string(String(repeating: "\($0)", count: length + 1)) }
            var json = try AggregateProcessor(config: makeConfig(fields: [FieldSpec(name: key, type: .int)], passthrough: [key],
                                                                 labels: labels, outputFields: [.label, .score]))
            let out = try aggregate(&json, [0.1, 0.7, 0.2, 0.5, 0.25, 0.25], rows: 2, cols: 3,
                                    passthrough: [Column(.int([1, 22]))])
            let one = String(repeating: "1", count: length + 1), zero = String(repeating: "0", count: length + 1)
            #expect(out.lines == [#"{"\#(key)":1,"label":"\#(one)","score":0.7}"#,
                                  #"{"\#(key)":22,"label":"\#(zero)","score":0.5}"#])
            var csv = try AggregateProcessor(config: makeConfig(format: .csv, labels: labels, outputFields: [.label, .score]))
            let csvOut = try aggregate(&csv, [0.1, 0.7, 0.2, 0.5, 0.25, 0.25], rows: 2, cols: 3)
            #expect(csvOut.lines == ["\(one),0.7", "\(zero),0.5"])
        }
    }

    @Test func jsonlClassifierWithoutLabelsPrintsTheIndex() throws {
        var p = try AggregateProcessor(config: makeConfig(outputFields: [.score, .label]))
        let out = try aggregate(&p, [0.1, 0.2, 0.7, 0.3, 0.3, 0.3], rows: 2, cols: 3)
        #expect(out.lines == [#"{"score":0.7,"label":2}"#, #"{"score":0.3,"label":0}"#])
    }

    /// Integer classes are JSON numbers; strings that look like numbers stay strings.
    @Test func jsonlLabelsKeepTheirType() throws {
        var ints = try AggregateProcessor(config: makeConfig(labels: [3, -7], outputFields: [.label, .score]))
        #expect(try aggregate(&ints, [0.2, 0.8, 0.6, 0.4], rows: 2, cols: 2).lines
                == [#"{"label":-7,"score":0.8}"#, #"{"label":3,"score":0.6}"#])
        var strings = try AggregateProcessor(config: makeConfig(labels: ["3", "-7"], outputFields: [.label]))
        #expect(try aggregate(&strings, [0.2, 0.8, 0.6, 0.4], rows: 2, cols: 2).lines == [#"{"label":"-7"}"#, #"{"label":"3"}"#])
        var extreme = try AggregateProcessor(config: makeConfig(labels: [.int(.min), .int(.max)], outputFields: [.label]))
        #expect(try aggregate(&extreme, [0.2, 0.8, 0.6, 0.4], rows: 2, cols: 2).lines
                == [#"{"label":9223372036854775807}"#, #"{"label":-9223372036854775808}"#])
    }

    @Test func jsonlRegression() throws {
        var p = try AggregateProcessor(config: makeConfig(fields: idField, passthrough: ["id"], outputFields: [.prediction]))
        let out = try aggregate(&p, [1234.5, -0.0, 1e-7, 3e20], rows: 4, cols: 1,
                                passthrough: [Column(.int([1, 2, 3, 4]))])
        #expect(out.lines == [#"{"id":1,"prediction":1234.5}"#, #"{"id":2,"prediction":-0.0}"#,
                              #"{"id":3,"prediction":1e-07}"#, #"{"id":4,"prediction":3e+20}"#])
    }

    /// One-column output: `score` is the value itself and `label` is always class 0.
    @Test func singleColumnScoreAndLabel() throws {
        var p = try AggregateProcessor(config: makeConfig(outputFields: [.label, .score, .prediction, .probabilities]))
        let out = try aggregate(&p, [0.25], rows: 1, cols: 1)
        #expect(out.lines == [#"{"label":0,"score":0.25,"prediction":0.25,"probabilities":[0.25]}"#])
    }

    /// Non-finite model outputs are written as null; a NaN wins the argmax, as in numpy.
    @Test func nonFiniteScores() throws {
        var p = try AggregateProcessor(config: makeConfig(labels: ["a", "b", "c"], outputFields: [.label, .score, .probabilities]))
        let out = try aggregate(&p, [0.1, .nan, 0.9, .infinity, 0.5, -.infinity, -1, -2, -3], rows: 3, cols: 3)
        #expect(out.lines == [
            #"{"label":"b","score":null,"probabilities":[0.1,null,0.9]}"#,
            #"{"label":"a","score":null,"probabilities":[null,0.5,null]}"#,
            #"{"label":"a","score":-1.0,"probabilities":[-1.0,-2.0,-3.0]}"#,
        ])
    }

    @Test func emptyRecordIsAnEmptyObject() throws {
        var p = try AggregateProcessor(config: makeConfig(outputFields: []))
        #expect(try aggregate(&p, [0.5, 0.5], rows: 2, cols: 1).text == "{}\n{}\n")
    }

    @Test func csvClassifierWithLabels() throws {
        let config = makeConfig(fields: idField, format: .csv, passthrough: ["id"], labels: ["legit", "fraud, maybe"],
                                outputFields: [.label, .score, .probabilities])
        #expect(try AggregateProcessor.csvHeader(config: config) == "id,label,score,p_legit,\"p_fraud, maybe\"\n")
        var p = try AggregateProcessor(config: config)
        let out = try aggregate(&p, [0.07, 0.93, 0.75, 0.25], rows: 2, cols: 2, passthrough: [Column(.int([17, 18]))])
        #expect(out.text == "17,\"fraud, maybe\",0.93,0.07,0.93\n18,legit,0.75,0.75,0.25\n")
    }

    @Test func csvWithIntegerLabels() throws {
        let config = makeConfig(format: .csv, labels: [0, 10], outputFields: [.label, .probabilities])
        #expect(try AggregateProcessor.csvHeader(config: config) == "label,p_0,p_10\n")
        var p = try AggregateProcessor(config: config)
        #expect(try aggregate(&p, [0.07, 0.93, 0.75, 0.25], rows: 2, cols: 2).text == "10,0.07,0.93\n0,0.75,0.25\n")
    }

    @Test func csvWithoutLabels() throws {
        let config = makeConfig(format: .csv, outputFields: [.probabilities, .label, .prediction])
        #expect(throws: AggregateError.unknownClassCount) { try AggregateProcessor.csvHeader(config: config) }
        #expect(try AggregateProcessor.csvHeader(config: config, classes: 3) == "p_0,p_1,p_2,label,prediction\n")
        var p = try AggregateProcessor(config: config)
        let out = try aggregate(&p, [0.2, 0.3, 0.5, .nan, 1, 2], rows: 2, cols: 3)
        #expect(out.lines == ["0.2,0.3,0.5,2,0.2", ",1.0,2.0,0,"])
    }

    @Test func csvHeaderNeedsNoClassesWithoutProbabilities() throws {
        let config = makeConfig(fields: [FieldSpec(name: "a\"b", type: .string)], format: .csv, passthrough: ["a\"b"],
                                outputFields: [.label, .score])
        #expect(try AggregateProcessor.csvHeader(config: config) == "\"a\"\"b\",label,score\n")
    }

    /// Flags, sequence, rejects and the record count travel on; passthrough columns do not.
    @Test func forwardsEnvelopeSequenceAndFlags() throws {
        var p = try AggregateProcessor(config: makeConfig())
        let reject = Reject(line: 9, byteOffset: 70, code: .type, field: "amount", message: "not a number", input: [])
        let out = try aggregate(&p, [0.5, 0.5], rows: 1, cols: 2, rejects: [reject], sequence: 77, flags: .replay)
        #expect(out.header.kind == .output && out.header.sequence == 77 && out.header.flags == .replay)
        #expect(out.header.rowCount == 1 && out.recordCount == 2 && out.rejects == [reject])
    }

    @Test func emptyBatch() throws {
        var p = try AggregateProcessor(config: makeConfig(labels: ["a", "b"]))
        let out = try aggregate(&p, [], rows: 0, cols: 0)
        #expect(out.text.isEmpty && out.summary.rows == 0)
    }
}
