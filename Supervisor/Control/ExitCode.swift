/// The `pipeline` command's exit codes (documented in the README; tests rely on them).
public enum ExitCode: Int32, Sendable {
    /// Success; also when stdout was closed early (`| head`).
    case ok = 0
    /// An internal error (a bug): please report it.
    case internalError = 1
    /// Bad command line, or an unusable value of a `PIPELINE_*` environment variable (a knob
    /// set for this run, refused like a bad option).
    case usage = 2
    /// Bad configuration file (syntax, unknown key, inconsistent chain).
    case config = 3
    /// The model cannot be loaded or does not fit the configuration.
    case model = 4
    /// Input stopped the run: more rejected records than `input.max_errors`.
    case inputErrors = 5
    /// A stage failed: it crashed more often than its restart limit, or could not start.
    case stageFailed = 6
    /// A pipeline with this name is already running.
    case alreadyRunning = 7
    /// No pipeline is running (scale, ps, top, down).
    case notRunning = 8
    /// The environment is unusable: missing stage binaries, unsafe run directory, socket path too long.
    case environment = 9
    /// Reading stdin or writing an output failed: stdout (other than closed by its reader), or
    /// the rejected records' stream (the output on stdout is then complete).
    case io = 10
    /// The input cannot fit the config: a CSV header without a column for a required field, or
    /// (with `max_errors` not set) every record read was rejected.
    case inputMismatch = 11
    /// Stopped by SIGINT/SIGTERM before the input was done.
    case interrupted = 130
}
