import Glibc

/// The `PIPELINE_*` environment variables that tune `pipeline up`'s mechanisms (README,
/// "Guarantees under faults"): read once, checked, and refused when a value is unusable rather
/// than quietly replaced by the default.
public struct Tunables: Equatable, Sendable {
    /// `PIPELINE_HANG_SECONDS`: a replica silent this long is killed and replaced.
    public var hangSeconds = 5.0
    /// `PIPELINE_START_SECONDS`: a replica must be ready within this.
    public var startSeconds = 30.0
    /// `PIPELINE_STOP_SECONDS`: a replica told to exit and still running this long after is killed.
    public var stopSeconds = 10.0
    /// `PIPELINE_RESEND_SECONDS`: a batch still missing this long after it was sent is sent again.
    public var resendSeconds = 10.0
    /// `PIPELINE_HANDSHAKE_SECONDS`: a connection must say hello within this (replicas inherit it).
    public var handshakeSeconds = 5.0
    /// `PIPELINE_ROLLOUT_WATCH_SECONDS`: how long after its switch a rolled-out model version
    /// is watched for crashes (and rolled back past the restart limit).
    public var rolloutWatchSeconds = 600.0
    /// `PIPELINE_CREDITS`: frames each receiver grants each sender.
    public var credits = 4
    /// `PIPELINE_SHARED_MEMORY_MB`: the ring of shared memory each data connection's sender
    /// offers (frames of 4 KiB and more travel through it); 0 sends everything over the socket.
    public var sharedMemoryMiB = 16
    /// `PIPELINE_LOG_MAX_SIZE`: the run directory's own logs (`events.log`, a detached run's
    /// `pipeline.log`) are rotated when they reach this many bytes; 0 never rotates them.
    public var logMaxBytes: UInt64 = 64 << 20
    /// `PIPELINE_LOG_KEEP`: rotated files kept per log (`events.log.1` the newest).
    public var logKeep = 3

    /// The longest any of the timeouts may be: a day.
    public static let maxSeconds = 86_400.0
    /// The most credits: each credit lets a sender put one more frame (up to 16 MiB of input) in
    /// a receiver's memory.
    public static let maxCredits = 64
    /// The largest ring: 1 GiB.
    public static let maxSharedMemoryMiB = 1024
    /// Log sizes: from 1 KiB (or 0, never rotated) to 1 TiB.
    public static let logSizes: ClosedRange<UInt64> = 1 << 10...1 << 40
    public static let maxLogKeep = 1000

    public init() {}

    /// A variable whose value cannot be used.
    public struct Problem: Error, CustomStringConvertible, Equatable, Sendable {
        public var variable: String
        public var value: String
        /// What the variable takes, with its default.
        public var expected: String

        public init(variable: String, value: String, expected: String) {
            self.variable = variable
            self.value = value
            self.expected = expected
        }

        public var description: String { "environment variable \(variable)=\"\(value)\": expected \(expected)" }
    }

    /// The settings in `environment` (variable name → value); variables not set keep their defaults.
    ///
    /// - Throws: `Problem` for the first variable, in the order of the properties, whose value is
    ///   not a number in its range.
    public static func parse(_ environment: [String: String]) throws(Problem) -> Tunables {
        var t = Tunables()
        func seconds(_ name: String, _ value: inout Double) throws(Problem) {
            guard let text = environment[name] else { return }
            guard let number = Double(text), number.isFinite, number > 0, number <= maxSeconds else {
                throw Problem(variable: name, value: text,
                              expected: "a number of seconds above 0 and at most \(Int(maxSeconds)) (default \(format(value)))")
            }
            value = number
        }
        try seconds("PIPELINE_HANG_SECONDS", &t.hangSeconds)
        try seconds("PIPELINE_START_SECONDS", &t.startSeconds)
        try seconds("PIPELINE_STOP_SECONDS", &t.stopSeconds)
        try seconds("PIPELINE_RESEND_SECONDS", &t.resendSeconds)
        try seconds("PIPELINE_HANDSHAKE_SECONDS", &t.handshakeSeconds)
        try seconds("PIPELINE_ROLLOUT_WATCH_SECONDS", &t.rolloutWatchSeconds)
        /// A whole number in `range`; `what` ends "from 1 to 64"-style wording: "a whole number\(what)".
        func whole(_ name: String, _ value: inout Int, _ range: ClosedRange<Int>, _ what: String) throws(Problem) {
            guard let text = environment[name] else { return }
            guard let n = Int(text), range.contains(n) else {
                throw Problem(variable: name, value: text, expected: "a whole number\(what) (default \(value))")
            }
            value = n
        }
        try whole("PIPELINE_CREDITS", &t.credits, 1...maxCredits, " from 1 to \(maxCredits)")
        try whole("PIPELINE_SHARED_MEMORY_MB", &t.sharedMemoryMiB, 0...maxSharedMemoryMiB, " of MiB from 0 (off) to \(maxSharedMemoryMiB)")
        if let text = environment["PIPELINE_LOG_MAX_SIZE"] {
            guard let n = byteSize(text), n == 0 || logSizes.contains(n) else {
                throw Problem(variable: "PIPELINE_LOG_MAX_SIZE", value: text,
                              expected: "a size in bytes, or with K, M or G (KiB, MiB, GiB), from 1K to 1024G, or 0 (never rotate) (default 64M)")
            }
            t.logMaxBytes = n
        }
        try whole("PIPELINE_LOG_KEEP", &t.logKeep, 1...maxLogKeep, " of rotated files from 1 to \(maxLogKeep)")
        return t
    }

    /// "64M", "512K", "1G", "100000": bytes (K, M and G are binary: 1024, 1024², 1024³); nil
    /// when it is not such a size or overflows.
    static func byteSize(_ text: String) -> UInt64? {
        var digits = Substring(text)
        var unit: UInt64 = 1
        if let last = digits.last, let shift = ["K": 10, "M": 20, "G": 30][last.uppercased()] {
            unit = 1 << UInt64(shift)
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = UInt64(digits) else { return nil }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: unit)
        return overflow ? nil : bytes
    }

    /// The variables `parse` reads.
    public static let variables = ["PIPELINE_HANG_SECONDS", "PIPELINE_START_SECONDS", "PIPELINE_STOP_SECONDS",
                                   "PIPELINE_RESEND_SECONDS", "PIPELINE_HANDSHAKE_SECONDS", "PIPELINE_ROLLOUT_WATCH_SECONDS", "PIPELINE_CREDITS",
                                   "PIPELINE_SHARED_MEMORY_MB", "PIPELINE_LOG_MAX_SIZE", "PIPELINE_LOG_KEEP"]

    /// The settings in this process's environment.
    ///
    /// - Throws: `Problem`, as `parse`.
    public static func fromEnvironment() throws(Problem) -> Tunables {
        var environment: [String: String] = [:]
        for name in variables {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        return try parse(environment)
    }

    /// "5", "0.5": a default as a person would write it.
    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
