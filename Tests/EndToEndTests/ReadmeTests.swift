import Foundation
import Glibc
import Testing

/// The README's examples are what the binaries print: its usage lines are `--help`'s, and its
/// sample output comes from real runs (numbers aside, which differ from run to run).
@Suite(.serialized) struct ReadmeTests {
    static let readme = (try? String(contentsOfFile: Paths.root + "/README.md", encoding: .utf8)) ?? ""

    /// The indented block (4 spaces) that follows the first line containing `marker`, without
    /// its indent; continuation lines stay separate.
    static func block(after marker: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.contains(marker) }) else {
            Issue.record("README has no line with \(marker)", sourceLocation: sourceLocation)
            return []
        }
        // Skip the prose (and the blank line) up to the block.
        guard let first = lines[(start + 1)...].firstIndex(where: { $0.hasPrefix("    ") && !$0.trimmingCharacters(in: .whitespaces).isEmpty })
        else { return [] }
        return Array(lines[first...].prefix { $0.hasPrefix("    ") }.map { String($0.dropFirst(4)) })
    }

    /// A README sample line as a pattern: every number stands for any number, `…` for anything.
    static func pattern(_ line: String) -> Regex<AnyRegexOutput> {
        var text = ""
        var inNumber = false
        for character in line {
            if character.isASCII && character.isNumber {
                if !inNumber { text += "[0-9]+" }
                inNumber = true
                continue
            }
            inNumber = false
            if character == "…" { text += ".*"; continue }
            text += "\\^$.|?*+()[]{}/".contains(character) ? "\\" + String(character) : String(character)
        }
        return try! Regex("^" + text + "$")
    }

    static func matches(_ line: String, _ sample: String) -> Bool { line.wholeMatch(of: pattern(sample)) != nil }

    /// Whitespace collapsed, `…` as `...`.
    static func normalized(_ text: String) -> String {
        text.replacingOccurrences(of: "…", with: "...").split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Each command's usage in "Using it" is the one its `--help` prints.
    @Test func usageLinesAreTheHelpUsageLines() throws {
        // Continuation lines belong to the command above them: rebuild in order.
        var ordered: [(String, String)] = []
        for line in Self.block(after: "## Using it") {
            if line.hasPrefix("pipeline ") {
                ordered.append((String(line.dropFirst("pipeline ".count).prefix { $0 != " " }), line))
            } else if !ordered.isEmpty {
                ordered[ordered.count - 1].1 += " " + line
            }
        }
        let listed = Set(ordered.map(\.0))
        #expect(listed == ["up", "scale", "ps", "ls", "top", "logs", "down", "check", "profile", "drift", "rollout", "export", "bench"], "\(listed.sorted())")
        for (command, readmeUsage) in ordered {
            let help = try pipeline([command, "--help"])
            let usage = help.out.components(separatedBy: "\n\n")[0]
            #expect(usage.hasPrefix("usage: "), "\(help.out)")
            #expect(Self.normalized(readmeUsage) == Self.normalized(String(usage.dropFirst("usage: ".count))),
                    "README: \(readmeUsage)\n--help: \(usage)")
        }
    }

    /// The config-error example, run: a file whose third line is `batch_row = 256`.
    @Test func theConfigErrorExampleIsWhatCheckSays() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let sample = Self.block(after: "`pipeline: error: …`, and exits with its code")
        #expect(sample.first?.hasPrefix("$ pipeline check -f my.toml") == true, "\(sample)")
        let cfg = ws.write("my.toml", "[pipeline]\nname = \"demo\"\nbatch_row = 256\n")
        let r = try pipeline(["check", "-f", cfg])
        #expect(r.status == 3)
        #expect(r.err == sample.dropFirst().map { $0.replacingOccurrences(of: "/home/me", with: ws.path) + "\n" }.joined(), "\(r.err)")
    }

    /// Input with a rejected record after every fifth.
    static func dirtyInput(_ records: Int) -> String {
        var out = ""
        for (i, line) in Records.jsonl(records).split(separator: "\n").enumerated() {
            out += line + "\n"
            if i % 5 == 0 { out += "not json \(i)\n" }
        }
        return out
    }

    /// What a run says on stderr, without the rejected records (JSON lines).
    static func said(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("{") }
    }

    static func expectSaid(_ said: [String], _ sample: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = sample.filter { !$0.hasPrefix("$ ") }
        #expect(said.count == expected.count && zip(said, expected).allSatisfy { matches($0, $1) },
                "stderr:\n\(said.joined(separator: "\n"))\nREADME:\n\(expected.joined(separator: "\n"))", sourceLocation: sourceLocation)
    }

    /// "When an output cannot be written": the lines a run with a full `--errors` file and one
    /// with a full stdout print.
    @Test func theOutputFailureExamplesAreWhatRunsSay() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Records.config())
        let input = ws.write("records.jsonl", Self.dirtyInput(3000))
        let errorsFull = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--errors", "/dev/full"], stdinFile: input)
        #expect(errorsFull.status == 10)
        Self.expectSaid(Self.said(errorsFull.err), Self.block(after: "the run still writes every output record to stdout, says so, and exits 10"))

        let script = "ulimit -f 64; '\(Paths.pipeline)' up -f '\(cfg)' --run-dir '\(ws.runDir)' < '\(input)' > '\(ws.path)/scored.jsonl'"
        let stdoutFull = try Running("/bin/bash", ["-c", script]).finish()
        #expect(stdoutFull.status == 10)
        Self.expectSaid(Self.said(stdoutFull.err), Self.block(after: "in front of the rest of the input, and drop the header the resumed run writes"))
    }

    /// Quick start: the first records and the summary of the default config on the sample data.
    @Test func theQuickStartOutputIsWhatUpPrints() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let sample = Self.block(after: "The first scores the 1000 sample transactions")
        let r = try pipeline(["up", "-f", Paths.root + "/compose/pipeline.toml", "--run-dir", ws.runDir],
                             stdinFile: Paths.root + "/examples/transactions.jsonl")
        #expect(r.status == 0 && r.lines.count == 1000)
        #expect(Array(r.lines.prefix(2)) == Array(sample.prefix(2)), "\(r.lines.prefix(2))")
        // The summary's counts are the run's own; only the timing varies.
        func untimed(_ line: String) -> String { line.replacing(#/ in [0-9.]+ s \((…|[0-9]+ records\/s)\)/#, with: " in T s (…)") }
        #expect(r.err.split(separator: "\n").last.map { untimed(String($0)) } == sample.last.map(untimed), "\(r.err)")
    }

    /// The `ps` sample: one replica of each stage, infer scaled to two, after 500 records.
    @Test func thePsSampleIsWhatPsPrints() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let sample = Self.block(after: "- **ps** lists every replica")
        let cfg = ws.write("pipeline.toml", Records.config())
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir])
        run.write(Records.jsonl(500))
        #expect(run.waitForLines(500) == 500)
        let scale = try pipeline(["scale", "--run-dir", ws.runDir, "infer=2"])
        #expect(scale.status == 0, "\(scale.err)")
        let ps = try pipeline(["ps", "--run-dir", ws.runDir])
        run.closeInput()
        #expect(run.finish().status == 0)
        // Numbers aside (pids, times, counts, memory), the model's and the binaries' paths (the
        // README's are a user's), and with columns as wide as they come out.
        func shape(_ lines: [String]) -> [String] {
            lines.map {
                Self.normalized($0).replacing(/^model: \S+/, with: "model: PATH").replacing(/^binaries: \S+/, with: "binaries: PATH")
                    .replacing(/[0-9]+/, with: "N")
            }
        }
        #expect(shape(ps.lines) == shape(sample), "ps:\n\(ps.out)\nREADME:\n\(sample.joined(separator: "\n"))")
    }

    /// The walk-through writes outside the repository, into a directory the run is named after.
    @Test func theWalkThroughWritesOutsideTheRepository() {
        let commands = Self.readme.split(separator: "\n").filter { $0.contains("walkthrough.py ") }
        #expect(!commands.isEmpty)
        for line in commands {
            guard let match = line.firstMatch(of: /walkthrough\.py ([^ `]+)/) else { continue }
            #expect(match.1.hasPrefix("/tmp/"), "a temporary directory, not the repository: \(line)")
        }
    }
}
