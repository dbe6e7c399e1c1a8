import Messages
import Testing
@testable import PipelineCLI

/// `pipeline top`'s frame: exact rows for known snapshots, number formats, fitting the screen.
@Suite struct TopTests {
    static func queue(_ observations: [(nanos: UInt64, times: Int)]) -> Histogram {
        var h = Histogram()
        for (nanos, times) in observations { for _ in 0..<times { h.observe(nanos: nanos) } }
        return h
    }

    static func stage(_ name: String, ready: UInt32 = 1, desired: UInt32 = 1, rate: Double = 0, busy: Double = 0,
                      queue: Histogram = Histogram(), restarts: UInt64 = 0, rss: UInt64 = 0) -> StatusSnapshot.Stage {
        var s = StatusSnapshot.Stage(name: name)
        s.ready = ready
        s.desired = desired
        s.recentRecordsPerSecond = rate
        s.recentBusy = busy
        s.recentQueue = queue
        s.restarts = restarts
        s.residentBytes = rss
        // What the view does not show must not matter.
        s.records = 123_456_789
        s.queue = Self.queue([(5_000_000_000, 3)])
        return s
    }

    static let runDirectory = "/run/user/1000/pipeline/demo"

    static var known: StatusSnapshot {
        var s = StatusSnapshot()
        s.uptimeNanos = 125_400_000_000
        s.model = "/home/me/pipeline/models/demo.onnx"
        s.recordsIn = 52_345
        s.recordsOut = 52_101
        s.rejected = 12
        s.recentRecordsOutPerSecond = 2_480.4
        s.recentRecordsInPerSecond = 9_999
        s.batchesInFlight = 3
        s.inputSize = 1_000_000
        s.bytesIn = 451_200
        s.latency = queue([(3_000_000, 90), (40_000_000, 10)])
        s.stages = [
            stage("ingest", rate: 2_480.4, busy: 0.031, queue: queue([(150_000, 98), (30_000_000, 2)]), rss: 12_373_196),
            stage("featurize", rate: 2_480.4, busy: 0.012),
            stage("infer", ready: 3, desired: 4, rate: 2_480.4, busy: 1.432, queue: queue([(3_000_000, 8), (20_000_000, 5)]),
                  restarts: 2, rss: 42_467_328),
            stage("aggregate", rss: 12 << 20),
        ]
        return s
    }

    static func isPrintableASCII(_ line: String) -> Bool { line.unicodeScalars.allSatisfy { (0x20..<0x7F).contains($0.value) } }

