import Config
import Messages

/// Blame and isolation of batches that crash replicas; the sink's assembly and commit order.
extension BatchLedger {
    /// Blames a crash on the unit the replica was processing. The first crash a unit causes is
    /// counted and the unit sent again; a repeated one splits a whole batch into single records
    /// (`.split`), or makes a single record a rejected one (`.poison`).
    mutating func blame(_ work: ReplicaWork, stage: StageKind, termination: Termination, into out: inout [Action]) {
        guard let b = index(work.sequence),
              let u = batches[b].units.firstIndex(where: { $0.offset == (work.part ?? 0) && $0.isPart == (work.part != nil) }),
              !batches[b].units[u].settled else { return }
        batches[b].units[u].crashes += 1
        let unit = batches[b].units[u]
        guard unit.crashes >= settings.crashesBeforeIsolation else { return }
        if unit.count == 1 {
            batches[b].units[u].settled = true
            out.append(.log(.error, "line \(unit.firstLine) crashed \(stage.rawValue) replicas \(counted(unit.crashes, "time")): reported as REPLICA_CRASH and skipped"))
            out.append(.event(.recordRejected(line: unit.firstLine, stage: stage, crashes: unit.crashes)))
            out.append(.poison(work.sequence, part: unit.isPart ? unit.offset : nil, line: unit.firstLine, byteOffset: unit.byteOffset,
                               crashes: unit.crashes, stage: stage, termination: termination))
        } else if !unit.isPart {
            let batch = batches[b]
            out.append(.log(.error, "lines \(batch.firstLine)–\(batch.lastLine) crashed \(stage.rawValue) replicas again: re-sending its \(counted(batch.records, "record")) one by one to find the one at fault"))
            out.append(.event(.batchIsolated(firstLine: batch.firstLine, lastLine: batch.lastLine, records: batch.records, stage: stage)))
            out.append(.isolating(work.sequence, records: batch.records))
            out.append(.split(work.sequence))
        }
    }

    /// Replaces a whole batch by one unit per record (and one settled unit for the records the
    /// source refused, delivered at once).
    mutating func split(_ sequence: UInt64, records: [SplitRecord]?, refused: Output?, into out: inout [Action]) {
        guard let b = index(sequence), batches[b].units.count == 1, !batches[b].units[0].isPart else { return }
        let batch = batches[b]
        guard let records, records.count + (refused?.records ?? 0) == batch.records else {
            // The batch could not be re-read: it is sent again whole.
            out.append(.log(.error, "batch \(sequence) (lines \(batch.firstLine)–\(batch.lastLine)) could not be split; sending it again whole"))
            toSend.append((sequence, 0))
            return
        }
        var units = records.enumerated().map { i, r in
            Unit(offset: i, count: 1, firstLine: r.firstLine, byteOffset: r.byteOffset, isPart: true)
        }
        if let refused {
            var settled = Unit(offset: records.count, count: refused.records, firstLine: batch.firstLine,
                               byteOffset: batch.units[0].byteOffset, isPart: true)
            settled.settled = true
            units.append(settled)
        }
        batches[b].units = units
        // Queued sends name units by index: the whole batch's entry would now name a part.
        toSend.removeAll { $0.sequence == sequence }
        for i in units.indices where !units[i].settled { toSend.append((sequence, i)) }
        if let refused {
            receive(sequence, part: records.count, refused, into: &out)
            commitReady(into: &out)
        }
    }

    /// Holds what the sink received, unless it already has it (a replay's duplicate).
    mutating func receive(_ sequence: UInt64, part: Int?, _ output: Output, into out: inout [Action]) {
        // Scored by versions the batch no longer has (it was rolled back since): stale.
        if let model = output.modelSlots, let b = index(sequence), batches[b].model != model {
            duplicates += 1
            return
        }
        guard let part else {
            if covers(sequence, offset: 0, count: output.records) {
                duplicates += 1
            } else if let b = index(sequence), batches[b].records == output.records {
                held[sequence] = [output]
                parts[sequence] = nil
            } else {
                out.append(.log(.error, "dropped an output for batch \(sequence) covering \(counted(output.records, "record")): no such batch is in flight"))
            }
            return
        }
        guard !covers(sequence, offset: part, count: output.records) else {
            duplicates += 1
            return
        }
        guard let b = index(sequence),
              batches[b].units.contains(where: { $0.isPart && $0.offset == part && $0.count == output.records }) else {
            out.append(.log(.error, "dropped an output for records \(part)… of batch \(sequence): no such part is in flight"))
            return
        }
        parts[sequence, default: [:]][part] = output
        let pieces = parts[sequence]!
        var at = 0
        var ordered: [Output] = []
        while let next = pieces[at], next.records > 0 {
            ordered.append(next)
            at += next.records
        }
        guard at == batches[b].records else { return }
        held[sequence] = ordered
        parts[sequence] = nil
    }

    /// Commits, in sequence order, every batch whose output is complete.
    mutating func commitReady(into out: inout [Action]) {
        while let pieces = held.removeValue(forKey: nextCommit) {
            var lines = lastCommittedLine + 1...lastCommittedLine + 1
            if let b = index(nextCommit) {
                lines = batches[b].firstLine...max(batches[b].firstLine, batches[b].lastLine)
                lastCommittedLine = batches[b].lastLine
            }
            recordsCommitted += pieces.reduce(0) { $0 + $1.records }
            rejectedCommitted += pieces.reduce(0) { $0 + $1.rejected }
            out.append(.write(nextCommit, pieces, lines: lines))
            nextCommit += 1
        }
    }
}
