import Messages

/// The report as Markdown (BENCHMARKS.md) and as a hand-written SVG bar chart.
extension BenchReport {
    func markdown() -> String {
        var out = "# Benchmarks\n\nMade by `\(command)` (after `swift build -c release`) on "
        out += "\(machine.description). Every configuration ran \(counted(options.rounds, "time")), alternately (A B C … A B C …), "
        out += "so that the machine's drift affects all alike; figures are medians with the range in parentheses.\n\n"
        out += "![records per second](docs/benchmark.svg)\n"
        for w in workloads {
            out += "\n## \(w.workload.name)\n\n\(w.workload.summary). \(counted(w.records, "record")), \(format(Double(w.bytes) / 1e6, 1)) MB.\n\n"
            out += table(workloadRows(w))
            out += "\n" + ratioLines(w).map { "- " + $0 }.joined(separator: "\n") + "\n"
        }
        if !kernels.isEmpty {
            out += "\n## Kernels (one thread, batch 256, rows/s)\n\n" + table(kernelRows())
            if let line = int8Line() { out += "\n- " + line + "\n" }
        }
        let phased = phasedLines()
        if !phased.isEmpty {
            out += "\n## Autoscale on a stream in phases\n\n![replicas over time](docs/autoscale.svg)\n\n"
            out += "```\n" + phased.dropFirst().map { String($0.dropFirst(3)) }.joined(separator: "\n") + "\n```\n"
        }
        let extras = extraLines().filter { !$0.isEmpty }
        if !extras.isEmpty {
            out += "\n## Latency, footprint, cost versus size\n\n"
            for line in extras {
                out += line.hasPrefix("\n== ") ? "\n### " + line.dropFirst(4) + "\n\n" : "- " + line.trimmingSpaces() + "\n"
            }
        }
        let allNotes = mismatches.map { "**MISMATCH**: " + $0 } + notes
        if !allNotes.isEmpty { out += "\n## Notes\n\n" + allNotes.map { "- " + $0 }.joined(separator: "\n") + "\n" }
        if let analysis { out += "\n" + analysis }
        return out
    }

    private func table(_ rows: [[String]]) -> String {
        guard let head = rows.first else { return "" }
        var out = "| " + head.map { $0.trimmingSpaces() }.joined(separator: " | ") + " |\n"
        out += "|" + String(repeating: "---|", count: head.count) + "\n"
        for r in rows.dropFirst() { out += "| " + r.map { $0.trimmingSpaces() }.joined(separator: " | ") + " |\n" }
        return out
    }

    /// Records/s per workload: the Python baseline, the best multi-process run, the fused run.
    func svg() -> String {
        let barHeight = 22, gap = 6, groupGap = 26, left = 230, width = 760
        var bars: [(group: String, label: String, value: Double, color: String)] = []
        for w in workloads {
            for b in w.baselines.reversed() where !b.seconds.isEmpty {
                bars.append((w.workload.name, "Python, \(b.name)", median(w.rates(b)), b.headline ? "#9e9e9e" : "#cfcfcf"))
            }
            if let best = w.best { bars.append((w.workload.name, "pipeline (" + (best.isEmpty ? "1/1/1/1" : best) + ")", median(w.rates(best)), "#1f77b4")) }
            bars.append((w.workload.name, "fused, one process", median(w.fusedRates), "#aec7e8"))
        }
        var y = 40
        var body = ""
        var group = ""
        for bar in bars {
            if bar.group != group {
                group = bar.group
                y += groupGap
                body += "<text x=\"10\" y=\"\(y - 8)\" font-weight=\"bold\">\(group)</text>\n"
            }
            // Each group is scaled to its own largest bar: workloads differ by orders of magnitude.
            let top = bars.filter { $0.group == bar.group }.map(\.value).max() ?? 1
            let w = Int(Double(width - left - 120) * bar.value / max(top, 1))
            body += "<text x=\"\(left - 8)\" y=\"\(y + 15)\" text-anchor=\"end\">\(bar.label)</text>\n"
            body += "<rect x=\"\(left)\" y=\"\(y)\" width=\"\(max(w, 1))\" height=\"\(barHeight)\" fill=\"\(bar.color)\"/>\n"
            body += "<text x=\"\(left + w + 6)\" y=\"\(y + 15)\">\(format(bar.value / 1000, 0))k/s</text>\n"
            y += barHeight + gap
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(y + 20)" font-family="sans-serif" font-size="13">
            <rect width="100%" height="100%" fill="white"/>
            <text x="10" y="22" font-size="15" font-weight="bold">Records per second (median of \(counted(options.rounds, "round")); \(counted(machine.cores, "core")))</text>
            \(body)</svg>

            """
    }
}
