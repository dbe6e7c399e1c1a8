import Foundation
import Glibc
import Testing

/// Bad input, bounded memory under a slow reader, and every way a run ends.
@Suite(.serialized) struct InputAndStopTests {
    func good(_ id: Int) -> String {
        "{\"id\":\(id),\"amount\":10.5,\"hour\":3,\"country\":\"US\",\"is_new_customer\":false}"
    }

    @Test func dirtyJSONLinesGiveExactlyTheExpectedRejects() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config(extra: "").replacingOccurrences(
            of: "format = \"jsonl\"\n\n[[input.field]]", with: "format = \"jsonl\"\nmax_line_bytes = 2048\n\n[[input.field]]"))
        var input = Data()
        func line(_ s: String) { input += Data((s + "\n").utf8) }
        line(good(1))
        line("{\"id\":2,\"amount\":\"abc\",\"hour\":3,\"country\":\"US\",\"is_new_customer\":false}")
        line("{\"id\":3,\"amount\":1.5,")
        line("{\"id\":4,\"hour\":5,\"country\":\"US\",\"is_new_customer\":true}")
        input += Data("{\"id\":5,\"amount\":1,\"hour\":1,\"country\":\"".utf8) + Data([0xC3, 0x28]) + Data("\",\"is_new_customer\":true}\n".utf8)
        line("{\"id\":6,\"x\":" + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}")
        line("{\"id\":7,\"pad\":\"" + String(repeating: "p", count: 3000) + "\"}")
        line("[1,2]")
        line("   ")
        line(good(10))
        let data = ws.path + "/input"
        precondition(FileManager.default.createFile(atPath: data, contents: input))
        let errors = ws.path + "/errors.jsonl"
        let r = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--errors", errors], stdinFile: data)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.lines.count == 2 && r.lines[0].hasPrefix("{\"id\":1,") && r.lines[1].hasPrefix("{\"id\":10,"))
        let rejects = try String(contentsOfFile: errors, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        let got = rejects.map { "\($0["line"]!) \($0["code"]!) \($0["field"]!)" }
        #expect(got == ["2 TYPE amount", "3 JSON_SYNTAX ", "4 MISSING_FIELD amount", "5 INVALID_UTF8 ", "6 DEPTH ",
                        "7 LINE_TOO_LONG ", "8 JSON_SYNTAX "])
        #expect(rejects.allSatisfy { ($0["stage"] as? String) == "ingest" && !(($0["message"] as? String) ?? "").isEmpty })
        #expect((rejects[5]["input"] as? String)?.count == 200, "the first 200 bytes of the record")
        #expect(rejects[0]["byte_offset"] as? Int == 71 && rejects[1]["byte_offset"] as? Int == 143)
        #expect(!r.err.contains("{\"line\""), "--errors takes the reject lines off stderr")
        #expect(r.err.contains("9 records read, 2 written, 7 rejected"), "\(r.err)")
    }

    @Test func dirtyCSVGivesExactlyTheExpectedRejects() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config(format: "csv"))
        let input = #"""
            id,amount,hour,country,is_new_customer
            1,10.5,3,US,false
            2,10.5,3,US,false,extra
            3,10.5,3
            4,ten,3,US,false
            5,1.5,3,"U"S,false
            6,1.5,3,"multi
            line",true
            7,1.5,3,"say ""hi""",true

            """#
        let r = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.write("input.csv", input))
        #expect(r.status == 0, "\(r.err)")
        #expect(r.lines.map { $0.prefix(7) } == ["{\"id\":1", "{\"id\":6", "{\"id\":7"])
        let codes = r.err.split(separator: "\n").filter { $0.hasPrefix("{") }.map {
            let o = try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            return "\(o["line"]!) \(o["code"]!)"
        }
        #expect(codes == ["3 TOO_MANY_COLUMNS", "4 MISSING_COLUMNS", "5 TYPE", "6 CSV_SYNTAX"])
    }

    @Test func maxErrorsStopsTheRun() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config(batchRows: 4).replacingOccurrences(
            of: "format = \"jsonl\"\n\n[[input.field]]", with: "format = \"jsonl\"\nmax_errors = 2\n\n[[input.field]]"))
        var input = Records.jsonl(20)
        for _ in 0..<5 { input += "not json\n" }
        input += Records.jsonl(20, seed: 2, firstID: 100)
        let r = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.write("input", input))
        #expect(r.status == 5, "\(r.err)")
        #expect(r.err.contains("more than input.max_errors = 2"))
        #expect(r.lines.count >= 20, "what was committed before the stop is written")
    }

    @Test func aSlowReaderSlowsTheReadingOfStdinAndMemoryStaysFlat() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config(batchRows: 64, window: 16))
        // ~870-byte records, as the benchmark's; the output is ~10× smaller than the input.
        let pad = String(repeating: "x", count: 780)
        let records = 60_000
        var text = ""
        text.reserveCapacity(records * 880)
        for line in Records.jsonl(records, seed: 5).split(separator: "\n") {
            text += line.dropLast() + ",\"pad\":\"" + pad + "\"}\n"
        }
        let input = ws.write("input", text)
        let recordBytes = text.utf8.count / records
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: input, readPauseMicros: 20_000)
        var peakAhead = 0
        var rss: [Int32: [Int]] = [:]
        while waitUntil(seconds: 0.05, { run.stdoutCount > Int.max }) == false, kill(run.pid, 0) == 0 {
            guard let offset = fileOffset(run.pid, fd: 0) else { break }
            let written = run.lineCount
            peakAhead = max(peakAhead, offset - written * recordBytes)
            for pid in [run.pid] + processes(mentioning: ws.runDir + "/control.sock") {
                let bytes = residentBytes(pid)
                if bytes > 0 { rss[pid, default: []].append(bytes) }
            }
        }
        let result = run.finish()
        #expect(result.status == 0, "\(result.err)")
        #expect(result.lines.count == records)
        // At most the window (16 batches of 64 records) plus pipe buffers is read ahead of the output.
        #expect(peakAhead < 16 * 64 * recordBytes + (8 << 20), "read \(peakAhead) bytes ahead of the output")
        #expect(peakAhead > 0)
        #expect(rss[run.pid, default: []].count >= 8, "the run lasted long enough to sample")
        for (pid, samples) in rss where samples.count >= 8 {
            // Flat: the last quarter of the run never holds much more than its first half did
            // (holding what was read would add ~25 MB of this 53 MB input), and bounded.
            let early = samples[..<(samples.count / 2)].max()!, late = samples[(samples.count * 3 / 4)...].max()!
            #expect(late <= early + (12 << 20), "process \(pid) grew from \(early >> 20) to \(late >> 20) MiB")
            #expect(samples.max()! < (pid == run.pid ? 64 << 20 : 40 << 20), "process \(pid) reached \(samples.max()! >> 20) MiB")
        }
    }

    @Test func headEndsTheRunQuietly() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let input = ws.write("input", Records.jsonl(100_000))
        let r = try Running("/bin/bash", ["-c", "'\(Paths.pipeline)' up -f '\(cfg)' --run-dir '\(ws.runDir)' < '\(input)' | head -n 10; exit ${PIPESTATUS[0]}"]).finish()
        #expect(r.status == 0, "\(r.err)")
        #expect(r.lines.count == 10)
        #expect(!r.err.contains("error"), "\(r.err)")
        let read = r.err.firstMatch(of: /(\d+) records read/).map { Int($0.1) ?? -1 }
        #expect(read.map { $0 < 100_000 } == true, "stopped reading long before the end: \(r.err)")
        #expect(processes(mentioning: ws.path).isEmpty)
    }

    @Test func replicasExitWhenTheSupervisorIsKilled() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--scale", "infer=2"])
        run.write(Records.jsonl(200))
        #expect(run.waitForLines(200) == 200)
        #expect(processes(mentioning: ws.runDir + "/control.sock").count == 5)
        kill(run.pid, SIGKILL)
        _ = run.finish()
        #expect(waitUntil(seconds: 10) { processes(mentioning: ws.path).isEmpty }, "no replica outlives its supervisor")
        // The next run in the same directory cleans up after the dead one.
        let again = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.write("input", Records.jsonl(50)))
        #expect(again.status == 0 && again.lines.count == 50, "\(again.err)")
    }

    @Test func interruptDrainsAndASecondOneForces() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir])
        run.write(Records.jsonl(300))
        #expect(run.waitForLines(300) == 300)
        kill(run.pid, SIGINT)
        // Handled before the end of the input (closing stdin at once could win the race: a run
        // whose input is all done is not interrupted, and ends with 0).
        #expect(waitUntil { run.stderrText.contains("interrupted: finishing the batches already read") })
        let drained = run.finish()
        #expect(drained.status == 130 && drained.lines.count == 300, "\(drained.err)")
        #expect(drained.err.contains("interrupted"))

        // A replica that never finishes: the first SIGINT waits for it, the second does not.
        let stuck = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir], environment: ["PIPELINE_HANG_SECONDS": "600"])
        stuck.write(Records.jsonl(100))
        #expect(stuck.waitForLines(100) == 100)
        for pid in replicaPids(ws.runDir, "infer") { kill(pid, SIGSTOP) }
        stuck.write(Records.jsonl(100, seed: 2, firstID: 101))
        kill(stuck.pid, SIGINT)
        #expect(waitUntil { stuck.stderrText.contains("interrupted") })
        kill(stuck.pid, SIGINT)
        let forced = stuck.finish(seconds: 30)
        #expect(forced.status == 130, "\(forced.err)")
        #expect(forced.err.contains("forced stop"))
        #expect(waitUntil(seconds: 10) { processes(mentioning: ws.path).isEmpty })
    }
}
