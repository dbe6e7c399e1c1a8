import Glibc

/// Reads a whole model file into memory with plain POSIX calls (no Foundation).
enum ModelFile {
    /// The corresponding C functions are `open`, `fstat`, `read` and `close`; EINTR is retried.
    static func read(path: String) throws(ModelError) -> [UInt8] {
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw ioError("cannot open", path) }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ioError("cannot stat", path) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw ModelError(.io, "not a regular file", file: path)
        }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let n = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(fd, buffer.baseAddress! + filled, size - filled)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("cannot read", path)
            }
            if n == 0 { break }  // the file shrank while reading: decode what is there
            filled += n
        }
        if filled < size { bytes.removeLast(size - filled) }
        return bytes
    }

    private static func ioError(_ what: String, _ path: String) -> ModelError {
        let code = errno
        let text = strerror(code).map { String(cString: $0) } ?? "errno \(code)"
        return ModelError(.io, "\(what) the model file: \(text)", file: path)
    }
}
