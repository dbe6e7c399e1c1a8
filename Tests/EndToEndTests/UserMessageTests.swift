import Foundation
import Glibc
import Testing

/// What `pipeline` says, through the real binaries: counts in the singular when there is one.
@Suite(.serialized) struct UserMessageTests {
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
