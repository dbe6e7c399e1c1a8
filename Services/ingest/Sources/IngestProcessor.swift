import Config
import Messages

/// The ingest stage: raw chunks of JSON lines or CSV in, typed columnar records out.
///
/// Every record of a chunk is parsed against the schema (`InputSpec.fields`). Accepted records
/// become one row of every column (one `Column` per schema field, in schema order); the others
/// become `Reject`s in the envelope, each with its line, byte offset, code, field and a message
/// saying where and what. One bad record never stops the batch. Record boundaries and blank
/// lines follow `RecordSplitter`, which the source must use too.
///
/// - Important: a processor reuses its buffers from batch to batch; copies do not share them
///   (the first `process` on a copy allocates its own), but one value must not be used from two
///   threads at once.
public struct IngestProcessor: StageProcessor {
    public static var inputKind: FrameKind { .rawChunk }

    private var parser: ChunkParser

    /// A processor for `config.input`.
    /// - Throws: `IngestError.duplicateField` when two schema fields share a name,
    ///   `IngestError.emptySchema` when there is none.
    public init(config: PipelineConfig) throws {
        parser = try ChunkParser(input: config.input)
    }

    /// A processor without the JSON fast path when `fastPath` is false: the general parser
    /// alone, the reference the tests and Benchmarks/ingest compare the fast path with;
    /// `backoff` 0 makes the fast path try every record (the tests' choice, for coverage).
    init(config: PipelineConfig, fastPath: Bool, backoff: Int) throws {
        parser = try ChunkParser(input: config.input, fastPath: fastPath, backoff: backoff)
    }

    /// The same, for Benchmarks/ingest, which times the general path against the fast path.
    @_spi(Benchmarks)
    public init(config: PipelineConfig, fastPath: Bool) throws {
        parser = try ChunkParser(input: config.input, fastPath: fastPath)
    }

    /// Parses one `.rawChunk` frame and appends one frame with the same sequence number and flags:
    /// `.records` when at least one record was accepted, else `.errors`. Either envelope carries
    /// the chunk's position, its record count, and the chunk's rejects merged with ingest's,
    /// ordered by line.
    ///
    /// - Throws: `FrameError` when the frame is not a well-formed raw chunk;
    ///   `IngestError.recordCountMismatch` when its body does not hold the records it claims.
    public mutating func process(_ frame: Frame, into out: FrameBuffer) throws {
        let chunk = try RawChunkView.decode(frame)
        if !isKnownUniquelyReferenced(&parser) { parser = try parser.copy() }
        let (rows, rejects) = try parser.parse(chunk, sequence: frame.header.sequence)
        var all = chunk.rejects
        all.append(contentsOf: rejects)
        if !chunk.rejects.isEmpty {
            all.sort { ($0.line, $0.byteOffset) < ($1.line, $1.byteOffset) }
        }
        let envelope = Envelope(firstLine: chunk.firstLine, byteOffset: chunk.byteOffset,
                                recordCount: chunk.recordCount, rejects: all)
        if rows == 0 {
            ErrorBatchView.encode(into: out, sequence: frame.header.sequence, envelope: envelope, flags: frame.header.flags)
        } else {
            RecordBatchView.encode(into: out, sequence: frame.header.sequence, envelope: envelope,
                                   columns: parser.storage.columns(rows: rows), flags: frame.header.flags)
        }
    }
}
