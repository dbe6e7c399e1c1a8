import Glibc
import Messages

/// Which frame a replica is processing, in a small file both the replica (writing, through a
/// shared mapping: a plain store per batch, no system call) and the supervisor (reading, after
/// the replica died) can see. It lets the supervisor blame a crash on the batch that caused it.
///
/// Layout: u64 sequence, u32 stream, u8 flags, u8 busy (1 while processing), u16 0, u32 model slots.
public final class StatePage {
    public static let size = 64
    private let base: UnsafeMutableRawPointer

    /// Maps `path` (created by the supervisor) into this process.
    public init(path: String) throws(SystemError) {
        let fd = try Sys.open(path, O_RDWR)
        defer { Sys.close(fd) }
        guard let p = mmap(nil, Self.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw lastError("mmap", context: path)
        }
        base = p
    }

    deinit { munmap(base, Self.size) }

    /// Marks `header`'s frame as being processed.
    @inline(__always)
    public func begin(_ header: FrameHeader) {
        base.storeBytes(of: header.sequence, toByteOffset: 0, as: UInt64.self)
        base.storeBytes(of: header.stream, toByteOffset: 8, as: UInt32.self)
        base.storeBytes(of: header.flags.rawValue, toByteOffset: 12, as: UInt8.self)
        base.storeBytes(of: header.model.rawValue, toByteOffset: 16, as: UInt32.self)
        base.storeBytes(of: UInt8(1), toByteOffset: 13, as: UInt8.self)
    }

    /// Marks the frame as done.
    @inline(__always)
    public func end() {
        base.storeBytes(of: UInt8(0), toByteOffset: 13, as: UInt8.self)
    }

    /// What a replica was doing, read from its page (by the supervisor).
    public struct Work: Equatable, Sendable {
        public var sequence: UInt64
        public var stream: UInt32
        public var flags: FrameFlags
        /// The model versions the frame named.
        public var model: ModelSlots

        public init(sequence: UInt64, stream: UInt32, flags: FrameFlags, model: ModelSlots = ModelSlots()) {
            self.sequence = sequence
            self.stream = stream
            self.flags = flags
            self.model = model
        }
    }

    /// Creates (or empties) the page file for a replica about to start.
    public static func create(path: String) throws(SystemError) {
        let fd = try Sys.open(path, O_RDWR | O_CREAT | O_TRUNC, mode: 0o600)
        defer { Sys.close(fd) }
        guard ftruncate(fd, off_t(size)) == 0 else { throw lastError("ftruncate", context: path) }
    }

    /// The frame the replica was processing when it stopped, or nil if it was idle.
    public static func read(path: String) -> Work? {
        guard let bytes = try? Sys.readFile(path, limit: size), bytes.count >= 20, bytes[13] == 1 else { return nil }
        return bytes.withUnsafeBytes { raw in
            Work(sequence: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                 stream: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self),
                 flags: FrameFlags(rawValue: raw[12]),
                 model: ModelSlots(rawValue: raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
        }
    }
}
