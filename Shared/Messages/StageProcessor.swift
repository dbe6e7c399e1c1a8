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

    /// Like `process(_:into:)` for a batch that a shadow version scores too (`rollout
    /// --shadow`): `self` is the primary version's processor, `shadow` the shadow's. `out` must
    /// be empty. The default (featurize, infer) writes this version's frame, then the shadow's
    /// own result (from the shadow frame behind `frame`, if there is one, else from `frame`
    /// itself) behind it (`ShadowFrame`); aggregate, where the two meet, compares them instead.
    mutating func process(_ frame: Frame, shadow: inout any StageProcessor, scratch: FrameBuffer, into out: FrameBuffer) throws
}

extension StageProcessor {
    public mutating func process(_ frame: Frame, shadow: inout any StageProcessor, scratch: FrameBuffer, into out: FrameBuffer) throws {
        precondition(out.count == 0, "a shadowed batch is written into an empty buffer")
        try process(frame, into: out)
        let input = try ShadowFrame.inner(of: frame) ?? frame
        scratch.removeAll()
        try shadow.process(input, into: scratch)
        ShadowFrame.append(scratch, to: out)
    }
}
