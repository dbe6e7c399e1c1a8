import Glibc

/// Which file, and which version of it: device, inode, size, modification and change times.
/// Replacing a file (new inode) or writing to it (new mtime, ns resolution) changes it.
public struct FileIdentity: Equatable, Sendable {
    /// A point in time as `stat` gives it: seconds and nanoseconds since the epoch.
    public struct Time: Equatable, Sendable {
        public var seconds: Int64
        public var nanoseconds: Int64
    }

    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modified: Time
    public var changed: Time

    /// The identity `stat` describes.
    public init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = Time(seconds: Int64(info.st_mtim.tv_sec), nanoseconds: Int64(info.st_mtim.tv_nsec))
        changed = Time(seconds: Int64(info.st_ctim.tv_sec), nanoseconds: Int64(info.st_ctim.tv_nsec))
    }

    /// The identity of the file at `path` now (symbolic links followed), or nil if it cannot
    /// be read.
    public static func current(_ path: String) -> FileIdentity? {
        (try? Sys.stat(path))?.map(FileIdentity.init)
    }

    /// A one-line text form, e.g. to store in a file and compare later.
    public var text: String {
        "dev=\(device) ino=\(inode) size=\(size) mtime=\(modified.seconds).\(modified.nanoseconds) "
            + "ctime=\(changed.seconds).\(changed.nanoseconds)"
    }
}
