import Glibc
import PipelineCLI

exit(PipelineMain.main(Array(CommandLine.arguments.dropFirst())))