    @Test func aKnownSnapshotRendersExactly() {
        let lines = TopView.lines(Self.known, runDirectory: Self.runDirectory, width: 80, height: 24)
        #expect(lines == [
            "pipeline /run/user/1000/pipeline/demo  up 2m05s  model ...eline/models/demo.onnx",
            "records read 52.3k (45%)  written 52.1k  rejected 12  rate 2.5k/s over 5s",
            "in flight 3 batches  latency p50 3.9ms  p99 47.5ms",
            "",
            "STAGE      READY  RECORDS/S   BUSY%  QUEUE p50  QUEUE p99  RESTARTS     RSS",
            "ingest       1/1       2.5k     3.1      177us     37.5ms         0  11.8MB",
            "featurize    1/1       2.5k     1.2          -          -         0       -",
            "infer        3/4       2.5k   143.2      4.5ms     24.6ms         2  40.5MB",
            "aggregate    1/1          0     0.0          -          -         0  12.0MB",
        ])
    }

    /// Autoscaled: one more line under the header, with the budget, the changes and the last one.
    @Test func anAutoscaledRunShowsItsBudgetAndLastChange() {
        var s = Self.known
        s.autoscaleCores = 2
        s.stages[2].scaledUp = 2
        s.stages[0].scaledDown = 1
        let before = TopView.lines(s, runDirectory: Self.runDirectory, width: 80, height: 24)
        #expect(before[3] == "autoscale 2.0 cores  3 changes")
        s.autoscaleLast = "infer 1 -> 2 at 3.5 s: busy 133% of 1, batches wait 110.0 ms\u{1b}[2J"
        let lines = TopView.lines(s, runDirectory: Self.runDirectory, width: 80, height: 24)
        #expect(lines[3] == "autoscale 2.0 cores  3 changes  last: infer 1 -> 2 at 3.5 s: busy 133% of 1, bat")
        #expect(lines[4] == "" && lines[5].hasPrefix("STAGE") && lines.count == 10)
        #expect(!TopView.lines(Self.known, width: 80).contains { $0.hasPrefix("autoscale") }, "not autoscaled: no line")
    }

    /// A precision other than float32 is said after the model, the model's path cut to make room.
    @Test func aScaledDownModelSaysItsPrecision() {
        var s = Self.known
        s.precision = "int8"
        let lines = TopView.lines(s, runDirectory: Self.runDirectory, width: 80, height: 24)
        #expect(lines[0] == "pipeline /run/user/1000/pipeline/demo  up 2m05s  model ...odels/demo.onnx (int8)")
        #expect(lines[0].count <= 80)
        s.precision = "float32"
        #expect(TopView.lines(s, runDirectory: Self.runDirectory, width: 80, height: 24)[0].hasSuffix("demo.onnx"))
    }

    /// Four stages fit an 80x24 terminal: every line whole, in printable ASCII.
    @Test func fourStagesFitEightyByTwentyFour() {
        let lines = TopView.lines(Self.known, runDirectory: Self.runDirectory, width: 80, height: 24)
        #expect(lines.count <= 24 && lines.allSatisfy { $0.count <= 80 && Self.isPrintableASCII($0) })
        for name in ["ingest", "featurize", "infer", "aggregate"] {
            #expect(lines.filter { $0.hasPrefix(name + " ") }.count == 1, "\(name)")
        }
    }

    @Test func aStageWithoutReadyReplicasShowsIt() {
        var s = Self.known
        s.stages[2].ready = 0
        s.stages[2].desired = 2
        s.stages[2].recentRecordsPerSecond = 0
        s.stages[2].recentBusy = 0
        s.stages[2].recentQueue = Histogram()
        let lines = TopView.lines(s, runDirectory: Self.runDirectory, width: 80, height: 24)
        #expect(lines[7] == "infer        0/2          0     0.0          -          -         2  40.5MB")
    }

    /// A terminal narrower than a row cuts each line at its edge: as many lines as at 80
    /// columns (nothing wraps onto another), each the start of the wide one.
    @Test(arguments: [1, 20, 40, 60, 79])
    func aNarrowTerminalCutsLines(width: Int) {
        let wide = TopView.lines(Self.known, runDirectory: Self.runDirectory, width: 200)
        let narrow = TopView.lines(Self.known, runDirectory: Self.runDirectory, width: width)
        #expect(narrow.count == wide.count)
        #expect(narrow.allSatisfy { $0.count <= width })
        for (n, w) in zip(narrow, wide).dropFirst() { #expect(n == String(w.prefix(width))) }
        // The first line gives its paths' room away, cut from the left.
        #expect(narrow[0].hasPrefix(String("pipeline ...".prefix(width))) || narrow[0].hasPrefix("pipeline /run"))
    }

    @Test func theMetricsAddressAndNoInputSize() {
        var s = Self.known
        s.metricsAddress = "127.0.0.1:9464"
        s.inputSize = 0
        let lines = TopView.lines(s, width: 80)
        #expect(lines[0] == "up 2m05s  model /home/me/pipeline/models/demo.onnx")
        #expect(lines[1] == "records read 52.3k  written 52.1k  rejected 12  rate 2.5k/s over 5s")
        #expect(lines[2] == "in flight 3 batches  latency p50 3.9ms  p99 47.5ms  metrics 127.0.0.1:9464")
    }

    @Test(arguments: [(0, 0), (451_200, 45), (999_999, 99), (1_000_000, 100), (1_200_000, 100)])
    func percentReadOnlyReachesHundredAtTheEnd(bytesIn: UInt64, percent: Int) {
        var s = Self.known
        s.bytesIn = bytesIn
        #expect(TopView.lines(s, width: 80)[1].hasPrefix("records read 52.3k (\(percent)%)  written"))
    }

    @Test func longPathsAreCutFromTheLeft() {
        var s = Self.known
        let long = "/" + Array(repeating: "a-rather-long-directory", count: 8).joined(separator: "/")
        s.model = long + "/models/fraud-2024.onnx"
        let first = TopView.lines(s, runDirectory: "/tmp/x", width: 80)[0]
        #expect(first.count == 80)
        #expect(first.hasPrefix("pipeline /tmp/x  up 2m05s  model ...") && first.hasSuffix("/models/fraud-2024.onnx"))
        #expect(TopView.lines(s, runDirectory: "/tmp/x", width: 47)[0] == "pipeline /tmp/x  up 2m05s  model ...d-2024.onnx")
        #expect(TopView.lines(s, runDirectory: "/tmp/x", width: 45)[0] == "pipeline /tmp/x  up 2m05s  model ...2024.onnx")
        // Less than 12 columns for the model: it is left out.
        #expect(TopView.lines(s, runDirectory: "/tmp/x", width: 44)[0] == "pipeline /tmp/x  up 2m05s")
        // A run directory too long for the line keeps its end, and the uptime.
        #expect(TopView.lines(s, runDirectory: long + "/demo", width: 60)[0]
                == "pipeline ...directory/a-rather-long-directory/demo  up 2m05s")
    }

    @Test func emptyHistogramsAndNoMemoryShowADash() {
        var s = StatusSnapshot()
        s.stages = [Self.stage("infer")]
        let lines = TopView.lines(s, width: 80)
        #expect(lines[0] == "up 0s")
        #expect(lines[1] == "records read 0  written 0  rejected 0  rate 0/s over 5s")
        #expect(lines[2] == "in flight 0 batches  latency p50 -  p99 -")
        #expect(lines[5] == "infer        1/1          0     0.0          -          -         0       -")
    }

    @Test func waitsPastTheLastBucketShowAsMoreThanTenSeconds() {
        var s = StatusSnapshot()
        s.batchesInFlight = 1
        s.latency = Self.queue([(1_000_000, 60), (60_000_000_000, 40)])
        s.stages = [Self.stage("infer", queue: Self.queue([(12_000_000_000, 1)]))]
        let lines = TopView.lines(s, width: 80)
        #expect(lines[2] == "in flight 1 batch  latency p50 917us  p99 >10s")
        #expect(lines[5] == "infer        1/1          0     0.0       >10s       >10s         0       -")
    }

    @Test func waitsInTheFirstBucketShowAsLessThanItsBound() {
        var s = StatusSnapshot()
        s.stages = [Self.stage("infer", queue: Self.queue([(4_000, 90), (30_000, 10)]))]
        let lines = TopView.lines(s, width: 80)
        #expect(lines[5].contains("      <10us"), "\(lines[5])")
        #expect(!lines[5].contains("<10us      <10us"), "p99 is past the first bucket: \(lines[5])")
    }

    @Test func controlAndNonASCIICharactersNeverReachTheTerminal() {
        var s = Self.known
        s.model = "/tmp/\u{1B}[2J\u{7}evil\nmodel\u{9B}31m.onnx"
        s.metricsAddress = "\r:1"
        s.stages[0].name = "in\u{1B}gest"
        let lines = TopView.lines(s, runDirectory: "/tmp/caf\u{E9}/\u{6F22}\u{5B57}", width: 200)
        #expect(lines.allSatisfy(Self.isPrintableASCII))
        let text = lines.joined()
        #expect(text.contains("pipeline /tmp/caf?/??  up"))
        #expect(text.contains("model /tmp/?[2J?evil?model?31m.onnx") && text.contains("metrics ?:1") && text.contains("in?gest"))
    }

    /// Whatever the values, rows fit 80 columns whole, and any width is respected.
    @Test func everyLineFitsTheWidth() {
        var s = StatusSnapshot()
        s.uptimeNanos = .max
        s.model = String(repeating: "m", count: 500)
        s.metricsAddress = "[2001:db8::1]:9464"
        s.recordsIn = .max
        s.recordsOut = .max
        s.rejected = .max
        s.recentRecordsOutPerSecond = 9.99e20
        s.batchesInFlight = 4096
        s.inputSize = 1
        s.bytesIn = .max
        s.latency = Self.queue([(UInt64.max, 1)])
        s.stages = ["ingest", "featurize", "infer", "aggregate"].map {
            Self.stage($0, ready: 64, desired: 64, rate: .infinity, busy: 64, queue: Self.queue([(UInt64.max, 1)]),
                       restarts: .max, rss: .max)
        }
        let wide = TopView.lines(s, runDirectory: String(repeating: "/d", count: 100), width: 80)
        #expect(wide.allSatisfy { $0.count <= 80 })
        #expect(wide[1] == "records read 18.4E (100%)  written 18.4E  rejected 18.4E  rate 999E/s over 5s")
        #expect(wide[2] == "in flight 4096 batches  latency p50 >10s  p99 >10s  metrics [2001:db8::1]:9464")
        #expect(wide[5] == "ingest     64/64          -  6400.0       >10s       >10s     18.4E  16.0EB")
        for width in [1, 2, 10, 40, 79, 80, 81, 200] {
            let lines = TopView.lines(s, width: width)
            #expect(lines.count == 9 && lines.allSatisfy { $0.count <= width }, "width \(width)")
        }
    }

    static func versions(_ rollout: StatusSnapshot.Models.Rollout = .steady,
                         _ versions: [(String, String, UInt64)] = [("aadff3884d0b", "primary", 52_101)],
                         shadow: (version: String, stats: ShadowStats)? = nil) -> StatusSnapshot.Models {
        var m = StatusSnapshot.Models()
        m.versions = versions.map { .init(id: $0.0, role: $0.1, records: $0.2) }
        m.rollout = rollout
        m.shadow = shadow
        return m
    }

    static var figures: ShadowStats {
        var f = ShadowStats()
        f.rows = 5_000
        f.labelDisagreements = 195
        f.maxDifference = 0.37123
        f.sumOfRowMaxima = 229.5
        return f
    }

    /// The primary version under the in-flight line, then a rollout in progress in `pipeline ps`'s
    /// words; a running shadow adds its figures. Every line fits 80 columns with ids of 12.
    @Test func modelVersionsAndARolloutInProgress() {
        var s = Self.known
        s.models = Self.versions()
        var lines = TopView.lines(s, runDirectory: Self.runDirectory, width: 80, height: 24)
        #expect(lines[3] == "primary aadff3884d0b (52.1k records)")
        #expect(lines[4] == "" && lines[5].hasPrefix("STAGE") && lines.count == 10)

        s.models = Self.versions(.loading(version: "574b9f2ab86c", mode: "canary"))
        #expect(TopView.lines(s, width: 80)[3] == "primary aadff3884d0b (52.1k records)  loading 574b9f2ab86c for a canary")

        s.models = Self.versions(.canary(version: "574b9f2ab86c", basisPoints: 1250),
                                 [("aadff3884d0b", "primary", 45_900), ("574b9f2ab86c", "canary", 6_201), ("v0", "previous", 900)])
        #expect(TopView.lines(s, width: 80)[3] == "primary aadff3884d0b (45.9k records)  canary 574b9f2ab86c 12.5 % (6.2k records)")

        let shadowing: [(String, String, UInt64)] = [("aadff3884d0b", "primary", 52_101), ("574b9f2ab86c", "shadow", 0)]
        s.models = Self.versions(.shadow(version: "574b9f2ab86c"), shadowing, shadow: ("574b9f2ab86c", Self.figures))
        lines = TopView.lines(s, runDirectory: Self.runDirectory, width: 80, height: 24)
        #expect(lines[3] == "primary aadff3884d0b (52.1k records)  shadow 574b9f2ab86c scores every batch too")
        #expect(lines[4] == "shadow 5.0k records compared  labels differ 3.90 %  largest difference 0.3712")
        #expect(lines[5] == "" && lines[6].hasPrefix("STAGE") && lines.count == 11)
        #expect(lines.allSatisfy { $0.count <= 80 })

        // Autoscaled too: the versions first, then the autoscaler's line.
        s.autoscaleCores = 2
        lines = TopView.lines(s, width: 80)
        #expect(lines[4].hasPrefix("shadow 5.0k") && lines[5] == "autoscale 2.0 cores  0 changes" && lines.count == 12)
    }

    /// A shadow that has ended (promoted or aborted) leaves its figures to `pipeline ps`; a
    /// snapshot without versions shows no line.
    @Test func anEndedShadowAndNoVersionsShowNoFigures() {
        var s = Self.known
        s.models = Self.versions(shadow: ("574b9f2ab86c", Self.figures))
        let lines = TopView.lines(s, width: 80)
        #expect(lines[3] == "primary aadff3884d0b (52.1k records)" && lines[4] == "")
        s.models = Self.versions(.shadow(version: "second"), shadow: ("574b9f2ab86c", Self.figures))
        #expect(TopView.lines(s, width: 80)[4] == "", "the figures are another shadow's")
        #expect(TopView.lines(Self.known, width: 80)[3] == "")
    }

    /// Long ids, control characters and figures past what a probability can be: printable
    /// lines, cut at the width, never a crash.
    @Test func versionLinesFitAnyWidthAndStayPrintable() {
        var s = Self.known
        var f = Self.figures
        f.rows = .max
        f.labelDisagreements = .max
        f.maxDifference = .nan
        let long = String(repeating: "v", count: 64)
        s.models = Self.versions(.shadow(version: long + "\u{1B}[2J"), [(long, "primary", .max)], shadow: (long + "\u{1B}[2J", f))
        let wide = TopView.lines(s, width: 400)
        #expect(wide[3] == "primary \(long) (18.4E records)  shadow \(long)?[2J scores every batch too")
        #expect(wide[4] == "shadow 18.4E records compared  labels differ 100.00 %  largest difference -")
        for width in [1, 20, 79, 80, 81] {
            let lines = TopView.lines(s, width: width)
            #expect(lines.count == 11 && lines.allSatisfy { $0.count <= width && Self.isPrintableASCII($0) }, "width \(width)")
            #expect(lines[3] == String(wide[3].prefix(width)) && lines[4] == String(wide[4].prefix(width)))
        }
        f.maxDifference = 3e9
        s.models.shadow = (long + "\u{1B}[2J", f)
        #expect(TopView.lines(s, width: 400)[4].hasSuffix("largest difference 3.0G"))
    }

    @Test func theHeightLeavesOutTheLastRows() {
        #expect(TopView.lines(Self.known, width: 80, height: 6).count == 6)
        #expect(TopView.lines(Self.known, width: 80, height: 6).last?.hasPrefix("ingest") == true)
        #expect(TopView.lines(Self.known, width: 80, height: 0).isEmpty)
    }

    @Test(arguments: [(0, "0"), (7.4, "7"), (999, "999"), (999.4, "999"), (999.5, "1.0k"), (1000, "1.0k"), (1234, "1.2k"),
                      (12_345, "12.3k"), (99_949, "99.9k"), (99_950, "100k"), (123_456, "123k"), (999_499, "999k"),
                      (999_500, "1.0M"), (3_400_000, "3.4M"), (2.5e12, "2.5T"), (-1, "-"), (.nan, "-"), (.infinity, "-")])
    func counts(value: Double, text: String) {
        #expect(TopFormat.count(value) == text)
    }

    @Test(arguments: [(nil, "-"), (0, "0us"), (0.000085, "85us"), (0.0009994, "999us"), (0.0009996, "1.0ms"),
                      (0.0013, "1.3ms"), (0.0999, "99.9ms"), (0.25, "250ms"), (0.99996, "1.0s"), (2.5, "2.5s"),
                      (150, "150s"), (-1, "-")] as [(Double?, String)])
    func durations(seconds: Double?, text: String) {
        #expect(TopFormat.duration(seconds) == text)
    }

    @Test(arguments: [(0, "-"), (1, "0.0MB"), (12_373_196, "11.8MB"), (123 << 20, "123MB"), (999 << 20, "999MB"),
                      (1000 << 20, "1.0GB"), (5 << 30, "5.0GB"), (300 << 30, "300GB")] as [(UInt64, String)])
    func memory(bytes: UInt64, text: String) {
        #expect(TopFormat.memory(bytes) == text)
    }

    @Test(arguments: [(0, "0s"), (59, "59s"), (60, "1m00s"), (125, "2m05s"), (3599, "59m59s"), (3600, "1h00m"),
                      (86_399, "23h59m"), (86_400, "1d00h"), (200_000, "2d07h")] as [(UInt64, String)])
    func uptimes(seconds: UInt64, text: String) {
        #expect(TopFormat.uptime(nanos: seconds * 1_000_000_000 + 999_999_999) == text)
    }

    @Test func framesOverwriteInPlace() {
        let esc = "\u{1B}"
        // Short lines are erased to their end; the rest of the screen below the frame too.
        #expect(TopScreen.frame(["ab", "c"], width: 3, height: 4) == "\(esc)[Hab\(esc)[K\r\nc\(esc)[K\r\n\(esc)[J")
        // A full-width line gets no erase (it would take its last character), and a frame that
        // fills the height ends on its last line (a line feed there would scroll).
        #expect(TopScreen.frame(["abc", "d"], width: 3, height: 2) == "\(esc)[Habc\r\nd\(esc)[K")
        #expect(TopScreen.frame([], width: 3, height: 2) == "\(esc)[H\(esc)[J")
        #expect(TopScreen.enter.contains("\(esc)[?1049h") && TopScreen.leave.contains("\(esc)[?1049l"))
    }
}
