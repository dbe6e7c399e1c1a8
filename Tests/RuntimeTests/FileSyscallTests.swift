import Foundation
import Glibc
import Testing
@testable import Runtime

/// The file-system wrappers: what they return, and the errors they report.
@Suite struct FileSyscallTests {
    @Test func listDirectoryNamesEveryEntryButDotAndDotDot() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        #expect(try Sys.listDirectory(dir.path) == [])
        for name in ["a.log", "b", ".hidden"] { try Sys.writeFile(dir.path + "/" + name, "x") }
        try Sys.mkdir(dir.path + "/sub", mode: 0o700)
        #expect(try Sys.listDirectory(dir.path).sorted() == [".hidden", "a.log", "b", "sub"])
        let missing = #expect(throws: SystemError.self) { try Sys.listDirectory(dir.path + "/none") }
        #expect(missing?.call == "opendir" && missing?.errno == ENOENT)
    }

    @Test func mapFileMapsRegularFilesOnly() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/data"
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try Sys.writeFile(path, bytes)
        let file = try #require(try Sys.mapFile(path))
        #expect(Array(file.bytes) == bytes)
        #expect(file.identity == FileIdentity.current(path))
        #expect(file.owner == Sys.userID())
        file.dropResidentPages()
        #expect(Array(file.bytes) == bytes, "dropped pages are read again from the file")

        try Sys.writeFile(dir.path + "/empty", [UInt8]())
        let empty = try #require(try Sys.mapFile(dir.path + "/empty"))
        #expect(empty.bytes.isEmpty && empty.identity.size == 0)

        #expect(try Sys.mapFile(dir.path) == nil, "a directory is not mapped")
        let missing = #expect(throws: SystemError.self) { try Sys.mapFile(dir.path + "/none") }
        #expect(missing?.call == "open" && missing?.errno == ENOENT)
        #expect(missing?.description == "open \(dir.path)/none: No such file or directory")

        symlink(path, dir.path + "/link")
        #expect(try Sys.mapFile(dir.path + "/link").map { Array($0.bytes) } == bytes)
        let refused = #expect(throws: SystemError.self) { try Sys.mapFile(dir.path + "/link", followSymlinks: false) }
        #expect(refused?.errno == ELOOP)
    }

    @Test func fileIdentityChangesWhenTheFileIsReplaced() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/model"
        try Sys.writeFile(path, "one")
        let before = try #require(FileIdentity.current(path))
        #expect(FileIdentity.current(path) == before)
        try Sys.writeFile(path + ".new", "one")
        try Sys.rename(path + ".new", to: path)
        let after = try #require(FileIdentity.current(path))
        #expect(after != before && after.inode != before.inode)
        #expect(after.text.hasPrefix("dev=\(after.device) ino=\(after.inode) size=3 mtime="))
        #expect(FileIdentity.current(dir.path + "/none") == nil)
    }

    @Test func renameReplacesAndFsyncSucceeds() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let fd = try Sys.open(dir.path + "/tmp", O_WRONLY | O_CREAT | O_TRUNC)
        try Sys.writeAll(fd, "new")
        try Sys.fsync(fd)
        Sys.close(fd)
        try Sys.writeFile(dir.path + "/file", "old")
        try Sys.rename(dir.path + "/tmp", to: dir.path + "/file")
        #expect(try Sys.readFile(dir.path + "/file") == Array("new".utf8))
        #expect(try Sys.lstat(dir.path + "/tmp") == nil)
        let missing = #expect(throws: SystemError.self) { try Sys.rename(dir.path + "/tmp", to: dir.path + "/x") }
        #expect(missing?.errno == ENOENT)
    }

    /// flock locks belong to open files: two opens of one file conflict even in one process.
    @Test func flockConflictsBetweenOpenFiles() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/lock"
        let a = try Sys.open(path, O_RDWR | O_CREAT)
        let b = try Sys.open(path, O_RDWR)
        defer {
            Sys.close(a)
            Sys.close(b)
        }
        #expect(try Sys.flock(a, .exclusive))
        #expect(try !Sys.flock(b, .exclusive, wait: false))
        #expect(try !Sys.flock(b, .shared, wait: false))
        try Sys.flock(a, .unlocked)
        #expect(try Sys.flock(b, .shared, wait: false))
        #expect(try Sys.flock(a, .shared, wait: false), "shared locks coexist")
        #expect(try !Sys.flock(a, .exclusive, wait: false))
    }

    @Test func temporaryDirectoriesAndRmdir() throws {
        let path = try Sys.makeTemporaryDirectory(prefix: "/tmp/pl-sys-")
        #expect(path.hasPrefix("/tmp/pl-sys-") && path.count == "/tmp/pl-sys-".count + 6)
        let st = try #require(try Sys.lstat(path))
        #expect(st.st_mode & S_IFMT == S_IFDIR && st.st_mode & 0o777 == 0o700)
        try Sys.rmdir(path)
        #expect(try Sys.lstat(path) == nil)
        try Sys.rmdir(path)
    }

    @Test func processPaths() throws {
        let exe = try Sys.executablePath()
        #expect(exe.hasPrefix("/") && Sys.access(exe, X_OK))
        #expect(try Sys.currentDirectory() == FileManager.default.currentDirectoryPath)
        #expect(!Sys.access("/nonexistent/file", R_OK))
        #expect(Sys.processID() == getpid() && Sys.pageSize() >= 4096 && Sys.processorCount() >= 1)
    }
}
