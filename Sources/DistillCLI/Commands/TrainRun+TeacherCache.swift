import DistillData
import DistillML
import Foundation

/// `distill train --loss kl-forward --teacher-cache DIR`: the teacher's top-k per training token, computed once
/// (from `--teacher-model`) and reused by later runs — other students, other seeds, more epochs — without loading
/// the teacher. A cache made for other inputs (teacher, data files, --max-seq, k, tokenised rows) is refused by name.
extension TrainRun {
    /// The training examples with the cached teacher top-k attached (computed and written first when DIR holds none).
    static func attachTeacherCache(_ data: TrainingData, _ o: TrainOptions, studentTokenizer: Tokenizer) throws -> TrainingData {
        guard let dir = o.objective.teacherCache else { return data }
        let k = o.objective.teacherTopK
        let rows = TeacherLogitCache.rowsDigest(data.train + data.validation)
        let files = try o.data.map { (path: $0, sha256: try SHA256.hex(fileAt: $0)) }
        var teacherPath = "", teacherSHA = ""
        if let name = o.objective.teacherModel {
            teacherPath = try ModelStore.resolve(name)
            teacherSHA = try GenerateManifest.hash(model: teacherPath)
        }
        let wanted = TeacherLogitCache.Fingerprint(teacher: teacherPath, teacherSHA256: teacherSHA, data: files, maxSequence: o.maxSeq,
                                                   k: k, rows: rows.rows, rowsSHA256: rows.sha256)
        let manifest = (dir as NSString).appendingPathComponent(TeacherLogitCache.manifestName)
        let cache: TeacherLogitCache
        if TeacherLogitCache.exists(in: dir) {
            cache = try TeacherLogitCache.read(from: dir)
            let differences = cache.fingerprint.differences(from: wanted)
            guard differences.isEmpty else {
                throw DataError(file: manifest, "this teacher cache was computed for other inputs: " + differences.joined(separator: "; ")
                    + ". Give another --teacher-cache folder, or delete this one to recompute it")
            }
            note("train: teacher cache \(dir): top-\(k) of \(cache.fingerprint.teacher) for \(rows.rows) rows; the teacher is not loaded"
                + (teacherSHA.isEmpty ? " (no --teacher-model: the teacher is not checked)" : ""))
        } else {
            guard !teacherPath.isEmpty else {
                throw UsageError("--teacher-cache \(dir) holds no cache yet: give --teacher-model M once to compute it")
            }
            let teacher = try loadTeacher(teacherPath, studentTokenizer: studentTokenizer, studentVocabulary: nil)
            let progress = ProgressReporter(interval: 5)
            let start = DispatchTime.now().uptimeNanoseconds
            cache = try TeacherLogitCache.compute(teacher: teacher, examples: data.train + data.validation, k: k, fingerprint: wanted) {
                progress.update("train: teacher cache: \($0)/\($1) rows")
            }
            try cache.write(to: dir)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let size = (try? FileManager.default.attributesOfItem(atPath: (dir as NSString).appendingPathComponent(TeacherLogitCache.entriesName))[.size]
                as? Int) ?? 0
            progress.finish(String(format: "train: teacher cache %@: top-%d for %d rows computed in %@ (%.1f MB)", dir, k, rows.rows,
                                   GenerateCommand.duration(seconds), Double(size) / 1e6))
        }
        return TrainingData(train: try cache.attach(to: data.train, cacheFile: manifest), validation: data.validation,
                            dropped: data.dropped, truncated: data.truncated)
    }

    /// The dense-KD teacher, refused unless its tokens are the student's (same ids, same bytes) and, when given, its
    /// logits as wide as the student's.
    static func loadTeacher(_ path: String, studentTokenizer: Tokenizer, studentVocabulary: Int?) throws -> LlamaModel {
        let (parameters, tokenizer) = try ModelFiles.load(path)
        let same = tokenizer.vocabularySize == studentTokenizer.vocabularySize
            && (0..<tokenizer.vocabularySize).allSatisfy { tokenizer.tokenBytes($0) == studentTokenizer.tokenBytes($0) }
        guard same, studentVocabulary.map({ $0 == parameters.config.vocabSize }) ?? true else {
            throw DataError(file: path, "the teacher's vocabulary differs from the student's (\(tokenizer.vocabularySize) vs "
                + "\(studentTokenizer.vocabularySize) tokens, or other token bytes); dense KD needs the same tokenizer — "
                + "use --loss topk with harvested logprobs instead")
        }
        note("train: teacher \(URL(fileURLWithPath: path).lastPathComponent) (\(parameters.config.layers) layers, "
             + "dim \(parameters.config.dim))")
        return LlamaModel(parameters: parameters)
    }
}
