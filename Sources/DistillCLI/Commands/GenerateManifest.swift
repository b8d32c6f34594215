import DistillData
import Foundation

/// What produced a generation file (`NAME.manifest.json` beside `NAME.jsonl`): the model by content, the precision,
/// the sampling parameters and the chat template. Resuming with any of them changed would mix two models' answers
/// in one file, so it is refused, naming what changed. Batch size and threads are not in it: they change nothing.
struct GenerateManifest: RunManifest {
    static let stage = "generate"
    var fingerprint = ""
    var createdAt = ""
    /// Where the model was (for messages only).
    var model: String
    var modelSHA256: String
    /// The `--adapter` folder (for messages only) and its content hash; absent without one.
    var adapter: String? = nil
    var adapterSHA256: String? = nil
    var precision: String
    /// temperature, top_k, top_p, min_p, seed, max_tokens, stop.
    var sampling: [String: String]
    /// "the model's own", a family name, or "file sha256:…" (`--chat-template`).
    var chatTemplate: String

    enum CodingKeys: String, CodingKey {
        case fingerprint, model, precision, sampling
        case createdAt = "created_at"
        case modelSHA256 = "model_sha256"
        case adapter
        case adapterSHA256 = "adapter_sha256"
        case chatTemplate = "chat_template"
    }

    private struct Fingerprinted: Encodable {
        var modelSHA256: String
        /// Left out of the hash when nil, so runs without an adapter keep the fingerprints they had.
        var adapterSHA256: String?
        var precision: String
        var sampling: [String: String]
        var chatTemplate: String
    }

    func computeFingerprint() -> String {
        Self.canonicalHash(Fingerprinted(modelSHA256: modelSHA256, adapterSHA256: adapterSHA256, precision: precision, sampling: sampling, chatTemplate: chatTemplate))
    }

    func differences(from new: GenerateManifest) -> [String] {
        var out: [String] = []
        if modelSHA256 != new.modelSHA256 {
            out.append("model: \(model) (sha256 \(modelSHA256.prefix(12))…) → \(new.model) (sha256 \(new.modelSHA256.prefix(12))…)")
        }
        if adapterSHA256 != new.adapterSHA256 {
            func named(_ path: String?, _ hash: String?) -> String {
                guard let path, let hash else { return "none" }
                return "\(path) (sha256 \(hash.prefix(12))…)"
            }
            out.append("adapter: \(named(adapter, adapterSHA256)) → \(named(new.adapter, new.adapterSHA256))")
        }
        out += RunDifferences.value("precision", precision, new.precision)
        out += RunDifferences.values(sampling, new.sampling, label: "sampling")
        out += RunDifferences.value("chat template", chatTemplate, new.chatTemplate)
        return out
    }

    /// The content hash of a model: a GGUF file's SHA-256, or for an HF directory the hash of its files' names and hashes.
    static func hash(model path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(file: path, "no such model file or directory")
        }
        guard isDirectory.boolValue else { return try SHA256.hex(fileAt: path) }
        let files = try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
        let listing = try files.map { name -> String in
            var sub: ObjCBool = false
            let p = path + "/" + name
            guard FileManager.default.fileExists(atPath: p, isDirectory: &sub), !sub.boolValue else { return "" }
            return "\(name) \(try SHA256.hex(fileAt: p))\n"
        }.joined()
        return SHA256.hex(listing)
    }
}
