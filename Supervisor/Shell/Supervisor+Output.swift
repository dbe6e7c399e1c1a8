import Config
import ControlCore
import IngestStage
import Messages
import PipelineSink
import Runtime

/// Records in output text, counted by the rule ingest reads records by: a JSON line ends at
/// "\n"; a CSV record at a "\n" outside quotes (a passthrough string may hold a line break).
enum OutputRecords {
    static func count(in bytes: [UInt8], format: OutputFormat) -> Int {
        var splitter = RecordSplitter(format: format == .csv ? .csv : .jsonl)
        var records = 0
        var at = 0
        bytes.withUnsafeBytes { raw in
            while let r = splitter.next(in: raw, from: at) {
                if !r.isBlank { records += 1 }
                at = r.end
            }
        }
        return records
    }
}

/// What to tell a user whose output stopped, so that they can resume.
extension Supervisor {
    /// "where output stopped": the records written whole, and the first input line not done.
    func stoppedAt(_ outcome: Sink.Outcome) -> String {
        let reason = outcome.error.reason
        guard let sequence = outcome.sequence, let batch = core.ledger.batch(sequence) else {
            return "\(reason); nothing was written (not even the CSV header)"
        }
        // The batch's records, without those rejected (their error entries went elsewhere).
        let rejected = Set(outcome.rejectedLines)
        let accepted = (source.recordLines(sequence) ?? []).filter { !rejected.contains($0) }
        let resume = outcome.wholeRecords < accepted.count ? accepted[outcome.wholeRecords] : batch.lastLine + 1
        return "\(reason); stdout holds \(sink.rows) whole records: every input line before \(resume) is done (written or rejected), resume from line \(resume)"
    }

    /// After a failed errors stream: how many rejected records it lost.
    func reportLostRejects() {
        guard let failure = core.failedStreams.first(where: { if case .errors = $0.stream { true } else { false } }) else { return }
        let lost = sink.lostRejects
        let stdoutStopped = core.failedStreams.contains { $0.stream == .stdout }
        Log.error("\(lost) rejected record\(lost == 1 ? "" : "s") could not be written to \(errorsName) (\(failure.message))"
                  + (stdoutStopped ? "; stdout stopped too (above)" : "; the output on stdout is complete"))
    }
}
