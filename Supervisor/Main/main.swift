import Glibc
import PipelineSupervisor

exit(PipelineMain.main(Array(CommandLine.arguments.dropFirst())))
