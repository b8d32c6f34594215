import Foundation
import Testing

/// A temporary folder per test, removed when the value goes away.
final class TestFolder {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "distill-data-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` (UTF-8) to `name` in the folder and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) -> String { write(name, Data(text.utf8)) }

    /// Writes raw bytes to `name` in the folder and returns its path.
    @discardableResult
    func write(_ name: String, _ data: Data) -> String {
        let p = path + "/" + name
        let written = FileManager.default.createFile(atPath: p, contents: data)
        #expect(written, "could not write the test file \(p)")
        return p
    }

    func read(_ name: String) -> String {
        String(decoding: FileManager.default.contents(atPath: path + "/" + name) ?? Data(), as: UTF8.self)
    }
}

/// The repository root, found from this file's location (Tests/DistillDataTests/…).
let repositoryRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

/// Double-encodes `text` the way seed 003 was damaged: its UTF-8 bytes read as Windows-1252, saved again as UTF-8.
func doubleEncode(_ text: String) -> String {
    // Windows-1252 0x80–0x9F; the undefined five become the C1 control of the same value, as Windows does.
    let high: [UInt32] = [0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
                          0x2039, 0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
                          0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178]
    var out = String.UnicodeScalarView()
    for b in text.utf8 {
        let v = (0x80...0x9F).contains(b) ? high[Int(b) - 0x80] : UInt32(b)
        if let s = Unicode.Scalar(v) { out.append(s) }
    }
    return String(out)
}
