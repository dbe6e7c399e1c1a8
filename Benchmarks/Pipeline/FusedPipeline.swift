import PipelineSource
import PipelineSupervisor
import AggregateStage
import Config
import FeaturizeStage
import IngestStage
import InferStage
import Messages

/// The four stages chained in one process over the same frames the processes exchange: the
/// reference the multi-process pipeline must match byte for byte, and the benchmark's
/// "no IPC" baseline.
public struct FusedPipeline {
    private var ingest: IngestProcessor
    private var featurize: FeaturizeProcessor
    private var infer: InferProcessor
    private var aggregate: AggregateProcessor
    private let config: PipelineConfig
    private let buffers = (0..<5).map { _ in FrameBuffer(capacity: 1 << 20) }

    /// The output's class labels: the config's, else the model's (nil: none).
    public var classLabels: [ClassLabel]? { config.output.labels }

    /// CPU time spent in each stage, in nanoseconds (ingest, featurize, infer, aggregate).
    public private(set) var stageNanos: [UInt64] = [0, 0, 0, 0]

    public init(config: PipelineConfig) throws {
        var config = config
        ingest = try IngestProcessor(config: config)
        featurize = try FeaturizeProcessor(config: config)
        infer = try InferProcessor(config: config)
        // As `pipeline up`: without `labels`, the model's classes (when it has one per column).
        if config.output.labels == nil, let labels = infer.modelOutput.classLabels { config.output.labels = labels }
        aggregate = try AggregateProcessor(config: config)
        self.config = config
    }

    /// Scores `input` (the whole stdin of a run); returns stdout's bytes and the rejected records.
    /// The input is fed to the splitter in 1 MiB reads and batch bodies are encoded from where
    /// they lie, as the source does with stdin.
    ///
    /// - Parameter observe: called with each stage's output frame (stage 0 ingest … 3 aggregate),
    ///   valid only during the call.
    public mutating func run(input: UnsafeRawBufferPointer, clock: () -> UInt64 = { 0 },
                             observe: ((Int, Frame) throws -> Void)? = nil) throws -> (output: [UInt8], rejects: [Reject]) {
        var output: [UInt8] = []
        var offset = 0
        let rejects = try run(read: {
            guard offset < input.count else { return nil }
            let end = min(offset + (1 << 20), input.count)
            defer { offset = end }
            return UnsafeRawBufferPointer(rebasing: input[offset..<end])
        }, write: { output += $0 }, clock: clock, observe: observe)
        return (output, rejects)
    }

    /// Scores what `read` gives (the next bytes of the input, nil at its end), handing each
    /// batch's output bytes (and the CSV header first) to `write`; returns the rejected records.
    public mutating func run(read: () throws -> UnsafeRawBufferPointer?, write: (UnsafeRawBufferPointer) throws -> Void,
                             clock: () -> UInt64 = { 0 }, observe: ((Int, Frame) throws -> Void)? = nil) throws -> [Reject] {
        let splitter = InputSplitter(format: config.input.format, batchRows: config.pipeline.batchRows,
                                     maxRecordBytes: config.input.maxLineBytes)
        if config.output.format == .csv {
            try Array(try AggregateProcessor.csvHeader(config: config, classes: infer.outputWidth).utf8).withUnsafeBytes { try write($0) }
        }
        var rejects: [Reject] = []
        var sequence: UInt64 = 0
        var ended = false
        while !ended {
            if let bytes = try read() {
                splitter.append(bytes)
            } else {
                splitter.endOfInput()
                ended = true
            }
            while let last = try splitter.withNextBatch(flushPartial: ended, { cut, body in
                let raw = buffers[0]
                raw.removeAll()
                (splitter.header ?? []).withUnsafeBytes { h in
                    RawChunkView.encode(into: raw, sequence: sequence, firstLine: cut.firstLine, byteOffset: cut.byteOffset,
                                        recordCount: cut.recordCount, rejects: cut.rejects, headerLine: h, body: body)
                }
                return try Self.only(raw)
            }) {
                sequence += 1
                var frame = last
                for stage in 0..<4 where frame.header.kind != .errors {
                    let next = buffers[stage + 1]
                    next.removeAll()
                    let started = clock()
                    switch stage {
                    case 0: try ingest.process(frame, into: next)
                    case 1: try featurize.process(frame, into: next)
                    case 2: try infer.process(frame, into: next)
                    default: try aggregate.process(frame, into: next)
                    }
                    stageNanos[stage] += clock() - started
                    frame = try Self.only(next)
                    try observe?(stage, frame)
                }
                switch frame.header.kind {
                case .output:
                    let out = try OutputBatchView.decode(frame)
                    try write(out.text)
                    rejects += try out.envelope.rejects()
                case .errors:
                    rejects += try ErrorBatchView.decode(frame).envelope.rejects()
                default:
                    throw FrameError.unexpected(kind: frame.header.kind, context: "at the end of the fused pipeline")
                }
            }
        }
        return rejects
    }

    private static func only(_ buffer: FrameBuffer) throws -> Frame {
        guard let (frame, consumed) = try FrameDecoder().decode(buffer.bytes), consumed == buffer.count else {
            throw FrameError.invalid(field: "frame", reason: "a stage must emit exactly one frame per batch")
        }
        return frame
    }
}
