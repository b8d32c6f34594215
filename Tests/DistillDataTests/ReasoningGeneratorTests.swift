import Foundation
import Testing
@testable import DistillData

@Suite struct ReasoningGeneratorTests {
    @Test func sameSeedSameItems() {
        var a = ReasoningItemGenerator(seed: 7), b = ReasoningItemGenerator(seed: 7), c = ReasoningItemGenerator(seed: 8)
        let x = a.items(.mixed, count: 50)
        #expect(x == b.items(.mixed, count: 50))
        #expect(x != c.items(.mixed, count: 50))
        #expect(Set(x.map(\.kind)) == ["arithmetic", "date"])
        var d = ReasoningItemGenerator(seed: 7)
        #expect(d.items(.date, count: 20).allSatisfy { $0.kind == "date" })
    }

    /// The committed sample file is exactly what `distill data synth --kind mixed --n 200 --seed 1` writes.
    @Test func committedSampleIsReproducible() throws {
        var g = ReasoningItemGenerator(seed: 1)
        let items = try DatasetReader.read(ReasoningItem.self, from: repositoryRoot + "/datasets/reasoning.jsonl")
        #expect(items == g.items(.mixed, count: 200))
    }

    /// Day arithmetic agrees with Foundation's Gregorian calendar over 1900–2100.
    @Test func civilDateMatchesFoundationCalendar() throws {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = try #require(TimeZone(identifier: "UTC"))
        let formatter = DateFormatter()
        formatter.calendar = cal
        formatter.timeZone = cal.timeZone
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEEE"
        for dayNumber in stride(from: -25567, through: 47482, by: 97) {  // 1900-01-01 … 2100-01-01
            let date = Date(timeIntervalSince1970: Double(dayNumber) * 86400)
            let c = cal.dateComponents([.year, .month, .day], from: date)
            let civil = CivilDate(dayNumber: dayNumber)
            #expect(civil == CivilDate(year: c.year ?? 0, month: c.month ?? 0, day: c.day ?? 0))
            #expect(civil.dayNumber == dayNumber)
            #expect(civil.weekday == formatter.string(from: date))
        }
        #expect(CivilDate(iso: "2024-02-10")?.adding(days: 45).description == "2024-03-26")
        #expect(CivilDate(iso: "2023-02-29") == nil)
    }

    /// Python's datetime re-derives every gold answer (scripts/fixtures/verify_reasoning.py), when python3 exists.
    @Test(.enabled(if: python3 != nil, "needs python3 to run scripts/fixtures/verify_reasoning.py"))
    func pythonAgreesWithEveryAnswer() throws {
        let python = try #require(python3)
        let dir = TestFolder()
        var g = ReasoningItemGenerator(seed: 12345)
        let path = dir.path + "/r.jsonl"
        let w = try DatasetWriter(path: path)
        for item in g.items(.mixed, count: 500) { try w.append(item) }
        try w.finish()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [repositoryRoot + "/scripts/fixtures/verify_reasoning.py", path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(out)")
        #expect(out.contains("500 passed, 0 failed"))
    }
}

/// A python3 interpreter, if this machine has one.
let python3: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
