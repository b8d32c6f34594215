import DistillCLI
import Foundation

let argv = Array(CommandLine.arguments.dropFirst())
DistillCLI.adoptFasterBLASKernels(argv)
let status = await DistillCLI.main(argv)
DistillCLI.reportPeakMemory()
exit(status)
