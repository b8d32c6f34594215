import DistillData
import DistillML
import Foundation

/// `train-log.jsonl`: one line per optimiser step (`step`, `epoch`, `loss`, `lr`, `grad_norm`, `targets`, `tokens`,
/// `tokens_per_s`) and one per evaluation (`step`, `eval_loss`). On resume the lines after the checkpoint's step
/// (written by the run that was killed) are removed first, so the log matches the weights.
final class TrainLog {
    let path: String
    private let appender: JSONLinesAppender

    init(path: String, keepThrough step: Int) throws {
        self.path = path
        if FileManager.default.fileExists(atPath: path) {
            var kept = Data()
            for line in JSONLinesReader(path: path) where line.complete {
                guard let object = try? JSONSerialization.jsonObject(with: line.bytes) as? [String: Any],
                      let s = object["step"] as? Int, s <= step else { continue }
                kept.append(line.bytes)
                kept.append(0x0A)
            }
            try AtomicFile.write(kept, to: path)
        }
        appender = try JSONLinesAppender(path: path)
    }

    /// Appends `{"k": v, …}` with the fields in the order given, then `extra` (an objective's terms); integers
    /// without a fraction.
    func append(_ fields: KeyValuePairs<String, Double>, extra: [(key: String, value: Double)] = []) throws {
        let body = (fields.map { (key: $0.key, value: $0.value) } + extra).map { key, value -> String in
            let v = value.isFinite ? (value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)") : "null"
            return "\"\(key)\":\(v)"
        }.joined(separator: ",")
        try appender.append(Data(("{" + body + "}").utf8))
    }

    /// The training and evaluation losses of a log, by step (for the SVG curve).
    static func curve(_ path: String) throws -> (train: [(step: Int, loss: Double)], eval: [(step: Int, loss: Double)]) {
        var train: [(step: Int, loss: Double)] = [], eval: [(step: Int, loss: Double)] = []
        for line in JSONLinesReader(path: path) where line.complete {
            guard let o = try? JSONSerialization.jsonObject(with: line.bytes) as? [String: Any], let s = o["step"] as? Int else { continue }
            if let l = (o["loss"] as? NSNumber)?.doubleValue { train.append((s, l)) }
            if let l = (o["eval_loss"] as? NSNumber)?.doubleValue { eval.append((s, l)) }
        }
        return (train, eval)
    }
}
