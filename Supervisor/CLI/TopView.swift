import Messages

/// What `pipeline top` shows of a `StatusSnapshot`: a pure function of the snapshot, the run
/// directory and the screen's size, so that tests can check frames exactly.
///
///     pipeline /run/user/1000/pipeline/demo  up 2m05s  model .../models/demo.onnx
///     records read 52.3k (45%)  written 52.1k  rejected 12  rate 2.5k/s over 5s
///     in flight 3 batches  latency p50 4.5ms  p99 24.6ms
///     primary aadff3884d0b (52.1k records)  shadow 574b9f2ab86c scores every batch too
///     shadow 12.0k records compared  labels differ 3.90 %  largest difference 0.3712
///     autoscale 2.0 cores  1 change  last: infer 1 -> 2 at 3.5 s: busy 133% of 1, batches wait ...
///
///     STAGE      READY  RECORDS/S   BUSY%  QUEUE p50  QUEUE p99  RESTARTS     RSS
///     ingest       1/1       2.5k     3.1      177us     37.5ms         0  11.8MB
///
/// Lines hold printable ASCII only (no control codes and nothing wider than one cell, whatever
/// the paths hold) and at most `width` characters: longer ones are cut, never wrapped. There are
/// at most `height` lines. With four stages a frame is 10 lines (the model versions' one
/// included) and fits 80 columns whatever the numbers; a running shadow's figures and
/// autoscaling add a line each (see `modelLines` for the versions' lines).
enum TopView {
    /// A column of the stage table: its title and width (numbers are right-aligned).
    struct Column {
        var title: String
        var width: Int
        var left = false
    }

    static let columns = [
        Column(title: "STAGE", width: 9, left: true), Column(title: "READY", width: 5),
        Column(title: "RECORDS/S", width: 9), Column(title: "BUSY%", width: 6),
        Column(title: "QUEUE p50", width: 9), Column(title: "QUEUE p99", width: 9),
        Column(title: "RESTARTS", width: 8), Column(title: "RSS", width: 6),
    ]

    /// The frame's lines.
    /// - Parameters:
    ///   - runDirectory: the run directory's path (the pipeline's identity), or empty.
    ///   - width: columns available (at least 1); longer lines are cut.
    ///   - height: lines available; the stage rows past it are left out.
    static func lines(_ s: StatusSnapshot, runDirectory: String = "", width: Int, height: Int = .max) -> [String] {
        let width = max(1, width)
        var out: [String] = []

        // The run directory and the model are paths: their ends say most, so they are cut from
        // the left, the run directory first given room, the model what is left (if enough).
        let up = "up \(TopFormat.uptime(nanos: s.uptimeNanos))"
        var head = ""
        if !runDirectory.isEmpty {
            let room = width - "pipeline ".count - 2 - up.count
            head = "pipeline " + cutLeft(printable(runDirectory), to: max(room, 12)) + "  "
        }
        head += up
        // A precision other than float32 is said after the model (it changes the scores).
        let precision = s.precision == "float32" || s.precision.isEmpty ? "" : " (\(printable(s.precision)))"
        let modelRoom = width - head.count - "  model ".count - precision.count
        if !s.model.isEmpty && modelRoom >= 12 { head += "  model " + cutLeft(printable(s.model), to: modelRoom) + precision }
        out.append(head)

        var counts = "records read \(TopFormat.count(s.recordsIn))"
        if s.inputSize > 0 {
            // Whole percents of stdin, rounded down, so that 100% means all of it.
            counts += " (\(Int(min(100, Double(s.bytesIn) * 100 / Double(s.inputSize))))%)"
        }
        counts += "  written \(TopFormat.count(s.recordsOut))  rejected \(TopFormat.count(s.rejected))"
        // RunMetrics keeps samples of the last 5 seconds (less at the start of a run).
        counts += "  rate \(TopFormat.count(s.recentRecordsOutPerSecond))/s over 5s"
        out.append(counts)

        var flight = "in flight \(s.batchesInFlight) batch\(s.batchesInFlight == 1 ? "" : "es")"
        flight += "  latency p50 \(quantile(s.latency, 0.5))  p99 \(quantile(s.latency, 0.99))"
        if !s.metricsAddress.isEmpty { flight += "  metrics \(printable(s.metricsAddress))" }
        out.append(flight)
        out += modelLines(s.models)
        if s.autoscaleCores > 0 {
            // Autoscaled: the budget, how many changes were made, and the last with its reason.
            let changes = s.stages.reduce(0) { $0 + $1.scaledUp + $1.scaledDown }
            var line = "autoscale \(TopFormat.oneDecimal(s.autoscaleCores)) cores  \(changes) change\(changes == 1 ? "" : "s")"
            if !s.autoscaleLast.isEmpty { line += "  last: " + printable(s.autoscaleLast) }
            out.append(line)
        }
        out.append("")

        out.append(row(columns.map(\.title)))
        for stage in s.stages {
            out.append(row([
                printable(stage.name),
                "\(stage.ready)/\(stage.desired)",
                TopFormat.count(stage.recentRecordsPerSecond),
                TopFormat.oneDecimal(stage.recentBusy * 100),
                quantile(stage.recentQueue, 0.5),
                quantile(stage.recentQueue, 0.99),
                TopFormat.count(stage.restarts),
                TopFormat.memory(stage.residentBytes),
            ]))
        }
        return out.prefix(max(0, height)).map { cut($0, to: width) }
    }

    /// Quantile `q` of `h` as a duration: "-" when empty, `>10s` when it lies in the histogram's
    /// open bucket (past its last bound), where the histogram does not know how far, and `<10us`
    /// in its first bucket, where it does not know how short.
    static func quantile(_ h: Histogram, _ q: Double) -> String {
        let total = h.counts.reduce(0, +)
        guard total > 0 else { return "-" }
        let bounded = total - h.counts[Histogram.bounds.count]
        if Double(bounded) < q * Double(total) {
            return ">" + TopFormat.count(Histogram.bounds.last!) + "s"
        }
        // Inside the first bucket the histogram knows only "below its bound".
        if Double(h.counts[0]) >= q * Double(total) { return "<" + TopFormat.duration(Histogram.bounds[0]) }
        return TopFormat.duration(h.quantile(q))
    }

    /// Cells padded to their columns, two spaces apart, without trailing spaces.
    static func row(_ cells: [String]) -> String {
        var line = ""
        for (i, (cell, column)) in zip(cells, columns).enumerated() {
            let pad = String(repeating: " ", count: max(0, column.width - cell.count))
            if i > 0 { line += "  " }
            line += column.left ? cell + pad : pad + cell
        }
        while line.last == " " { line.removeLast() }
        return line
    }

    /// `text` as printable ASCII: anything else (control characters, which a terminal would take
    /// for commands; and every non-ASCII character, whose width on screen is unknown) becomes `?`.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { s in (0x20..<0x7F).contains(s.value) ? s : "?" }))
    }

    /// The first `width` characters of `text`.
    static func cut(_ text: String, to width: Int) -> String {
        text.count <= width ? text : String(text.prefix(width))
    }

    /// The end of `text` in at most `width` characters, `...` in front when cut (the end of a
    /// path says most).
    static func cutLeft(_ text: String, to width: Int) -> String {
        if text.count <= width { return text }
        guard width > 3 else { return String(text.suffix(max(0, width))) }
        return "..." + text.suffix(width - 3)
    }
}
