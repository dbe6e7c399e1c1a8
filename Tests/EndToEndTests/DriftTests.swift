import Foundation
import Testing

/// The drift watch through the real binaries: `pipeline profile` of training records, `up` with
/// `[drift]` on streams that drift (a numeric field's mean by half a standard deviation, 10
/// points of a category's share), the figures checked by an independent numpy computation
/// (tools/drift_check.py), the windows unchanged by kill -9 storms, and the live views.
@Suite struct DriftTests {
    /// Demo transactions: amount ~ Normal(52, 30) (+ `shift` standard deviations), hour uniform,
    /// country US 50%, DE 25%, FR 15%, GB 7%, IT 3% (`moved` points from US to DE), a third new.
    static func records(_ count: Int, seed: UInt64, firstID: Int = 1, shift: Double = 0, moved: Double = 0) -> String {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func unit() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        let shares: [(String, Double)] = [("US", 0.5 - moved / 100), ("DE", 0.25 + moved / 100), ("FR", 0.15), ("GB", 0.07), ("IT", 0.03)]
        var out = ""
        for i in 0..<count {
            let normal = (-2 * log(unit())).squareRoot() * cos(2 * Double.pi * unit())
            let amount = ((52 + 30 * (normal + shift)) * 100).rounded() / 100
            let hour = Int(unit() * 24)
            var u = unit(), country = "IT"
            for (name, share) in shares {
                if u < share { country = name; break }
                u -= share
            }
            out += "{\"id\":\(firstID + i),\"amount\":\(amount),\"hour\":\(hour),\"country\":\"\(country)\",\"is_new_customer\":\(unit() < 1.0 / 3)}\n"
        }
        return out
    }

    static func config(window: Int = 10_000, replicas: String = "", format: String = "jsonl") -> String {
        Records.config(format: format, batchRows: 256, window: 16) + "\n[drift]\nreference = \"reference.json\"\nwindow = \(window)\n" + replicas
    }

