import Glibc

/// Calls for memory shared between processes: anonymous memory files (memfd) with seals, their
/// mappings, and passing a descriptor over a Unix socket (SCM_RIGHTS).
extension Sys {
    /// memfd_create(2) flags and fcntl(2) sealing commands (Linux ABI values: the Glibc module
    /// leaves out the GNU declarations).
    public enum Seal {
        public static let shrink: Int32 = 0x2
        public static let grow: Int32 = 0x4
        public static let write: Int32 = 0x8
        /// No new writable mapping and no write(2); mappings made before keep writing.
        public static let futureWrite: Int32 = 0x10
        public static let seal: Int32 = 0x1
    }
    private static let memfdCloseOnExec: UInt32 = 0x1
    private static let memfdAllowSealing: UInt32 = 0x2
    private static let addSealsCommand: Int32 = 1033
    private static let getSealsCommand: Int32 = 1034
    private static let receiveCloseOnExec: Int32 = 0x4000_0000  // MSG_CMSG_CLOEXEC

    private typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32
    /// glibc's memfd_create, looked up once (not declared by the Glibc module).
    private static let memfdCreateFunction: MemfdCreate? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "memfd_create") else { return nil }
        return unsafeBitCast(symbol, to: MemfdCreate.self)
    }()

    /// A new anonymous memory file of `size` bytes that allows seals, close-on-exec.
    ///
    /// The corresponding C functions are `memfd_create` and `ftruncate`.
    public static func memoryFile(name: String, size: Int) throws(SystemError) -> Int32 {
        guard let create = memfdCreateFunction else { throw SystemError("memfd_create", errno: ENOSYS) }
        let fd = create(name, memfdCloseOnExec | memfdAllowSealing)
        guard fd >= 0 else { throw lastError("memfd_create") }
        do {
            try truncate(fd, size: size)
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// The largest file this process may make (`ulimit -f`), or nil when unlimited.
    ///
    /// The corresponding C function is `getrlimit`, with `RLIMIT_FSIZE`.
    public static func fileSizeLimit() -> UInt64? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return UInt64(limit.rlim_cur)
    }

    /// The corresponding C function is `fcntl`, with `F_ADD_SEALS`.
    public static func addSeals(_ fd: Int32, _ seals: Int32) throws(SystemError) {
        guard Glibc.fcntl(fd, addSealsCommand, seals) == 0 else { throw lastError("fcntl(F_ADD_SEALS)") }
    }

    /// The seals of a memory file (0 for a file that cannot be sealed).
    ///
    /// The corresponding C function is `fcntl`, with `F_GET_SEALS`.
    public static func seals(_ fd: Int32) -> Int32 {
        max(Glibc.fcntl(fd, getSealsCommand), 0)
    }

    /// Maps `size` bytes of `fd` shared, readable and writable.
    ///
    /// The corresponding C function is `mmap`.
    public static func mapShared(_ fd: Int32, size: Int) throws(SystemError) -> UnsafeMutableRawPointer {
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else { throw lastError("mmap") }
        return address
    }

    /// The corresponding C function is `munmap`.
    public static func unmap(_ address: UnsafeMutableRawPointer, size: Int) {
        _ = munmap(address, size)
    }

    /// Sends `bytes` with `descriptor` attached (SCM_RIGHTS), in one call. Returns the bytes
    /// sent (the descriptor went with the first), nil when the socket would block.
    ///
    /// The corresponding C function is `sendmsg`, with `MSG_NOSIGNAL`.
    public static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, attaching descriptor: Int32) throws(SystemError) -> Int? {
        let controlSize = 16 + 8  // cmsghdr, one descriptor, padded to 8
        let control = UnsafeMutableRawPointer.allocate(byteCount: controlSize, alignment: 8)
        defer { control.deallocate() }
        control.initializeMemory(as: UInt8.self, repeating: 0, count: controlSize)
        control.storeBytes(of: 16 + 4, toByteOffset: 0, as: Int.self)  // cmsg_len = CMSG_LEN(4)
        control.storeBytes(of: SOL_SOCKET, toByteOffset: 8, as: Int32.self)
        control.storeBytes(of: Int32(SCM_RIGHTS), toByteOffset: 12, as: Int32.self)
        control.storeBytes(of: descriptor, toByteOffset: 16, as: Int32.self)
        return try withMessage(UnsafeMutableRawPointer(mutating: bytes.baseAddress), count: bytes.count,
                               control: control, controlSize: controlSize) { (message) throws(SystemError) -> Int? in
            while true {
                let n = sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
                if n >= 0 { return n }
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
                throw lastError("sendmsg")
            }
        }
    }

    /// Reads from a socket like `read`, and appends any descriptors that came with the bytes
    /// (SCM_RIGHTS; close-on-exec) to `descriptors`; sets `lostDescriptors` when the kernel
    /// dropped some (MSG_CTRUNC: this process is out of descriptors, or too many came). Returns
    /// bytes read, 0 at end of file, nil when nothing was available.
    ///
    /// The corresponding C function is `recvmsg`, with `MSG_CMSG_CLOEXEC`.
    public static func receive(_ fd: Int32, into p: UnsafeMutableRawPointer, count: Int,
                               descriptors: inout [Int32], lostDescriptors: inout Bool) throws(SystemError) -> Int? {
        let controlSize = 64  // room for a few descriptors; more are closed by the kernel (MSG_CTRUNC)
        let control = UnsafeMutableRawPointer.allocate(byteCount: controlSize, alignment: 8)
        defer { control.deallocate() }
        return try withMessage(p, count: count, control: control, controlSize: controlSize) { (message) throws(SystemError) -> Int? in
            while true {
                let n = recvmsg(fd, &message, receiveCloseOnExec)
                if n >= 0 {
                    collectDescriptors(control, length: Int(message.msg_controllen), into: &descriptors)
                    if message.msg_flags & Int32(MSG_CTRUNC) != 0 { lostDescriptors = true }
                    return n
                }
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
                throw lastError("recvmsg")
            }
        }
    }

    /// A message header for one buffer of `count` bytes at `p` and a control buffer, for
    /// sendmsg and recvmsg.
    private static func withMessage(_ p: UnsafeMutableRawPointer?, count: Int, control: UnsafeMutableRawPointer, controlSize: Int,
                                    _ body: (inout msghdr) throws(SystemError) -> Int?) throws(SystemError) -> Int? {
        var vector = iovec(iov_base: p, iov_len: count)
        return try withUnsafeMutablePointer(to: &vector) { (vector) throws(SystemError) -> Int? in
            var message = msghdr()
            message.msg_iov = vector
            message.msg_iovlen = 1
            message.msg_control = control
            message.msg_controllen = controlSize
            return try body(&message)
        }
    }

    /// The SCM_RIGHTS descriptors in a control buffer of `length` bytes (walked as CMSG_NXTHDR does).
    private static func collectDescriptors(_ control: UnsafeMutableRawPointer, length: Int, into descriptors: inout [Int32]) {
        var offset = 0
        while offset + 16 <= length {
            let cmsgLength = control.load(fromByteOffset: offset, as: Int.self)
            let level = control.load(fromByteOffset: offset + 8, as: Int32.self)
            let type = control.load(fromByteOffset: offset + 12, as: Int32.self)
            guard cmsgLength >= 16, offset + cmsgLength <= length else { return }
            if level == SOL_SOCKET && type == Int32(SCM_RIGHTS) {
                for k in 0..<(cmsgLength - 16) / 4 {
                    descriptors.append(control.load(fromByteOffset: offset + 16 + 4 * k, as: Int32.self))
                }
            }
            offset += (cmsgLength + 7) & ~7
        }
    }
}
