import PipelineSource
import Runtime

/// How `pipeline up` was asked to run, beyond the config: the command line's overrides and the
/// places its outputs go.
public struct RunOptions: @unchecked Sendable {
    /// Replica counts given on the command line (`--scale infer=3`), over the config's.
    public var scales: [String: Int] = [:]
    /// How messages name the errors stream: "stderr" or the `--errors` path.
    public var errorsName = "stderr"
    /// How messages name the input: "stdin" or the `--input` path.
    public var inputName = "stdin"
    /// `--events FILE`: the event log, besides `<run dir>/logs/events.log`.
    public var eventsPath: String?
    /// `--stats FILE`: the run's statistics as JSON at the end.
    public var statsPath: String?
    /// `--progress` / `--quiet`: the progress line on stderr (by default only on a terminal).
    public var progress = ProgressMode.auto
    /// `--autoscale`: size the stages to the load (with `[autoscale]`'s settings, or defaults).
    public var autoscale = false
    /// The `PIPELINE_*` environment variables' settings, checked.
    public var tunables = Tunables()
    /// `--split I/N`: which part of the `--input` file this run scores, and where it lies.
    public var split: (split: InputSplit, range: InputSplit.Range)?

    public init() {}
}

/// Whether `pipeline up` shows its progress line.
public enum ProgressMode: Sendable, Equatable {
    /// Only when stderr is a terminal.
    case auto
    /// Always (`--progress`).
    case on
    /// Never (`--quiet`).
    case off
}
