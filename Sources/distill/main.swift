import DistillCLI
import Foundation

let argv = Array(CommandLine.arguments.dropFirst())
DistillCLI.adoptFasterBLASKernels(argv)
exit(await DistillCLI.main(argv))
