import DistillCLI
import Foundation

exit(await DistillCLI.main(Array(CommandLine.arguments.dropFirst())))
