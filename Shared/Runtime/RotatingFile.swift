import Glibc

/// A log file rotated by size. When it has reached `maxBytes`, NAME becomes NAME.1 (NAME.1
/// becomes NAME.2, and so on; the oldest beyond `keep` is removed) and a new, empty NAME begins.
///
/// Two ways to hand the new file to the writers:
/// - **a new descriptor** (`inPlace` false): `fd` names the new file and the rotation returns
///   the old one. A writer with lines still queued for the old descriptor writes them there (they
///   end NAME.1) and closes it after; what it queues from then on goes to the new file, which
///   thus begins with the first line written after the rotation.
/// - **in place** (`inPlace` true, for stderr, which every part of the process writes): the new
///   file is `dup2`'d onto `fd`. A write in progress finishes in the old file.
///
/// A rotation either happens whole or not at all: the new file is made first, under a temporary
/// name, and renames done before one that fails are undone.
public final class RotatingFile {
    public let path: String
    /// The descriptor the writers use now.
    public private(set) var fd: Int32
    /// 0: never rotated.
    public let maxBytes: UInt64
    public let keep: Int
    public let inPlace: Bool
    /// How the file is opened anew (`O_APPEND` for a log that other processes share).
    private let flags: Int32
    private let mode: mode_t
    public private(set) var rotations = 0
    /// Why the last rotation failed (nil once one succeeds).
    public private(set) var failure: SystemError?

    /// A rotation that happened: the size the file had, where it went, and (not in place) the
    /// previous descriptor, which its writer closes once it has written what it queued for it.
    public struct Rotated: Equatable, Sendable {
        public var bytes: UInt64
        public var to: String
        public var previousFD: Int32?
    }

    public init(path: String, fd: Int32, maxBytes: UInt64, keep: Int, inPlace: Bool, flags: Int32 = O_WRONLY, mode: mode_t = 0o644) {
        precondition(keep >= 1, "at least one rotated file is kept")
        self.path = path
        self.fd = fd
        self.maxBytes = maxBytes
        self.keep = keep
        self.inPlace = inPlace
        self.flags = flags
        self.mode = mode
    }

    /// The renames that make room for a new NAME.1, in the order they are done: the oldest kept
    /// first (it overwrites NAME.keep, which is how the oldest goes), NAME itself last.
    public static func shifts(path: String, keep: Int) -> [(from: String, to: String)] {
        stride(from: keep - 1, through: 0, by: -1).map { k in (k == 0 ? path : "\(path).\(k)", "\(path).\(k + 1)") }
    }

    /// The rotated files of the log at `path` (`NAME.k` … `NAME.1`, oldest first) that exist,
    /// gaps skipped, with their inode numbers.
    public static func rotatedFiles(of path: String) -> [(path: String, inode: UInt64)] {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let prefix = (slash.map { String(path[path.index(after: $0)...]) } ?? path) + "."
        var found: [(number: Int, path: String, inode: UInt64)] = []
        for name in (try? Sys.listDirectory(directory)) ?? [] where name.hasPrefix(prefix) {
            let suffix = name.dropFirst(prefix.count)
            guard !suffix.isEmpty, suffix.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(suffix), n > 0,
                  let st = try? Sys.stat("\(path).\(suffix)"), (st.st_mode & S_IFMT) == S_IFREG else { continue }
            found.append((n, "\(path).\(suffix)", UInt64(st.st_ino)))
        }
        return found.sorted { $0.number > $1.number }.map { ($0.path, $0.inode) }
    }

    /// The file's name without its directory (`events.log`).
    public var name: Substring { path[(path.lastIndex(of: "/").map(path.index(after:)) ?? path.startIndex)...] }

    /// The file's size now.
    public var size: UInt64 { (try? Sys.fileStatus(fd)).map { UInt64($0.st_size) } ?? 0 }

    /// Rotates the file if it has reached `maxBytes`.
    /// - Returns: what was rotated, nil if nothing was (not full, or never rotated).
    /// - Throws: why it could not be (nothing changed then; `failure` keeps it until one succeeds).
    public func rotateIfFull() throws(SystemError) -> Rotated? {
        guard maxBytes > 0 else { return nil }
        let bytes = size
        guard bytes >= maxBytes else { return nil }
        do {
            let rotated = try rotate(bytes: bytes)
            failure = nil
            rotations += 1
            return rotated
        } catch {
            failure = error
            throw error
        }
    }

    private func rotate(bytes: UInt64) throws(SystemError) -> Rotated {
        let fresh = path + ".rotating"
        let newFD = try Sys.open(fresh, flags | O_CREAT | O_TRUNC, mode: mode)
        var done: [(from: String, to: String)] = []
        do {
            for (from, to) in Self.shifts(path: path, keep: keep) {
                do {
                    try Sys.rename(from, to: to)
                    done.append((from, to))
                } catch where error.errno == ENOENT && from != path {}
            }
            try Sys.rename(fresh, to: path)
        } catch {
            for (from, to) in done.reversed() { try? Sys.rename(to, to: from) }
            try? Sys.unlink(fresh)
            Sys.close(newFD)
            throw error
        }
        if inPlace {
            defer { Sys.close(newFD) }
            // Standard descriptors stay open across exec (they are stdio's).
            try Sys.duplicate(newFD, onto: fd, closeOnExec: fd > 2)
            return Rotated(bytes: bytes, to: "\(path).1", previousFD: nil)
        }
        let previous = fd
        fd = newFD
        return Rotated(bytes: bytes, to: "\(path).1", previousFD: previous)
    }
}
