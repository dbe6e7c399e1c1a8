import Glibc
import Messages

/// Where frames go in a ring of `size` bytes: each at the lowest offset where it fits between
/// the frames not yet released (first fit), and given back oldest first, when the receiver says
/// it has copied frames out. A frame never wraps around the end. Lowest-first keeps a steady
/// stream on the same few pages rather than cycling through the whole ring (each page touched
/// stays resident). Pure: no memory.
public struct RingAllocator: Equatable, Sendable {
    public let size: Int
    /// Byte ranges of the frames not yet released, oldest first (from `first`).
    public private(set) var entries: [Range<Int>] = []
    private var first = 0
    /// Frames placed since the start (the next frame's index).
    public private(set) var placed: UInt64 = 0
    /// Frames released since the start.
    public private(set) var released: UInt64 = 0

    public init(size: Int) { self.size = size }

    /// Bytes held by frames not yet released (their ranges, not the gaps between them).
    public var heldBytes: Int { entries[first...].reduce(0) { $0 + $1.count } }
    public var isEmpty: Bool { first == entries.count }

    /// Room for `length` bytes, aligned to 64: the offset, or nil when the ring has no room now.
    public mutating func place(_ length: Int) -> Int? {
        precondition(length > 0)
        let length = (length + 63) & ~63
        // The gaps between the live frames, lowest first (a handful: as many as the credits).
        var start = 0
        for range in entries[first...].sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if start + length <= range.lowerBound { break }
            start = max(start, range.upperBound)
        }
        guard start + length <= size else { return nil }
        entries.append(start..<start + length)
        placed += 1
        return start
    }

    /// Gives back the space of every frame up to `count` placed (the receiver's running count
    /// of frames copied out). Counts beyond what was placed, or going back, are refused.
    /// - Returns: false when `count` is not possible (a peer's error).
    public mutating func release(through count: UInt64) -> Bool {
        guard count <= placed else { return false }
        guard count > released else { return count == released }
        let n = Int(count - released)
        first += n
        released = count
        if first == entries.count {
            entries.removeAll(keepingCapacity: true)
            first = 0
        } else if first >= 64 && first * 2 >= entries.count {
            entries.removeFirst(first)
            first = 0
        }
        return true
    }
}

/// The sending side's ring: a sealed memory file mapped writable here and offered to the
/// receiver, which reads frames out of it and cannot write it.
public final class SharedRing {
    /// The memory file, open until `closeFile` (after it was offered: the receiver has its own).
    public private(set) var fd: Int32
    public let base: UnsafeMutableRawPointer
    public private(set) var allocator: RingAllocator
    /// Frames sent through the ring and their bytes (for the stage's counters).
    public private(set) var sentFrames: UInt64 = 0
    public private(set) var sentBytes: UInt64 = 0

    /// Frames smaller than this go inline: for them a copy into the socket costs no more.
    public static let minimumFrame = 4 << 10

    /// A ring of `size` bytes.
    /// - Throws: `SystemError`; EINVAL from `fcntl(F_ADD_SEALS)` means a kernel without
    ///   `F_SEAL_FUTURE_WRITE` (before Linux 5.1).
    public init(size: Int) throws(SystemError) {
        let fd = try Sys.memoryFile(name: "pipeline-ring", size: size)
        let base: UnsafeMutableRawPointer
        do {
            base = try Sys.mapShared(fd, size: size)
        } catch {
            Sys.close(fd)
            throw error
        }
        do {
            // After the writable mapping: it keeps working, and no new one can be made (nor a
            // write(2), nor a hole punched). No shrinking or growing.
            try Sys.addSeals(fd, Sys.Seal.shrink | Sys.Seal.grow | Sys.Seal.futureWrite | Sys.Seal.seal)
        } catch {
            Sys.unmap(base, size: size)
            Sys.close(fd)
            throw error
        }
        self.fd = fd
        self.base = base
        allocator = RingAllocator(size: size)
    }

    deinit {
        closeFile()
        Sys.unmap(base, size: allocator.size)
    }

    /// Closes the memory file (the mapping stays).
    public func closeFile() {
        guard fd >= 0 else { return }
        Sys.close(fd)
        fd = -1
    }

    /// Copies `frame` (whole frames) into the ring; its reference, or nil when it does not fit now.
    public func place(_ frame: UnsafeRawBufferPointer) -> SharedFrameRef? {
        let index = allocator.placed
        guard let offset = allocator.place(frame.count) else { return nil }
        (base + offset).copyMemory(from: frame.baseAddress!, byteCount: frame.count)
        sentFrames += 1
        sentBytes += UInt64(frame.count)
        return SharedFrameRef(offset: UInt64(offset), length: UInt64(frame.count), index: index)
    }

