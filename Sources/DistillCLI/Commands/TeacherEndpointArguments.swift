import DistillClient
import DistillHarvest

/// The `--teacher URL|PRESET`, `--model` and `--key-env` options that `distill ask` and `distill harvest` share,
/// turned into an `Endpoint` the same way in both.
enum TeacherEndpointArguments {
    static let teacher: Option<String?> = .value("teacher", "URL", help: "base URL of an OpenAI-compatible API, or a preset name")
    static let model: Option<String?> = .value("model", "M", help: "teacher model name (a preset has a default)")
    static let keyEnv: Option<String?> = .value("key-env", "NAME", help: "environment variable holding the API key (none for local servers)")

    /// A base URL needs `--model`; a preset supplies its URL, default model and key variable. `--key-env ''` means
    /// no key (a local server).
    static func endpoint(_ args: ParsedArguments) throws -> Endpoint {
        let teacher = try args.required(Self.teacher)
        let model = args[Self.model]
        var endpoint: Endpoint
        if teacher.contains("://") {
            guard let model else { throw UsageError("--model is required with a teacher URL") }
            endpoint = Endpoint(baseURL: teacher, model: model, keyEnv: nil)
        } else if let preset = Endpoint.preset(named: teacher, model: model) {
            endpoint = preset
        } else {
            throw UsageError("--teacher '\(teacher)' is neither a URL nor a preset (\(Endpoint.presetNames.joined(separator: ", ")))")
        }
        if let keyEnv = args[Self.keyEnv] { endpoint.keyEnv = keyEnv.isEmpty ? nil : keyEnv }
        return endpoint
    }
}
