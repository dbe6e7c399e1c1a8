/// One line of a log as `pipeline logs` orders it: its time and its text.
struct LogLine: Equatable {
    /// The time the line starts with (RFC 3339, UTC, milliseconds: 24 characters), or, when it
    /// has none (a crash's message), the time of the line before it in its log; "" before any.
    var time: String
    /// What is printed after the source's prefix (without the time).
    var text: String
}

/// How `pipeline logs` reads the lines of the run's logs and puts them in one order.
enum LogLines {
    /// The time a replica's (or a detached supervisor's) log line starts with, and the rest;
    /// nil time when it does not start with one (`Log.timestamps`).
    static func splitTime(_ line: String) -> (time: String?, text: String) {
        let bytes = Array(line.utf8.prefix(25))
        guard bytes.count == 25, bytes[24] == UInt8(ascii: " "), isTimestamp(bytes[0..<24]) else { return (nil, line) }
        return (String(decoding: bytes[0..<24], as: UTF8.self), String(decoding: line.utf8.dropFirst(25), as: UTF8.self))
    }

    /// True for `2026-12-06T04:32:34.439Z`.
    static func isTimestamp(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count == 24 else { return false }
        let shape = Array("dddd-dd-ddTdd:dd:dd.dddZ".utf8)
        for (b, s) in zip(bytes, shape) {
            if s == UInt8(ascii: "d") {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) else { return false }
            } else if b != s {
                return false
            }
        }
        return true
    }

    /// An event-log line (`{"time":"…","uptime_s":…,"event":"NAME",FIELDS}`) as its time and
    /// `NAME {FIELDS}` (just `NAME` when it has no other field); nil for any other line.
    static func event(_ line: String) -> (time: String, text: String)? {
        let head = "{\"time\":\""
        guard line.hasPrefix(head), line.hasSuffix("}") else { return nil }
        let bytes = Array(line.utf8)
        var i = head.utf8.count
        guard bytes.count > i + 24, isTimestamp(bytes[i..<i + 24]) else { return nil }
        let time = String(decoding: bytes[i..<i + 24], as: UTF8.self)
        i += 24
        func expect(_ text: String) -> Bool {
            let t = Array(text.utf8)
            guard bytes.count >= i + t.count, Array(bytes[i..<i + t.count]) == t else { return false }
            i += t.count
            return true
        }
        guard expect("\",\"uptime_s\":") else { return nil }
        while i < bytes.count, bytes[i] != UInt8(ascii: ",") { i += 1 }
        guard expect(",\"event\":\"") else { return nil }
        let nameStart = i
        while i < bytes.count, bytes[i] != UInt8(ascii: "\"") { i += 1 }
        let name = String(decoding: bytes[nameStart..<min(i, bytes.count)], as: UTF8.self)
        guard expect("\"") else { return nil }
        if expect("}"), i == bytes.count { return (time, name) }
        guard expect(",") else { return nil }
        return (time, name + " {" + String(decoding: bytes[i...], as: UTF8.self))
    }

    /// Whether an event line is about one of `targets` (a stage's, or one replica's event).
    static func event(_ line: String, concerns targets: [LogTarget]) -> Bool {
        targets.contains { target in
            switch target {
            case .pipeline, .events:
                return true
            case .stage(let stage):
                return line.contains("\"stage\":\"\(stage.rawValue)\",") || line.contains("\"stage\":\"\(stage.rawValue)\"}")
            case .replica(let stage, let n):
                let field = "\"stage\":\"\(stage.rawValue)\",\"replica\":\(n)"
                return line.contains(field + ",") || line.contains(field + "}")
            }
        }
    }

    /// Merges logs, each kept in its own order, into one by time; a tie goes to the log given
    /// first. Returns each line with the index of its log.
    static func merge(_ logs: [[LogLine]]) -> [(log: Int, line: LogLine)] {
        var heads = Array(repeating: 0, count: logs.count)
        var out: [(log: Int, line: LogLine)] = []
        out.reserveCapacity(logs.reduce(0) { $0 + $1.count })
        while true {
            var best: Int?
            for i in logs.indices where heads[i] < logs[i].count {
                if let b = best, logs[b][heads[b]].time <= logs[i][heads[i]].time { continue }
                best = i
            }
            guard let b = best else { return out }
            out.append((b, logs[b][heads[b]]))
            heads[b] += 1
        }
    }
}