    /// The receiver has copied out `count` frames in all.
    public func release(through count: UInt64) -> Bool { allocator.release(through: count) }
}

/// The receiving side of a sender's ring: the memory file, checked, from which frames are read
/// with pread(2) into this side's own buffer. Nothing is mapped: a file the sender shrank, or a
/// page it never wrote, gives a short read or zeros, never a SIGBUS, and what is read is private.
public final class SharedRingView {
    private let fd: Int32
    public let size: Int
    /// Frames read out so far (what credits report back as released).
    public private(set) var copied: UInt64 = 0

    /// Largest ring accepted: 1 GiB.
    public static let maxSize = 1 << 30

    /// Takes the memory file `fd` offered as `offer` (closed here if refused).
    /// - Throws: `FrameError` when it is not a sealed memory file of the offered size.
    public init(fd: Int32, offer: SharedRingOffer) throws(FrameError) {
        var keep = false
        defer { if !keep { Sys.close(fd) } }
        let size = Int(clamping: offer.size)
        guard size >= 4096, size <= Self.maxSize else {
            throw .invalid(field: "ring.size", reason: "\(offer.size) bytes, outside 4 KiB…1 GiB")
        }
        // A memory file (pipes, sockets and files have no seals) whose size is fixed, and which
        // nobody can write but through the mapping the sender made before sealing it.
        let required = Sys.Seal.shrink | Sys.Seal.grow | Sys.Seal.futureWrite | Sys.Seal.seal
        guard Sys.seals(fd) & required == required else {
            throw .invalid(field: "ring", reason: "the descriptor is not a memory file sealed against resizing and new writers")
        }
        guard let status = try? Sys.fileStatus(fd), (status.st_mode & S_IFMT) == S_IFREG, Int(status.st_size) == size else {
            throw .invalid(field: "ring", reason: "the memory file is not a regular file of \(size) bytes")
        }
        self.fd = fd
        self.size = size
        keep = true
    }

    deinit { Sys.close(fd) }

    /// Reads the frame `ref` names into `buffer` (emptied first), after checking it lies in the
    /// ring, is the next one expected, and that its header (read first, checked by `decoder`:
    /// the frame limit included) says a data frame of exactly that length. What it holds is then
    /// decoded and validated from the copy, like any frame: the sender cannot change it after.
    public func copy(_ ref: SharedFrameRef, into buffer: FrameBuffer, decoder: FrameDecoder) throws(FrameError) {
        guard ref.index == copied else {
            throw .invalid(field: "shared.index", reason: "frame \(ref.index) where \(copied) was next")
        }
        guard ref.length >= UInt64(FrameHeader.size), ref.length % UInt64(FrameHeader.alignment) == 0,
              ref.offset % UInt64(FrameHeader.alignment) == 0,
              ref.offset <= UInt64(size), ref.length <= UInt64(size) - ref.offset else {
            throw .invalid(field: "shared.offset", reason: "\(ref.length) bytes at \(ref.offset) are not a frame in a ring of \(size)")
        }
        let length = Int(ref.length), offset = Int(ref.offset)
        buffer.removeAll()
        // The header alone first: a frame over the limit is refused before the buffer grows.
        let start = buffer.appendUninitialized(UInt8.self, count: FrameHeader.size)
        try read(into: buffer.base + start, count: FrameHeader.size, at: offset)
        guard let header = try decoder.peekHeader(buffer.bytes), header.frameLength == length else {
            throw .invalid(field: "shared.length", reason: "the ring's bytes at \(offset) are not one frame of \(length) bytes")
        }
        guard header.kind.isData else { throw .unexpected(kind: header.kind, context: "in a shared ring") }
        let rest = buffer.appendUninitialized(UInt8.self, count: length - FrameHeader.size)
        try read(into: buffer.base + rest, count: length - FrameHeader.size, at: offset + FrameHeader.size)
        copied += 1
    }

    private func read(into p: UnsafeMutableRawPointer, count: Int, at offset: Int) throws(FrameError) {
        var done = 0
        while done < count {
            let n = pread(fd, p + done, count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw .invalid(field: "shared.offset", reason: "the ring could not be read at \(offset + done) (\(n < 0 ? String(cString: strerror(errno)) : "end of file"))")
            }
            done += n
        }
    }
}
