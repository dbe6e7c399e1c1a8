import Glibc

/// A log file rotated by size, under whoever writes it. When it has reached `maxBytes`, NAME
/// becomes NAME.1 (NAME.1 becomes NAME.2, and so on; the oldest beyond `keep` is removed) and a
/// new, empty NAME takes the old one's place on the same descriptor (`dup2`). A writer holding
/// the descriptor, a writer thread or stderr, goes on writing without being told, into the new
/// file; a write in progress finishes in the old one. Nothing is lost and the order holds: the
/// files, oldest first, are the log.
public final class RotatingFile {
    public let path: String
    /// The descriptor the writers use; after a rotation it names the new file.
    public let fd: Int32
    /// 0: never rotated.
    public let maxBytes: UInt64
    public let keep: Int
    /// How the file is opened anew (`O_APPEND` for a log that other processes share).
    private let flags: Int32
    private let mode: mode_t
    public private(set) var rotations = 0
    /// The error that stopped rotation (a rename refused): reported once, then the file grows.
    public private(set) var failure: SystemError?

    /// A rotation that happened: the size the file had, and where it went.
    public struct Rotated: Equatable, Sendable {
        public var bytes: UInt64
        public var to: String
    }

    public init(path: String, fd: Int32, maxBytes: UInt64, keep: Int, flags: Int32 = O_WRONLY, mode: mode_t = 0o644) {
        precondition(keep >= 1, "at least one rotated file is kept")
        self.path = path
        self.fd = fd
        self.maxBytes = maxBytes
        self.keep = keep
        self.flags = flags
        self.mode = mode
    }

    /// The renames that make room for a new NAME.1, in the order they are done: the oldest kept
    /// first (it overwrites NAME.keep, which is how the oldest goes), NAME itself last.
    public static func shifts(path: String, keep: Int) -> [(from: String, to: String)] {
        stride(from: keep - 1, through: 0, by: -1).map { k in (k == 0 ? path : "\(path).\(k)", "\(path).\(k + 1)") }
    }

    /// The rotated files of the log at `path` that exist, oldest first (`NAME.k`, …, `NAME.1`).
    public static func rotatedFiles(of path: String) -> [String] {
        var found: [String] = []
        var k = 1
        while (try? Sys.stat("\(path).\(k)")) != nil {
            found.append("\(path).\(k)")
            k += 1
        }
        return found.reversed()
    }

    /// The file's size now.
    public var size: UInt64 { (try? Sys.fileStatus(fd)).map { UInt64($0.st_size) } ?? 0 }

    /// Rotates the file if it has reached `maxBytes`.
    /// - Returns: what was rotated, nil if nothing was (not full, never rotated, or failed before).
    /// - Throws: the error that stopped rotating (once; `failure` keeps it and later calls return nil).
    public func rotateIfFull() throws(SystemError) -> Rotated? {
        guard maxBytes > 0, failure == nil else { return nil }
        let bytes = size
        guard bytes >= maxBytes else { return nil }
        do {
            for (from, to) in Self.shifts(path: path, keep: keep) {
                do { try Sys.rename(from, to: to) } catch where error.errno == ENOENT && from != path {}
            }
            let fresh = try Sys.open(path, flags | O_CREAT | O_TRUNC, mode: mode)
            defer { Sys.close(fresh) }
            // Standard descriptors stay open across exec; the others do not leak into replicas.
            try Sys.duplicate(fresh, onto: fd, closeOnExec: fd > 2)
        } catch {
            failure = error
            throw error
        }
        rotations += 1
        return Rotated(bytes: bytes, to: "\(path).1")
    }
}
