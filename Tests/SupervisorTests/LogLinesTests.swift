import Testing
@testable import PipelineCLI

/// How `pipeline logs` reads times, renders events and merges logs.
@Suite struct LogLinesTests {
    @Test func timesAreReadOnlyInTheirOneShape() {
        #expect(LogLines.splitTime("2026-12-06T04:32:34.439Z [infer.1] ready") == ("2026-12-06T04:32:34.439Z", "[infer.1] ready"))
        for line in ["[infer.1] ready", "2026-12-06T04:32:34.439Z", "2026-12-06 04:32:34.439Z x", "2026-12-06T04:32:34.43Z  x",
                     "Fatal error: 2026-12-06T04:32:34.439Z", ""] {
            #expect(LogLines.splitTime(line) == (nil, line), "\(line)")
        }
    }

    @Test func eventsShowTheirNameThenTheirFields() throws {
        let exited = #"{"time":"2026-12-06T04:32:34.439Z","uptime_s":0.589,"event":"replica_exited","stage":"infer","replica":1,"pid":7717}"#
        let e = try #require(LogLines.event(exited))
        #expect(e.time == "2026-12-06T04:32:34.439Z" && e.text == #"replica_exited {"stage":"infer","replica":1,"pid":7717}"#)
        let down = try #require(LogLines.event(#"{"time":"2026-12-06T04:32:35.000Z","uptime_s":1.000,"event":"down_requested"}"#))
        #expect(down.text == "down_requested")
        #expect(LogLines.event("{\"time\":\"soon\"}") == nil && LogLines.event("not json") == nil)

        #expect(LogLines.event(exited, concerns: [.stage(.infer)]) && LogLines.event(exited, concerns: [.replica(.infer, 1)]))
        #expect(!LogLines.event(exited, concerns: [.replica(.infer, 11)]) && !LogLines.event(exited, concerns: [.stage(.ingest)]))
        let paused = #"{"time":"2026-12-06T04:32:34.439Z","uptime_s":0.589,"event":"stage_paused","stage":"infer"}"#
        #expect(LogLines.event(paused, concerns: [.stage(.infer)]) && !LogLines.event(paused, concerns: [.replica(.infer, 1)]))
    }

    @Test func mergeKeepsEachLogsOrderAndTiesGoFirstGiven() {
        func l(_ t: String, _ s: String) -> LogLine { LogLine(time: t, text: s) }
        let events = [l("a", "e1"), l("c", "e2")]
        let replica = [l("", "crash before any time"), l("a", "r1"), l("b", "r2"), l("b", "r3 untimed"), l("d", "r4")]
        let merged = LogLines.merge([events, replica]).map(\.line.text)
        #expect(merged == ["crash before any time", "e1", "r1", "r2", "r3 untimed", "e2", "r4"])
        #expect(LogLines.merge([]).isEmpty && LogLines.merge([[], []]).isEmpty)
    }
}
