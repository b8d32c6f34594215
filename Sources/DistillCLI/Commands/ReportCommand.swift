import Foundation

struct ReportCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "report",
        abstract: "Markdown, HTML and CSV report from judgments")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill report", plannedIn: "the judge issue (#6)")
    }
}
