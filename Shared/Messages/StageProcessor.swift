/// The work of one stage, free of I/O: one input data frame in, one output data frame out.
///
/// The runtime hosts a processor in a replica process; tests and the fused benchmark chain the
/// four processors in one process. Frames of kind `.errors` never reach a processor: the host
/// forwards them unchanged.
public protocol StageProcessor {
    /// The frame kind this stage consumes.
    static var inputKind: FrameKind { get }

    /// Appends exactly one frame for `frame` to `out`, with the same sequence number and flags.
    ///
    /// - Throws: `FrameError` when the input is malformed (the host closes the connection that
    ///   sent it); any other error means the stage itself failed (the replica reports it and exits).
    mutating func process(_ frame: Frame, into out: FrameBuffer) throws
}
