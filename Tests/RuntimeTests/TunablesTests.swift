import Testing
import Runtime

/// The `PIPELINE_*` knobs: defaults, accepted values, and a refusal naming the variable, the
/// value and what it takes.
@Suite struct TunablesTests {
    @Test func unsetVariablesKeepTheDefaults() throws {
        let t = try Tunables.parse([:])
        #expect(t == Tunables())
        #expect(t.hangSeconds == 5 && t.startSeconds == 30 && t.stopSeconds == 10 && t.resendSeconds == 10)
        #expect(t.handshakeSeconds == 5 && t.credits == 4 && t.sharedMemoryMiB == 16)
    }

    @Test func usableValuesAreTaken() throws {
        let t = try Tunables.parse(["PIPELINE_HANG_SECONDS": "0.5", "PIPELINE_START_SECONDS": "1e2", "PIPELINE_STOP_SECONDS": "1",
                                    "PIPELINE_RESEND_SECONDS": "86400", "PIPELINE_HANDSHAKE_SECONDS": "600", "PIPELINE_CREDITS": "64",
                                    "PIPELINE_OTHER": "whatever"])
        #expect(t.hangSeconds == 0.5 && t.startSeconds == 100 && t.stopSeconds == 1 && t.resendSeconds == 86_400)
        #expect(t.handshakeSeconds == 600 && t.credits == 64)
    }

    @Test(arguments: ["abc", "", " 5", "5s", "0", "-1", "nan", "inf", "86401", "1e400"])
    func unusableSecondsAreRefused(value: String) {
        let problem = #expect(throws: Tunables.Problem.self) { try Tunables.parse(["PIPELINE_HANG_SECONDS": value]) }
        #expect(problem?.description == "environment variable PIPELINE_HANG_SECONDS=\"\(value)\": "
                + "expected a number of seconds above 0 and at most 86400 (default 5)")
    }

    @Test(arguments: ["0", "65", "-4", "2.5", "four", ""])
    func unusableCreditsAreRefused(value: String) {
        let problem = #expect(throws: Tunables.Problem.self) { try Tunables.parse(["PIPELINE_CREDITS": value]) }
        #expect(problem == Tunables.Problem(variable: "PIPELINE_CREDITS", value: value, expected: "a whole number from 1 to 64 (default 4)"))
    }

    @Test func sharedMemoryTakesZeroToOneGiB() throws {
        #expect(try Tunables.parse(["PIPELINE_SHARED_MEMORY_MB": "0"]).sharedMemoryMiB == 0)
        #expect(try Tunables.parse(["PIPELINE_SHARED_MEMORY_MB": "1024"]).sharedMemoryMiB == 1024)
        for value in ["-1", "1025", "1.5", "lots", ""] {
            let problem = #expect(throws: Tunables.Problem.self) { try Tunables.parse(["PIPELINE_SHARED_MEMORY_MB": value]) }
            #expect(problem == Tunables.Problem(variable: "PIPELINE_SHARED_MEMORY_MB", value: value,
                                                expected: "a whole number of MiB from 0 (off) to 1024 (default 16)"))
        }
    }

    @Test func logSizesTakeBinaryUnitsAndZero() throws {
        #expect(try Tunables.parse([:]).logMaxBytes == 64 << 20 && Tunables().logKeep == 3)
        for (value, bytes) in [("0", UInt64(0)), ("1K", 1024), ("1024", 1024), ("20k", 20 << 10), ("64M", 64 << 20), ("2G", 2 << 30),
                               ("1024G", 1 << 40), ("1000000", 1_000_000)] {
            #expect(try Tunables.parse(["PIPELINE_LOG_MAX_SIZE": value]).logMaxBytes == bytes, "\(value)")
        }
        for value in ["", "M", "1023", "1.5M", "-1K", "1T", "1025G", "64MB", " 64M", "99999999999999999999"] {
            let problem = #expect(throws: Tunables.Problem.self, "\(value)") { try Tunables.parse(["PIPELINE_LOG_MAX_SIZE": value]) }
            #expect(problem?.variable == "PIPELINE_LOG_MAX_SIZE" && problem?.expected.hasSuffix("(default 64M)") == true)
        }
        #expect(try Tunables.parse(["PIPELINE_LOG_KEEP": "1"]).logKeep == 1)
        #expect(try Tunables.parse(["PIPELINE_LOG_KEEP": "1000"]).logKeep == 1000)
        for value in ["0", "1001", "two", "1.5"] {
            let problem = #expect(throws: Tunables.Problem.self) { try Tunables.parse(["PIPELINE_LOG_KEEP": value]) }
            #expect(problem == Tunables.Problem(variable: "PIPELINE_LOG_KEEP", value: value,
                                                expected: "a whole number of rotated files from 1 to 1000 (default 3)"))
        }
    }

    @Test func everyVariableIsChecked() {
        for name in Tunables.variables {
            #expect(throws: Tunables.Problem.self, "\(name)") { try Tunables.parse([name: "x"]) }
        }
        let problem = #expect(throws: Tunables.Problem.self) { try Tunables.parse(["PIPELINE_START_SECONDS": "soon"]) }
        #expect(problem?.expected.hasSuffix("(default 30)") == true)
    }
}
