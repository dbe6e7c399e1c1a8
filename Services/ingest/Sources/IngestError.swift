import Config

/// Why the ingest stage cannot go on. Bad input records never throw (they become rejects);
/// these errors mean the configuration or the stage itself is wrong.
public enum IngestError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Two schema fields share a name, so a key or header column could not say which one it fills.
    case duplicateField(name: String)
    /// The schema has no field: accepted records would have no column to be counted in.
    case emptySchema
    /// The source and ingest disagree on record boundaries: the chunk claims `expected` records
    /// in its body, ingest found `found`. Always a bug (see `RecordSplitter`), never bad input.
    case recordCountMismatch(sequence: UInt64, expected: Int, found: Int)

    public var description: String {
        switch self {
        case .duplicateField(let name):
            "the input schema lists the field '\(name)' more than once"
        case .emptySchema:
            "the input schema has no fields (add at least one [[input.field]])"
        case .recordCountMismatch(let sequence, let expected, let found):
            "batch \(sequence): the source counted \(expected) records in the chunk body but ingest "
                + "found \(found) (source and ingest disagree on record boundaries)"
        }
    }
}