    /// The event log's drift events, without their time.
    static func driftEvents(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line in
            guard var object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let event = object["event"] as? String, event.hasPrefix("drift") else { return nil }
            object["time"] = nil
            object["uptime_s"] = nil
            return object
        }
    }

    /// The independent numpy check, when Python with numpy is there (`.ci/run` installs it).
    static func pythonCheck(reference: String, input: String, output: String, events: String) throws -> Finished? {
        let probe = try Running("/usr/bin/env", ["python3", "-c", "import numpy"], stdinFile: "/dev/null").finish()
        guard probe.status == 0 else { return nil }
        return try Running("/usr/bin/env", ["python3", Paths.root + "/tools/drift_check.py", "--reference", reference, "--input", input,
                                            "--output", output, "--events", events, "--levels", "--tolerance", "1e-6"],
                           stdinFile: "/dev/null").finish()
    }

    @Test func aShiftedMeanAndAMovedShareAreAlertedNamingTheirFieldOnly() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let training = ws.write("training.jsonl", Self.records(20_000, seed: 1))
        let cfg = ws.write("pipeline.toml", Self.config(replicas: "\n[stage.featurize]\nreplicas = 2\n[stage.aggregate]\nreplicas = 2\n"))
        let profile = try pipeline(["profile", "-f", cfg, "--output", ws.path + "/reference.json"], stdinFile: training)
        #expect(profile.status == 0, "\(profile.err)")
        #expect(profile.err.contains("profiled 20000 records"), "\(profile.err)")
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ws.path + "/reference.json"))) as? [String: Any])
        let fields = try #require(reference["fields"] as? [[String: Any]])
        // The fields the features read (not `id`), in schema order; the model's label and score.
        #expect(fields.map { $0["name"] as? String } == ["amount", "hour", "country", "is_new_customer"])
        #expect((reference["predictions"] as? [[String: Any]])?.map { $0["name"] as? String } == ["label", "score"])
        // amount's edges are its training values at the deciles (numpy's method="lower").
        let amounts = Self.records(20_000, seed: 1).split(separator: "\n").map { line in
            Double(line.split(separator: ",")[1].dropFirst("\"amount\":".count))!
        }.sorted()
        let deciles = (1..<10).map { amounts[Int((Double($0) / 10 * Double(amounts.count - 1)).rounded(.down))] }
        #expect(fields[0]["edges"] as? [Double] == deciles)
        #expect((fields[0]["counts"] as? [Int])?.reduce(0, +) == 20_000)

        // 10,000 records as trained, 10,000 with amount half a standard deviation up, 10,000
        // with 10 points of share moved from US to DE.
        let stream = Self.records(10_000, seed: 2) + Self.records(10_000, seed: 3, firstID: 10_001, shift: 0.5)
            + Self.records(10_000, seed: 4, firstID: 20_001, moved: 10)
        let input = ws.write("stream.jsonl", stream)
        let events = ws.path + "/events.jsonl", stats = ws.path + "/stats.json"
        let run = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--events", events, "--stats", stats], stdinFile: input)
        #expect(run.status == 0, "\(run.err)")
        let windows = try Self.driftEvents(events).filter { $0["event"] as? String == "drift_window" }
        #expect(windows.map { "\($0["first_line"]!)-\($0["last_line"]!)" } == ["1-10000", "10001-20000", "20001-30000"],
                "windows of exactly 10,000 input records")
        let alerts = try Self.driftEvents(events).filter { $0["event"] as? String == "drift" }
        func inputFields(_ window: Int, _ level: String) -> [String] {
            alerts.filter { $0["window"] as? Int == window && $0["level"] as? String == level }
                .compactMap { $0["field"] as? String }.filter { !$0.hasPrefix("prediction.") }
        }
        #expect(alerts.filter { $0["window"] as? Int == 1 }.isEmpty, "the undrifted window raises nothing: \(alerts)")
        #expect(inputFields(2, "alert") == ["amount"] && inputFields(2, "warn").isEmpty, "\(alerts)")
        #expect(inputFields(3, "alert") == ["country"] && inputFields(3, "warn").isEmpty, "\(alerts)")
        #expect(run.err.contains("drift alert: amount psi"), "\(run.err)")
        #expect(run.err.contains("[pipeline] drift: amount (alert, "), "the run's summary names the fields: \(run.err)")
        // `check` says what is watched; the event log's first line names the reference.
        let check = try pipeline(["check", "-f", cfg])
        #expect(check.out.contains("drift: reference \(ws.path)/reference.json (20000 records), window 10000 records; watching amount, hour, "
                                   + "country, is_new_customer, prediction.label, prediction.score"), "\(check.out)")
        let first = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n")[0]
        #expect(first.contains("\"event\":\"run_started\"") && first.contains("\"drift\":{\"reference\":\"\(ws.path)/reference.json\",\"window\":10000}"),
                "\(first)")
        let statistics = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stats))) as? [String: Any])
        let drift = try #require(statistics["drift"] as? [String: Any])
        #expect(drift["windows_closed"] as? Int == 3)

        // The same figures, computed again by numpy from the records and the output.
        let output = ws.write("output.jsonl", String(decoding: run.stdout, as: UTF8.self))
        if let check = try Self.pythonCheck(reference: ws.path + "/reference.json", input: input, output: output, events: events) {
            #expect(check.status == 0, "\(check.out)\(check.err)")
            #expect(check.out.contains("3 windows checked, 18 values checked"), "\(check.out)")
        } else {
            print("note: python3 with numpy not found: the independent drift check was skipped")
        }
    }

    /// kill -9 of featurize and aggregate replicas (the stages that count) during the stream:
    /// the same windows, with the same figures, as the fault-free run.
    @Test func killNineStormsLeaveTheWindowsUnchanged() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let training = ws.write("training.jsonl", Self.records(5_000, seed: 5))
        let cfg = ws.write("pipeline.toml", Self.config(window: 1_000, replicas: """

            [stage.featurize]
            replicas = 2
            [stage.featurize.restart]
            max = 100
            [stage.aggregate.restart]
            max = 100
            """))
        #expect(try pipeline(["profile", "-f", cfg, "--output", ws.path + "/reference.json"], stdinFile: training).status == 0)
        let parts = (0..<5).map { Self.records(1_200, seed: 6 + UInt64($0), firstID: 1 + 1_200 * $0, shift: $0 >= 3 ? 0.5 : 0) }
        let input = ws.write("stream.jsonl", parts.joined())
        let cleanEvents = ws.path + "/clean.jsonl"
        let clean = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--events", cleanEvents], stdinFile: input)
        #expect(clean.status == 0, "\(clean.err)")

        let events = ws.path + "/storm.jsonl"
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir, "--events", events])
        var kills = 0
        for (i, part) in parts.enumerated() {
            run.write(part)
            guard i < 4 else { continue }
            #expect(run.waitForLines(1_200 * i + 1) > 1_200 * i, "stream moving before kill \(i)")
            for stage in ["featurize", "aggregate"] {
                #expect(waitUntil { !replicaPids(ws.runDir, stage).isEmpty })
                for pid in replicaPids(ws.runDir, stage) where kill(pid, SIGKILL) == 0 { kills += 1 }
            }
        }
        let result = run.finish()
        #expect(result.status == 0, "\(result.err)")
        #expect(kills >= 8)
        #expect(same(result.stdout, clean.stdout))
        let expected = try Self.driftEvents(cleanEvents), got = try Self.driftEvents(events)
        #expect(expected.count >= 6 && NSArray(array: got).isEqual(to: expected), "\(got)\n\(expected)")
        #expect(expected.contains { $0["event"] as? String == "drift" && $0["field"] as? String == "amount" })
    }

    /// While the stream runs: `pipeline drift` (table and JSON), the `ps` line and the
    /// `pipeline_drift` gauges.
    @Test func aRunningPipelineShowsItsWindows() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let training = ws.write("training.jsonl", Self.records(5_000, seed: 9))
        let cfg = ws.write("pipeline.toml", Self.config(window: 1_000) + "\n[metrics]\nlisten = \"127.0.0.1:0\"\n")
        #expect(try pipeline(["profile", "-f", cfg, "--output", ws.path + "/reference.json"], stdinFile: training).status == 0)
        let run = try Running(Paths.pipeline, ["up", "-f", cfg, "--run-dir", ws.runDir])
        defer { _ = run.finish() }
        run.write(Self.records(1_000, seed: 10) + Self.records(1_500, seed: 11, firstID: 1_001, shift: 0.5))
        #expect(run.waitForLines(2_500) == 2_500)
        var table = ""
        #expect(waitUntil {
            table = (try? pipeline(["drift", "--run-dir", ws.runDir]))?.out ?? ""
            return table.contains("windows closed: 2")
        }, "\(table)")
        #expect(table.contains("window 1: lines 1–1000, 1,000 records") && table.contains("window 2: lines 1001–2000"), "\(table)")
        #expect(table.contains(/amount +psi +0\.\d{4} +0\.\d{4} alert/), "\(table)")
        #expect(table.contains("open window: 500 records"), "\(table)")
        let json = try pipeline(["drift", "--run-dir", ws.runDir, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        #expect((object["windows"] as? [[String: Any]])?.count == 2)
        #expect((object["drifted"] as? [[String: Any]])?.first?["field"] as? String == "amount")
        let ps = try pipeline(["ps", "--run-dir", ws.runDir])
        #expect(ps.out.contains("drift: window 2 (lines 1001–2000): amount psi"), "\(ps.out)")
        let address = try #require(run.stderrText.firstMatch(of: #/metrics on http://([0-9.]+:[0-9]+)/metrics/#).map { String($0.1) })
        let metrics = try httpGet(address, "/metrics").body
        #expect(metrics.contains("pipeline_drift_windows_total 2"), "\(metrics)")
        #expect(metrics.contains(/pipeline_drift\{field="amount",statistic="psi"\} 0\.\d+/), "\(metrics)")
        #expect(metrics.contains("pipeline_drift_level{field=\"amount\"} 2"), "\(metrics)")
    }

    @Test func unusableReferencesAreRefusedBeforeAnythingRuns() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Self.config())
        let input = ws.write("in.jsonl", Self.records(10, seed: 1))
        let missing = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: input)
        #expect(missing.status == 3 && missing.err.contains("[drift] reference \(ws.path)/reference.json: cannot read it: No such file"), "\(missing.err)")
        #expect(missing.stdout.isEmpty)
        _ = ws.write("reference.json", """
            {"profile": "pipeline drift reference", "version": 1, "records": 2,
             "fields": [{"name": "amout", "type": "float", "kind": "numeric", "edges": [1], "counts": [1, 1]}]}
            """)
        let unknown = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: input)
        #expect(unknown.status == 3 && unknown.err.contains("fields[0]: \"amout\" is not an input field; did you mean `amount`?"), "\(unknown.err)")
        _ = ws.write("reference.json", """
            {"profile": "pipeline drift reference", "version": 1, "records": 2,
             "predictions": [{"name": "label", "kind": "categorical", "values": ["0", "yes"], "counts": [1, 1]}], "fields": []}
            """)
        let labels = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir], stdinFile: input)
        #expect(labels.status == 3 && labels.err.contains("the predicted labels \"0\", \"yes\" are not among the model's classes (legit, fraud)"), "\(labels.err)")
        // Profiling: an unknown field, and records that are all rejected.
        let badField = try pipeline(["profile", "-f", cfg, "--fields", "amount,nope"], stdinFile: input)
        #expect(badField.status == 2 && badField.err.contains("--fields names \"nope\", which is not an input field"), "\(badField.err)")
        let junk = ws.write("junk.jsonl", "not json\n")
        let rejected = try pipeline(["profile", "-f", cfg], stdinFile: junk)
        #expect(rejected.status == 11 && rejected.err.contains("no record reached the model (1 rejected)"), "\(rejected.err)")
        // `pipeline drift` for a run without [drift].
        let plain = ws.write("plain.toml", Records.config())
        let run = try Running(Paths.pipeline, ["up", "-f", plain, "--run-dir", ws.runDir])
        defer { _ = run.finish() }
        run.write(Self.records(10, seed: 1))
        #expect(run.waitForLines(10) == 10)
        let none = try pipeline(["drift", "--run-dir", ws.runDir])
        #expect(none.status == 2 && none.err.contains("this pipeline watches no drift"), "\(none.err)")
    }

    /// Rejected records take their place in the windows (of input records) but are not counted;
    /// CSV input is windowed by records too (its header is not one).
    @Test func rejectedRecordsAndCSVKeepTheWindows() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let training = ws.write("training.jsonl", Self.records(3_000, seed: 13))
        let cfg = ws.write("pipeline.toml", Self.config(window: 1_000))
        #expect(try pipeline(["profile", "-f", cfg, "--output", ws.path + "/reference.json"], stdinFile: training).status == 0)
        // Every 7th line is not JSON: rejected at ingest.
        let lines = Self.records(2_500, seed: 14).split(separator: "\n").enumerated().map { $0.0 % 7 == 6 ? "not json" : String($0.1) }
        let input = ws.write("stream.jsonl", lines.joined(separator: "\n") + "\n")
        let events = ws.path + "/events.jsonl"
        let run = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--events", events, "--errors", ws.path + "/errors.jsonl"], stdinFile: input)
        #expect(run.status == 0, "\(run.err)")
        let windows = try Self.driftEvents(events).filter { $0["event"] as? String == "drift_window" }
        func accepted(_ first: Int, _ last: Int) -> Int { (first...last).filter { ($0 - 1) % 7 != 6 }.count }
        #expect(windows.map { "\($0["first_line"]!)-\($0["last_line"]!):\($0["records"]!)/\($0["input_records"]!)" }
                == ["1-1000:\(accepted(1, 1000))/1000", "1001-2000:\(accepted(1001, 2000))/1000", "2001-2500:\(accepted(2001, 2500))/500"])

        // The same records as CSV: windows by records, the header outside them.
        let csvConfig = ws.write("csv.toml", Self.config(window: 1_000, format: "csv"))
        var csv = "id,amount,hour,country,is_new_customer\n"
        for line in Self.records(2_500, seed: 14).split(separator: "\n") {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            csv += "\(o["id"]!),\(o["amount"]!),\(o["hour"]!),\(o["country"]!),\((o["is_new_customer"] as? Bool) == true ? "true" : "false")\n"
        }
        let csvInput = ws.write("stream.csv", csv)
        let csvEvents = ws.path + "/csv-events.jsonl"
        let csvRun = try pipeline(["up", "-f", csvConfig, "--run-dir", ws.runDir, "--events", csvEvents], stdinFile: csvInput)
        #expect(csvRun.status == 0, "\(csvRun.err)")
        let csvWindows = try Self.driftEvents(csvEvents).filter { $0["event"] as? String == "drift_window" }
        #expect(csvWindows.map { "\($0["first_line"]!)-\($0["last_line"]!):\($0["records"]!)" } == ["2-1001:1000", "1002-2001:1000", "2002-2501:500"])
        // Same records, same figures, whatever the input format.
        let jsonlRun = try pipeline(["up", "-f", cfg, "--run-dir", ws.runDir, "--events", ws.path + "/clean-events.jsonl"],
                                    stdinFile: ws.write("clean.jsonl", Self.records(2_500, seed: 14)))
        #expect(jsonlRun.status == 0)
        let clean = try Self.driftEvents(ws.path + "/clean-events.jsonl").filter { $0["event"] as? String == "drift_window" }
        #expect(NSArray(array: clean.map { $0["fields"]! }).isEqual(to: csvWindows.map { $0["fields"]! }))
    }

    /// A profile read from a pipe (read twice through a temporary file) equals one read from a file.
    @Test func aProfileFromAPipeEqualsOneFromAFile() throws {
        let ws = Workspace()
        defer { ws.remove() }
        let cfg = ws.write("pipeline.toml", Self.config())
        let training = ws.write("training.jsonl", Self.records(3_000, seed: 12))
        let fromFile = try pipeline(["profile", "-f", cfg, "--bins", "7"], stdinFile: training)
        let piped = try Running("/bin/sh", ["-c", "cat \(training) | \(Paths.pipeline) profile -f \(cfg) --bins 7"], stdinFile: "/dev/null").finish()
        #expect(fromFile.status == 0 && piped.status == 0, "\(piped.err)")
        #expect(!fromFile.stdout.isEmpty && same(fromFile.stdout, piped.stdout))
        #expect(String(decoding: fromFile.stdout, as: UTF8.self).contains("\"edges\": [") )
        // --fields and --no-predictions: only what was asked for.
        let some = try pipeline(["profile", "-f", cfg, "--fields", "hour,country", "--no-predictions"], stdinFile: training)
        let object = try #require(try JSONSerialization.jsonObject(with: some.stdout) as? [String: Any])
        #expect((object["fields"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["hour", "country"])
        #expect(object["predictions"] == nil && some.err.contains("profiled 3000 records") && some.err.contains(": hour, country\n"), "\(some.err)")
    }
}
