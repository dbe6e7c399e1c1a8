import Engine
import Glibc  // the open flags
import Kernels
import Runtime

/// A weight cache file: every large array derived from one model for one session plan (packed
/// GEMM panels, folded weights, tree node arrays, sparse-path weights), written once and then
/// mapped read-only and `MAP_SHARED` by every replica, so the page cache holds one copy.
///
/// Layout (little-endian):
///
///     0   magic "PLWCACHE"
///     8   UInt32 format version (`version`)
///     12  UInt32 directory length in bytes (it starts at 64, after the key)
///     16  UInt64 file length: a shorter (truncated) file is refused
///     24  UInt32 record count
///     28  UInt32 key length in bytes
///     32  zeros up to 64
///     64  the key (UTF-8): model identity and session options, compared on open
///         the directory, 8-byte aligned: per record UInt32 key length, scalar count, array
///         count, 0; the key padded to 8 bytes; Int64 scalars; per array UInt64 offset, length
///         the arrays, each at a 64-byte aligned offset (the kernels' panels need it)
///
/// The writer puts all of it in a temporary file in the same directory, fsyncs it and renames
/// it over `path`, so a reader sees either no file, an older complete one, or the new complete
/// one; never a partial one. Files are never modified after the rename.
final class WeightCacheFile: Sendable {
    /// Bump whenever a cached array's layout or meaning changes (packing, tree flattening,
    /// lowering keys, folding): a file of another version is rebuilt, never read.
    static let version: UInt32 = 1
    static let magic: [UInt8] = Array("PLWCACHE".utf8)
    static let headerBytes = 64

    /// The arrays are borrowed from the file's mapping, which they keep alive: it is unmapped
    /// with the last of them.
    let records: [String: WeightStore.Record]

    private init(records: [String: WeightStore.Record]) {
        self.records = records
    }

    /// Maps and checks the file at `path`; nil when there is none, or it is not a regular file
    /// of this user's (a symbolic link is refused), or it is truncated, of another version or
    /// for another key (another model file or version of it), or malformed.
    static func open(_ path: String, key: String) -> WeightCacheFile? {
        guard let mapping = try? Sys.mapFile(path, followSymlinks: false), mapping.owner == Sys.userID(),
              let base = mapping.bytes.baseAddress, mapping.bytes.count >= headerBytes else { return nil }
        let count = mapping.bytes.count
        var reader = Reader(bytes: mapping.bytes)
        guard let start = reader.bytes(8), start.elementsEqual(magic), reader.u32() == version else { return nil }
        let directoryLength = Int(reader.u32() ?? 0)
        guard reader.u64() == UInt64(count), let recordCount = reader.u32(), let keyLength = reader.u32() else {
            return nil
        }
        reader.offset = headerBytes
        guard let keyBytes = reader.bytes(Int(keyLength)), String(decoding: keyBytes, as: UTF8.self) == key else { return nil }
        reader.align(8)
        let directoryEnd = reader.offset + directoryLength
        guard directoryEnd <= count else { return nil }
        var records: [String: WeightStore.Record] = [:]
        for _ in 0..<recordCount {
            guard let nameLength = reader.u32(), let scalarCount = reader.u32(), let arrayCount = reader.u32(),
                  reader.u32() != nil, let name = reader.bytes(Int(nameLength)) else { return nil }
            reader.align(8)
            var record = WeightStore.Record(scalars: [], buffers: [])
            for _ in 0..<scalarCount {
                guard let value = reader.u64() else { return nil }
                record.scalars.append(Int64(bitPattern: value))
            }
            for _ in 0..<arrayCount {
                guard let offset = reader.u64(), let length = reader.u64(), offset % 64 == 0,
                      offset >= UInt64(directoryEnd), length <= UInt64(count), offset <= UInt64(count) - length
                else { return nil }
                record.buffers.append(WeightBuffer(borrowing: base + Int(offset), byteCount: Int(length), owner: mapping))
            }
            guard reader.offset <= directoryEnd else { return nil }
            records[String(decoding: name, as: UTF8.self)] = record
        }
        return WeightCacheFile(records: records)
    }

