import ControlCore
import Config
import Messages
import PipelineSink
import PipelineSupervisor
import Runtime

/// A pipeline found running in a run directory under the default roots.
struct RunningPipeline {
    /// The run directory's name: the config's `name`.
    let name: String
    let runDirectory: RunDirectory
    /// The supervisor's pid (0 in the moment between taking the lock and writing it).
    let pid: Int32
    /// The config file it runs, as its supervisor recorded it (nil for a supervisor older than that record).
    let configPath: String?

    /// Every pipeline running in a run directory under `RunDirectory.defaultRoots()`, by name.
    /// Directories that are not safe run directories (another owner, open modes, links) are passed over.
    static func all() -> [RunningPipeline] {
        var found: [RunningPipeline] = []
        var seen: Set<String> = []
        for root in RunDirectory.defaultRoots() {
            for name in ((try? Sys.listDirectory(root)) ?? []).sorted() {
                let dir = RunDirectory(path: root + "/" + name)
                guard seen.insert(dir.path).inserted, (try? dir.check(dir.path)) != nil, let pid = dir.runningPid() else { continue }
                let config = (try? Sys.readFile(dir.configRecordPath, limit: 1 << 16))
                    .flatMap { String(validating: $0, as: UTF8.self) }
                    .map { $0.hasSuffix("\n") ? String($0.dropLast()) : $0 }
                found.append(RunningPipeline(name: name, runDirectory: dir, pid: pid, configPath: config))
            }
        }
        return found
    }

    /// One line naming it, for messages.
    var summary: String { "\(name)  pid \(pid)  \(runDirectory.path)" + (configPath.map { "  (\($0))" } ?? "") }
}

/// `pipeline ls`: the running pipelines, with what `ps` needs to name each.
enum ListCommand {
    static func run(json: Bool) -> ExitCode {
        let rows = RunningPipeline.all().map { p in (p, status(p.runDirectory)) }
        if json {
            let items = rows.map { p, s -> String in
                var fields = ["\"name\":" + RejectLine.quote(p.name), "\"pid\":\(p.pid)"]
                if let s {
                    fields.append("\"uptime_s\":\(StatusFormat.decimal(Double(s.uptimeNanos) / 1e9))")
                    fields.append("\"replicas\":{" + s.stages.map { RejectLine.quote($0.name) + ":\($0.ready)" }.joined(separator: ",") + "}")
                    fields.append("\"desired\":{" + s.stages.map { RejectLine.quote($0.name) + ":\($0.desired)" }.joined(separator: ",") + "}")
                }
                fields.append("\"config\":" + (p.configPath.map(RejectLine.quote) ?? "null"))
                fields.append("\"run_dir\":" + RejectLine.quote(p.runDirectory.path))
                return "{" + fields.joined(separator: ",") + "}"
            }
            try? Sys.writeAll(1, "[" + items.joined(separator: ",\n ") + "]\n")
            return .ok
        }
        let header = ["NAME", "PID", "UPTIME", "REPLICAS", "CONFIG", "RUN DIR"]
        let table = [header] + rows.map { p, s in
            [p.name, "\(p.pid)", s.map { StatusFormat.duration(Double($0.uptimeNanos) / 1e9) } ?? "-",
             s.map(replicas) ?? "-", p.configPath ?? "-", p.runDirectory.path]
        }
        var widths = Array(repeating: 0, count: header.count)
        for row in table { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        let text = table.map { row in
            row.enumerated().map { i, cell in cell + String(repeating: " ", count: widths[i] - cell.count) }
                .joined(separator: "  ").reversed().drop { $0 == " " }.reversed()
        }.map { String($0) }.joined(separator: "\n")
        try? Sys.writeAll(1, text + "\n")
        return .ok
    }

    /// `ingest=1,featurize=1,infer=2,aggregate=1`: ready replicas, `ready/desired` where they differ.
    static func replicas(_ s: StatusSnapshot) -> String {
        s.stages.map { $0.name + "=" + ($0.ready == $0.desired ? "\($0.ready)" : "\($0.ready)/\($0.desired)") }.joined(separator: ",")
    }

    /// What the supervisor says of its run, or nil when it does not answer (still starting, stopping).
    static func status(_ runDir: RunDirectory) -> StatusSnapshot? {
        try? ClientCommands.exchange(runDir, Request(operation: .status)) { try StatusSnapshot.decode($0) }
    }
}

/// Numbers as `ls` writes them.
enum StatusFormat {
    /// 3 decimals.
    static func decimal(_ x: Double) -> String {
        let thousandths = Int((x * 1000).rounded())
        let rest = String(1000 + thousandths % 1000).dropFirst()
        return "\(thousandths / 1000).\(rest)"
    }

    /// `4.2s`, `12m05s`, `3h07m`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 60 {
            let tenths = Int((seconds * 10).rounded(.down))
            return "\(tenths / 10).\(tenths % 10)s"
        }
        let s = Int(seconds)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return s < 3600 ? "\(s / 60)m\(two(s % 60))s" : "\(s / 3600)h\(two(s / 60 % 60))m"
    }
}
