import Foundation

/// A fresh directory under /tmp (short, so socket paths fit), removed by `remove()`.
struct TempDirectory {
    let path: String

    init() {
        var template = Array("/tmp/pl-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
