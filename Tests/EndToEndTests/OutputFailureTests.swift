import Foundation
import Glibc
import Testing

/// Output that cannot be written, through the real binaries: a rejected-records stream whose
/// reader goes away or whose disk is full must not cut stdout short or end with exit 0; a full
/// stdout must report exactly what reached it and where to resume.
@Suite(.serialized) struct OutputFailureTests {
    /// Input with a rejected record every `every` lines and a blank line now and then: enough
    /// error entries (each ~200 bytes) to fill any pipe buffer.
    func dirtyInput(_ records: Int, every: Int = 5) -> String {
        var out = ""
        for (i, line) in Records.jsonl(records, seed: 77).split(separator: "\n").enumerated() {
            out += line + "\n"
            if i % every == 0 { out += "not json \(i)\n" }
            if i % 11 == 0 { out += "\n" }
        }
        return out
    }

    func bash(_ ws: Workspace, _ cfg: String, _ script: String) throws -> Finished {
        try Running("/bin/bash", ["-c", "P='\(Paths.pipeline)'; C='\(cfg)'; R='\(ws.runDir)'; " + script]).finish()
    }

    @Test func aClosedStderrFinishesStdoutAndExitsTen() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let input = ws.write("input", dirtyInput(20_000))
        let reference = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: input)
        #expect(reference.status == 0 && reference.lines.count == 20_000)
        // The reader of stderr takes 100 bytes and leaves: every later error entry meets EPIPE.
        let r = try bash(ws, cfg, "\"$P\" up -f \"$C\" --run-dir \"$R\" < '\(input)' 2> >(head -c 100 > /dev/null)")
        #expect(r.status == 10, "the rejected records that could not be written are not a success")
        #expect(same(r.stdout, reference.stdout), "stdout is complete: \(r.lines.count) of 20000 lines")
    }

    @Test func anErrorsFIFOWhoseReaderLeavesFinishesStdoutAndExitsTen() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let input = ws.write("input", dirtyInput(20_000))
        let reference = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: input)
        let fifo = ws.path + "/errors"
        #expect(mkfifo(fifo, 0o600) == 0)
        let r = try bash(ws, cfg, "head -c 100 '\(fifo)' > /dev/null & \"$P\" up -f \"$C\" --run-dir \"$R\" --errors '\(fifo)' < '\(input)'")
        #expect(r.status == 10, "\(r.err)")
        #expect(same(r.stdout, reference.stdout))
        #expect(r.err.contains("writing rejected records to \(fifo) failed (Broken pipe)"), "\(r.err)")
        let lost = r.err.firstMatch(of: /(\d+) rejected records could not be written to/).map { Int($0.1) ?? 0 } ?? 0
        let written = r.err.firstMatch(of: /written, (\d+) rejected/).map { Int($0.1) ?? 0 } ?? -1
        #expect(lost > 0 && lost + written == 4000, "every rejected record is either written or counted as lost: \(r.err)")
    }

    @Test func aFullErrorsFileIsReportedAsTheErrorsFileNotStdout() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let input = ws.write("input", dirtyInput(2_000))
        let reference = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: input)
        let r = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--errors", "/dev/full"], stdinFile: input)
        #expect(r.status == 10)
        #expect(same(r.stdout, reference.stdout))
        #expect(r.err.contains("writing rejected records to /dev/full failed (No space left on device)"), "\(r.err)")
        #expect(!r.err.contains("writing stdout"), "\(r.err)")
        #expect(r.err.contains("400 rejected records could not be written to /dev/full"), "\(r.err)")
    }

    /// stdout on a disk that fills up (a file-size limit: the kernel takes part of a write, then
    /// refuses): the summary counts the whole lines that reached it, and the error says from which
    /// input line to resume — resuming from there completes the output exactly.
    @Test func aFullStdoutSaysWhatWasWrittenAndWhereToResume() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let text = dirtyInput(5_000, every: 50)
        let input = ws.write("input", text)
        let reference = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: input)
        #expect(reference.status == 0)
        let out = ws.path + "/out"
        // 64 KiB: about a fifth of the output.
        let r = try bash(ws, cfg, "ulimit -f 64; \"$P\" up -f \"$C\" --run-dir \"$R\" < '\(input)' > '\(out)'")
        #expect(r.status == 10, "\(r.err)")
        let written = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(written.count == 64 << 10, "the limit was reached")
        let wholeLines = written.filter { $0 == 10 }.count
        let summary = r.err.firstMatch(of: /records read, (\d+) written/).map { Int($0.1) ?? -1 }
        #expect(summary == wholeLines, "the summary counts the \(wholeLines) whole lines on stdout: \(r.err)")
        #expect(r.err.contains("writing stdout: File too large; stdout holds \(wholeLines) whole records"), "\(r.err)")
        let errorLines = r.err.split(separator: "\n").filter { $0.hasPrefix("{") }.count
        #expect(r.err.contains("\(wholeLines) written, \(errorLines) rejected"), "the rejected records counted are those written: \(r.err)")
        guard let resume = r.err.firstMatch(of: /resume from line (\d+)/).flatMap({ Int($0.1) }) else {
            Issue.record("no resume point: \(r.err)")
            return
        }
        // Drop the partial line, and run again from the resume point.
        let whole = written.prefix(through: written.lastIndex(of: 10)!)
        let rest = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(resume - 1).joined(separator: "\n")
        let again = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: ws.write("rest", rest))
        #expect(again.status == 0)
        #expect(same(whole + again.stdout, reference.stdout), "resuming at line \(resume) completes the output exactly")
    }
}
