import Config
import Glibc
import Runtime

/// Where the stage executables are: next to the `pipeline` binary.
struct StageBinaries {
    let directory: String

    init() throws(PipelineError) {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { throw PipelineError(.environment, "cannot find the pipeline executable (/proc/self/exe)") }
        let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        directory = String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)])
        for stage in StageKind.allCases {
            let path = self.path(stage)
            guard access(path, X_OK) == 0 else {
                throw PipelineError(.environment, "stage binary missing or not executable: \(path) (build all products: swift build -c release)")
            }
        }
    }

    func path(_ stage: StageKind) -> String { "\(directory)/\(stage.rawValue)" }
}
