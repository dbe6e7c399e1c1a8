import Foundation
import Glibc
import Testing

/// What `pipeline` says when something is wrong, through the real binaries: the model path once,
/// a file that is not a model said so, unusable `PIPELINE_*` values refused, counts in the
/// singular when there is one.
@Suite(.serialized) struct UserMessageTests {
    /// A config for the demo's records reading the model at `model`.
    private func config(_ ws: Workspace, model: String) -> String {
        ws.write("pipeline.toml", Records.config().replacingOccurrences(of: Paths.demoModel, with: model))
    }

    /// The first 300 bytes of the demo model: cut inside its graph.
    private static var truncatedDemo: [UInt8] {
        Array((FileManager.default.contents(atPath: Paths.demoModel) ?? Data()).prefix(300))
    }

    @Test(arguments: [
        ("notes.txt", Array("hello, these are my notes\n".utf8), #"it starts with text: "hello, these are my notes""#),
        ("model.pkl", [0x80, 0x04, 0x95, 0x1F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x8C, 0x08] as [UInt8],
         "it is a Python pickle, as joblib.dump and pickle.dump write: export the model to ONNX, e.g. with tools/export_sklearn.py"),
        ("empty.onnx", [], "the file is empty"),
    ] as [(String, [UInt8], String)])
    func aFileThatIsNotAModelIsSaidSo(name: String, bytes: [UInt8], detail: String) throws {
        let ws = Workspace()
        defer { ws.remove() }
        let model = ws.path + "/" + name
        #expect(FileManager.default.createFile(atPath: model, contents: Data(bytes)))
        let cfg = config(ws, model: model)
        let expected = "pipeline: error: \(model) is not an ONNX model (\(detail))\n"
        let check = try pipeline(["check", "-f", cfg])
        #expect(check.status == 4 && check.err == expected, "\(check.err)")
        let up = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir])
        #expect(up.status == 4 && up.err == expected, "\(up.err)")
    }

    @Test func aTruncatedModelIsSaidSo() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let model = ws.path + "/cut.onnx"
        #expect(FileManager.default.createFile(atPath: model, contents: Data(Self.truncatedDemo)))
        let check = try pipeline(["check", "-f", config(ws, model: model)])
        #expect(check.status == 4, "\(check.err)")
        #expect(check.err.hasPrefix("pipeline: error: \(model) is not an ONNX model (it ends at byte 300, in the middle of its "), "\(check.err)")
        #expect(check.err.hasSuffix(": a truncated file?)\n"), "\(check.err)")
    }

    /// Damage inside the graph of a model that is whole at the top: the decoder's own words and
    /// offset, and the path once.
    @Test func damageInsideAModelIsPreciseAndNamesThePathOnce() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let model = ws.path + "/damaged.onnx"
        // ir_version 8; a graph holding one node whose first input claims 127 bytes.
        #expect(FileManager.default.createFile(atPath: model, contents: Data([0x08, 0x08, 0x3A, 0x04, 0x0A, 0x02, 0x0A, 0x7F])))
        let check = try pipeline(["check", "-f", config(ws, model: model)])
        #expect(check.status == 4)
        #expect(check.err == "pipeline: error: model \(model): length 127 exceeds the 0 bytes left (at byte 7)\n", "\(check.err)")
        let missing = ws.path + "/missing.onnx"
        let up = try pipeline(["up", "-f", config(ws, model: missing), "--run-dir", ws.runDir])
        #expect(up.status == 4)
        #expect(up.err == "pipeline: error: model \(missing): cannot open the model file: No such file or directory\n", "\(up.err)")
    }

    @Test(arguments: [
        ("PIPELINE_HANG_SECONDS", "abc", "a number of seconds above 0 and at most 86400 (default 5)"),
        ("PIPELINE_START_SECONDS", "0", "a number of seconds above 0 and at most 86400 (default 30)"),
        ("PIPELINE_STOP_SECONDS", "-1", "a number of seconds above 0 and at most 86400 (default 10)"),
        ("PIPELINE_RESEND_SECONDS", "", "a number of seconds above 0 and at most 86400 (default 10)"),
        ("PIPELINE_HANDSHAKE_SECONDS", "5s", "a number of seconds above 0 and at most 86400 (default 5)"),
        ("PIPELINE_CREDITS", "0", "a whole number from 1 to 64 (default 4)"),
    ])
    func anUnusableEnvironmentValueIsRefused(variable: String, value: String, expected: String) throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let r = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.write("in.jsonl", Records.jsonl(10)),
                            environment: [variable: value]).finish()
        #expect(r.status == 2, "\(r.err)")
        #expect(r.err == "pipeline: error: environment variable \(variable)=\"\(value)\": expected \(expected)\n", "\(r.err)")
        #expect(r.out.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: ws.runDir), "refused before anything was made")
    }

    /// The smallest usable values work: one credit per link still moves every record.
    @Test func theSmallestUsableValuesRun() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config(batchRows: 8))
        let r = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.write("in.jsonl", Records.jsonl(300)),
                            environment: ["PIPELINE_CREDITS": "1", "PIPELINE_HANDSHAKE_SECONDS": "0.5"]).finish()
        #expect(r.status == 0 && r.lines.count == 300, "\(r.err)")
    }

    /// One record: one batch, one row, one record read, in the singular everywhere it is counted.
    @Test func oneOfAThingIsSingular() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let r = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.write("in.jsonl", Records.jsonl(1)))
        #expect(r.status == 0 && r.lines.count == 1, "\(r.err)")
        #expect(r.err.hasPrefix("[pipeline] 1 record read, 1 written, 0 rejected in "), "\(r.err)")
        let logs = try pipeline(["logs", "--run-dir", ws.runDir])
        let stopped = logs.out.split(separator: "\n").filter { $0.contains("stopped after") }
        #expect(stopped.count == 4, "\(logs.out)")
        for line in stopped {
            #expect(line.hasSuffix("stopped after 1 batch, 1 row"), "\(line)")
        }
    }
}
