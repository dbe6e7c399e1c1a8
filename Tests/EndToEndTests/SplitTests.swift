import Foundation
import Testing

/// `pipeline up --input FILE --split I/N` through the real binaries: N = 3 splits of a file run
/// as separate pipelines (as the pods of a Kubernetes Indexed Job would), one killed with -9 and
/// run again as the Job would retry it; their outputs concatenated are byte for byte one run's
/// over the whole file, and so are their rejected records, line numbers included.
@Suite(.serialized) struct SplitTests {
    /// One split's run; `kill`: the pipeline is killed with -9 once it has written something, and
    /// the split is run again from scratch.
    static func runSplit(_ ws: Workspace, config: String, input: String, split: String, kill killFirst: Bool) throws -> (out: Data, errors: Data) {
        let name = split.replacingOccurrences(of: "/", with: "-of-")
        let out = ws.path + "/part-\(name).out", errors = ws.path + "/part-\(name).err"
        let runDir = ws.path + "/run-\(name)"
        if killFirst {
            let run = try Running(Paths.pipeline, ["up", "-f", config, "--run-dir", runDir, "--input", input, "--split", split,
                                                   "--output", out, "--errors", errors])
            #expect(waitUntil { ((try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0) > 0 || !run.process.isRunning })
            kill(run.pid, SIGKILL)
            _ = run.finish()
            // Its replicas see the supervisor go and exit; the next run in that directory clears up.
            #expect(waitUntil { processes(mentioning: runDir).isEmpty }, "the killed run's replicas are gone")
        }
        let done = try pipeline(["up", "-f", config, "--run-dir", runDir, "--input", input, "--split", split, "--output", out, "--errors", errors])
        #expect(done.status == 0, "split \(split): \(done.err)")
        #expect(done.err.contains("split \(split) of \(input): bytes "), "\(done.err)")
        return (try Data(contentsOf: URL(fileURLWithPath: out)), try Data(contentsOf: URL(fileURLWithPath: errors)))
    }

    static func check(_ ws: Workspace, config: String, input: String) throws {
        let whole = try pipeline(["up", "-f", config, "--run-dir", ws.path + "/run-whole", "--input", input,
                                  "--output", ws.path + "/whole.out", "--errors", ws.path + "/whole.err"])
        #expect(whole.status == 0, "\(whole.err)")
        let wholeOut = try Data(contentsOf: URL(fileURLWithPath: ws.path + "/whole.out"))
        let wholeErrors = try Data(contentsOf: URL(fileURLWithPath: ws.path + "/whole.err"))
        var out = Data(), errors = Data()
        for i in 0..<3 {
            let part = try runSplit(ws, config: config, input: input, split: "\(i)/3", kill: i == 1)
            #expect(!part.out.isEmpty, "split \(i) holds records")
            out += part.out
            errors += part.errors
        }
        #expect(!wholeErrors.isEmpty, "the input has rejected records")
        #expect(out == wholeOut, "the parts concatenated are the whole run's output")
        #expect(errors == wholeErrors, "and its rejected records, with the same line numbers")
    }

    @Test func threeSplitsOfJSONLinesAreOneRun() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let config = ws.write("pipeline.toml", Records.config(batchRows: 64, window: 16))
        var lines = Records.jsonl(9_000, seed: 21).split(separator: "\n").map(String.init)
        for i in stride(from: 500, to: lines.count, by: 997) { lines[i] = "{\"id\":\(i),\"amount\":\"oops\"}" }  // rejected
        for i in stride(from: 300, to: lines.count, by: 1_501) { lines.insert("", at: i) }                    // blank lines
        let input = ws.write("in.jsonl", lines.joined(separator: "\n") + "\n")
        try Self.check(ws, config: config, input: input)
    }

    /// CSV whose fields hold commas, doubled quotes and line ends inside quotes, in and out: the
    /// header is read by every split, written once (by split 0).
    @Test func threeSplitsOfCSVWithQuotedNewlinesAreOneRun() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let config = ws.write("pipeline.toml", Records.config(format: "csv", batchRows: 64, window: 16, output: "csv")
            .replacingOccurrences(of: "passthrough = [\"id\"]", with: "passthrough = [\"id\", \"country\"]"))
        var text = "id,amount,hour,country,is_new_customer\n"
        let countries = ["US", "\"D\nE\"", "\"F,R\"", "\"say \"\"G\nB\"\"\"", "JP"]
        for i in 0..<6_000 {
            let country = countries[i % countries.count]
            let amount = i % 877 == 0 ? "not-a-number" : String(Double(i % 500) * 0.37)
            text += "\(i),\(amount),\(i % 24),\(country),\(i % 3 == 0)\n"
        }
        let input = ws.write("in.csv", text)
        try Self.check(ws, config: config, input: input)
        let header = try String(contentsOfFile: ws.path + "/part-0-of-3.out", encoding: .utf8).split(separator: "\n").first
        #expect(header == "id,country,label,score,p_legit,p_fraud")
        let later = try String(contentsOfFile: ws.path + "/part-1-of-3.out", encoding: .utf8)
        #expect(!later.hasPrefix("id,"), "split 1 writes no header")
    }

    @Test func splitsNeedARegularInputFile() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let config = ws.write("pipeline.toml", Records.config())
        let noInput = try pipeline(["up", "-f", config, "--run-dir", ws.runDir, "--split", "0/2"])
        #expect(noInput.status == 2 && noInput.err.contains("--split needs --input FILE"), "\(noInput.err)")
        let bad = try pipeline(["up", "-f", config, "--run-dir", ws.runDir, "--input", "x", "--split", "2/2"])
        #expect(bad.status == 2 && bad.err.contains("--split takes I/N"), "\(bad.err)")
        let fifo = ws.path + "/fifo"
        mkfifo(fifo, 0o600)
        let notRegular = try pipeline(["up", "-f", config, "--run-dir", ws.runDir, "--input", fifo, "--split", "0/2"])
        #expect(notRegular.status == 2 && notRegular.err.contains("needs --input to be a regular file"), "\(notRegular.err)")
    }
}
