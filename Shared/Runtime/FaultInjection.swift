import Glibc

/// Testing hooks, off unless the environment turns them on; each is `<stage>:<value>` and
/// applies to that stage's replicas only. The fault-injection tests use them; nothing else reads
/// them, and release builds ignore them.
enum FaultInjection {
    /// `PIPELINE_TEST_CRASH_ON=<stage>:<text>` makes replicas abort when a frame they are about
    /// to process contains `<text>`: a "poison record" that crashes every replica it reaches.
    static func crashMarker(for node: Messages.NodeKind) -> [UInt8]? {
        setting("PIPELINE_TEST_CRASH_ON", for: node).map { Array($0.utf8) }
    }

    /// `PIPELINE_TEST_GARBLE_ONCE=<stage>:<path>` makes the one replica that first creates
    /// `<path>` send one frame with a broken header: a peer gone wrong, for the test that its
    /// receiver drops it and the supervisor replaces it.
    static func garbleFile(for node: Messages.NodeKind) -> String? {
        setting("PIPELINE_TEST_GARBLE_ONCE", for: node)
    }

    /// `PIPELINE_TEST_MAX_FRAME=<stage>:<bytes>` lowers the payload size over which an output
    /// frame counts as too large (64 MiB otherwise), so that tests reach that path with small
    /// records.
    static func outputLimit(for node: Messages.NodeKind) -> Int? {
        setting("PIPELINE_TEST_MAX_FRAME", for: node).flatMap { Int($0) }
    }

    /// `PIPELINE_TEST_HOLD_READY=<stage>:<replica>` makes that replica (e.g. `infer:2`) stop
    /// after its config, before it reports ready, reading nothing more until a signal ends it:
    /// for the tests of a replica scaled away or stopped while it starts.
    static func holdsReady(_ node: Messages.NodeKind, replica: UInt32) -> Bool {
        setting("PIPELINE_TEST_HOLD_READY", for: node) == "\(replica)"
    }

    /// `PIPELINE_TEST_CRASH_VERSION=<stage>:<version id>` makes replicas abort when they are
    /// about to process a batch that version scores: a new model that crashes (the rollback tests).
    static func crashVersion(for node: Messages.NodeKind) -> String? {
        setting("PIPELINE_TEST_CRASH_VERSION", for: node)
    }

    /// `PIPELINE_TEST_FAIL_VERSION=<stage>:<version id>[@start]` makes replicas fail to build that
    /// model version (it passed the supervisor's checks; here it cannot run): the refused-load
    /// tests; with `@start`, only while a replica starts (a replica that fails to start).
    static func failVersion(for node: Messages.NodeKind) -> String? {
        setting("PIPELINE_TEST_FAIL_VERSION", for: node)
    }

    /// `PIPELINE_TEST_SLOW_VERSION=<stage>:<version id>@<seconds>` makes replicas take that long
    /// to build that model version (a vocabulary of millions of terms): the test that a replica
    /// busy building is not taken for hung.
    static func slowVersion(for node: Messages.NodeKind) -> (id: String, seconds: Double)? {
        guard let spec = setting("PIPELINE_TEST_SLOW_VERSION", for: node), let at = spec.lastIndex(of: "@"),
              let seconds = Double(spec[spec.index(after: at)...]) else { return nil }
        return (String(spec[..<at]), seconds)
    }

    /// The non-empty value after `<stage>:` in the environment variable `name`, in debug builds.
    private static func setting(_ name: String, for node: Messages.NodeKind) -> String? {
        #if DEBUG
        guard let raw = getenv(name) else { return nil }
        let spec = String(cString: raw)
        guard let colon = spec.firstIndex(of: ":"), spec[..<colon] == node.name else { return nil }
        let value = String(spec[spec.index(after: colon)...])
        return value.isEmpty ? nil : value
        #else
        return nil
        #endif
    }

    /// True once per `path` (whoever creates it first): the time to garble a frame.
    static func claim(_ path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    static func crashIfContains(_ bytes: UnsafeRawBufferPointer, _ marker: [UInt8]) {
        guard bytes.count >= marker.count else { return }
        // memmem needs _GNU_SOURCE, which the Glibc module lacks; this runs only in tests.
        let first = marker[0]
        var i = 0
        while i <= bytes.count - marker.count {
            if bytes[i] == first && marker.indices.allSatisfy({ bytes[i + $0] == marker[$0] }) { abort() }
            i += 1
        }
    }
}

import Messages
