import Glibc

/// A testing hook, off unless the environment turns it on: `PIPELINE_TEST_CRASH_ON=<stage>:<text>`
/// makes replicas of `<stage>` abort when a frame they are about to process contains `<text>`.
/// The fault-injection tests use it to make a "poison record" that crashes every replica it
/// reaches; nothing else reads it. Release builds ignore it.
enum FaultInjection {
    static func crashMarker(for node: Messages.NodeKind) -> [UInt8]? {
        #if DEBUG
        guard let raw = getenv("PIPELINE_TEST_CRASH_ON") else { return nil }
        let spec = String(cString: raw)
        guard let colon = spec.firstIndex(of: ":"), spec[..<colon] == node.name else { return nil }
        let text = Array(spec[spec.index(after: colon)...].utf8)
        return text.isEmpty ? nil : text
        #else
        return nil
        #endif
    }

    /// `PIPELINE_TEST_GARBLE_ONCE=<stage>:<path>` makes the one replica of `<stage>` that first
    /// creates `<path>` send one frame with a broken header: a peer gone wrong, for the test that
    /// its receiver drops it and the supervisor replaces it. Release builds ignore it.
    static func garbleFile(for node: Messages.NodeKind) -> String? {
        #if DEBUG
        guard let raw = getenv("PIPELINE_TEST_GARBLE_ONCE") else { return nil }
        let spec = String(cString: raw)
        guard let colon = spec.firstIndex(of: ":"), spec[..<colon] == node.name else { return nil }
        let path = String(spec[spec.index(after: colon)...])
        return path.isEmpty ? nil : path
        #else
        return nil
        #endif
    }

    /// `PIPELINE_TEST_MAX_FRAME=<stage>:<bytes>` lowers, for replicas of `<stage>`, the payload
    /// size over which an output frame counts as too large (64 MiB otherwise), so that tests
    /// can reach that path with small records. Release builds ignore it.
    static func outputLimit(for node: Messages.NodeKind) -> Int? {
        #if DEBUG
        guard let raw = getenv("PIPELINE_TEST_MAX_FRAME") else { return nil }
        let spec = String(cString: raw)
        guard let colon = spec.firstIndex(of: ":"), spec[..<colon] == node.name else { return nil }
        return Int(spec[spec.index(after: colon)...])
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