    /// Writes `records` under `key` to a temporary file beside `path`, fsyncs it and renames it
    /// over `path`. Returns false (leaving no temporary file) when any step fails.
    static func write(_ records: [(key: String, record: WeightStore.Record)], key: String, to path: String) -> Bool {
        let keyBytes = Array(key.utf8)
        let directoryStart = (headerBytes + keyBytes.count + 7) / 8 * 8
        // The directory's size does not depend on the offsets it holds.
        let directorySize = directory(records, payloadStart: 0).count
        let payloadStart = (directoryStart + directorySize + 63) / 64 * 64
        let arrays = records.flatMap { $0.record.buffers.map(\.bytes) }
        let fileLength = arrays.reduce(payloadStart) { $0 + padded($1.count) }
        var header = Writer()
        header.bytes(magic)
        header.u32(version)
        header.u32(UInt32(directorySize))
        header.u64(UInt64(fileLength))
        header.u32(UInt32(records.count))
        header.u32(UInt32(keyBytes.count))
        header.pad(to: headerBytes)
        header.bytes(keyBytes)
        header.pad(to: directoryStart)
        header.bytes(directory(records, payloadStart: payloadStart))
        header.pad(to: payloadStart)

        removeLeftovers(of: path)
        let temporary = "\(path).tmp.\(Sys.processID())"
        do {
            let fd = try Sys.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: 0o600)
            defer { Sys.close(fd) }
            try header.out.withUnsafeBytes { try Sys.writeAll(fd, $0) }
            let zeros = [UInt8](repeating: 0, count: 64)
            for bytes in arrays {
                try Sys.writeAll(fd, bytes)
                try zeros.withUnsafeBytes { try Sys.writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[..<(padded(bytes.count) - bytes.count)])) }
            }
            try Sys.fsync(fd)
        } catch {
            try? Sys.unlink(temporary)
            return false
        }
        do {
            try Sys.rename(temporary, to: path)
        } catch {
            try? Sys.unlink(temporary)
            return false
        }
        syncDirectory(of: path)
        return true
    }

    /// The directory: per record its key, scalars and arrays, the arrays laid out one after
    /// another from `payloadStart`, each padded to 64 bytes.
    private static func directory(_ records: [(key: String, record: WeightStore.Record)], payloadStart: Int) -> [UInt8] {
        var w = Writer()
        var offset = payloadStart
        for (name, record) in records {
            let nameBytes = Array(name.utf8)
            w.u32(UInt32(nameBytes.count))
            w.u32(UInt32(record.scalars.count))
            w.u32(UInt32(record.buffers.count))
            w.u32(0)
            w.bytes(nameBytes)
            w.pad(to: (w.out.count + 7) / 8 * 8)
            for value in record.scalars { w.u64(UInt64(bitPattern: value)) }
            for buffer in record.buffers {
                w.u64(UInt64(offset))
                w.u64(UInt64(buffer.byteCount))
                offset += padded(buffer.byteCount)
            }
        }
        return w.out
    }

    private static func padded(_ count: Int) -> Int { (count + 63) / 64 * 64 }

    /// Takes the exclusive lock `path.lock` (flock: released when the process dies, so a
    /// crashed builder never blocks the others). Returns the descriptor to pass to `unlock`,
    /// or nil when the lock file cannot be made (e.g. a read-only directory).
    static func lock(_ path: String) -> Int32? {
        guard let fd = try? Sys.open(path + ".lock", O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o600) else { return nil }
        do {
            try Sys.flock(fd, .exclusive)
        } catch {
            Sys.close(fd)
            return nil
        }
        return fd
    }

    static func unlock(_ fd: Int32) {
        _ = try? Sys.flock(fd, .unlocked)
        Sys.close(fd)
    }

    /// Removes temporary files a builder killed mid-write left beside `path`: the caller holds
    /// the lock, so no other builder is writing one now.
    private static func removeLeftovers(of path: String) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let prefix = (slash.map { String(path[path.index(after: $0)...]) } ?? path) + ".tmp."
        for name in (try? Sys.listDirectory(directory.isEmpty ? "/" : directory)) ?? [] where name.hasPrefix(prefix) {
            try? Sys.unlink(directory + "/" + name)
        }
    }

    /// Makes the rename durable (best effort: the file is complete either way).
    private static func syncDirectory(of path: String) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        guard let fd = try? Sys.open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY) else { return }
        try? Sys.fsync(fd)
        Sys.close(fd)
    }
}

/// Bounds-checked little-endian reads of the header and directory.
private struct Reader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    mutating func bytes(_ count: Int) -> UnsafeRawBufferPointer.SubSequence? {
        guard count >= 0, count <= bytes.count - offset else { return nil }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func u32() -> UInt32? {
        guard let b = bytes(4) else { return nil }
        return UInt32(littleEndian: UnsafeRawBufferPointer(rebasing: b).loadUnaligned(as: UInt32.self))
    }

    mutating func u64() -> UInt64? {
        guard let b = bytes(8) else { return nil }
        return UInt64(littleEndian: UnsafeRawBufferPointer(rebasing: b).loadUnaligned(as: UInt64.self))
    }

    mutating func align(_ n: Int) { offset = (offset + n - 1) / n * n }
}

private struct Writer {
    var out: [UInt8] = []

    mutating func bytes(_ b: [UInt8]) { out += b }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
    mutating func pad(to count: Int) { if out.count < count { out += [UInt8](repeating: 0, count: count - out.count) } }
}
