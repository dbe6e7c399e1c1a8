import Config
import Glibc
import Runtime

/// Where the stage executables are: next to the `pipeline` binary.
public struct StageBinaries {
    public let directory: String

    public init() throws(PipelineError) {
        guard let exe = try? Sys.executablePath() else {
            throw PipelineError(.environment, "cannot find the pipeline executable (/proc/self/exe)")
        }
        directory = String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)])
        for stage in StageKind.allCases {
            let path = self.path(stage)
            guard Sys.access(path, X_OK) else {
                throw PipelineError(.environment, "stage binary missing or not executable: \(path) (build all products: swift build -c release)")
            }
        }
    }

    public func path(_ stage: StageKind) -> String { "\(directory)/\(stage.rawValue)" }
}
