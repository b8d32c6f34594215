import DistillData
import Foundation
import Testing
@testable import DistillClient
@testable import DistillHarvest

@Suite struct HarvestManifestTests {
    func manifest(data: String, temperature: String = "0.7", prompt: String = "Q: {question}") throws -> HarvestManifest {
        HarvestManifest(recipe: "cot", inputs: [try .init(role: "data", path: data)], prompts: ["cot-reason": prompt],
                        baseURL: "http://127.0.0.1:8080/v1", model: "qwen", parameters: ["temperature": temperature])
    }

    @Test func sameConfigurationResumes() throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        try HarvestFixtures.write(["{\"question\": \"1+1?\", \"answer\": \"2\"}"], to: dir + "/data.jsonl")
        let first = try HarvestRunDirectory.open(dir + "/run", manifest: try manifest(data: dir + "/data.jsonl"))
        #expect(!first.resumed)
        let second = try HarvestRunDirectory.open(dir + "/run", manifest: try manifest(data: dir + "/data.jsonl"))
        #expect(second.resumed)
        #expect(second.manifest.createdAt == first.manifest.createdAt)
        // The base URL's trailing slash is not a different endpoint.
        var slash = try manifest(data: dir + "/data.jsonl")
        slash.baseURL += "/"
        #expect(try HarvestRunDirectory.open(dir + "/run", manifest: slash).resumed)
    }

    @Test func changedInputPromptOrParameterIsRefusedWithWhatChanged() throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        try HarvestFixtures.write(["{\"question\": \"1+1?\", \"answer\": \"2\"}"], to: dir + "/data.jsonl")
        _ = try HarvestRunDirectory.open(dir + "/run", manifest: try manifest(data: dir + "/data.jsonl"))
        try HarvestFixtures.write(["{\"question\": \"1+2?\", \"answer\": \"3\"}"], to: dir + "/data.jsonl")
        let changed = try manifest(data: dir + "/data.jsonl", temperature: "0.9", prompt: "问：{question}")
        do {
            _ = try HarvestRunDirectory.open(dir + "/run", manifest: changed)
            Issue.record("a changed fingerprint was accepted")
        } catch let e as HarvestError {
            #expect(e.kind == .fingerprintChanged)
            #expect(e.message.contains("input data changed"))
            #expect(e.message.contains("prompt template 'cot-reason' text changed"))
            #expect(e.message.contains("parameter temperature: 0.7 → 0.9"))
            #expect(e.message.contains("--new"))
        }
    }

    @Test func newMovesTheOldRunAsideInsteadOfDeletingIt() throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        try HarvestFixtures.write(["{\"question\": \"q\"}"], to: dir + "/data.jsonl")
        _ = try HarvestRunDirectory.open(dir + "/run", manifest: try manifest(data: dir + "/data.jsonl"))
        try HarvestFixtures.write(["{\"paid\": true}"], to: dir + "/run/journal.jsonl")
        let fresh = try HarvestRunDirectory.open(dir + "/run", manifest: try manifest(data: dir + "/data.jsonl", temperature: "1.0"),
                                                 startNew: true)
        let aside = try #require(fresh.movedAside)
        #expect(FileManager.default.fileExists(atPath: aside + "/journal.jsonl"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/run/journal.jsonl"))
        #expect(!fresh.resumed)
    }

    @Test func directoryWithDataButNoManifestIsRefused() throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        try HarvestFixtures.write(["{}"], to: dir + "/journal.jsonl")
        #expect(throws: HarvestError.self) {
            _ = try HarvestRunDirectory.open(dir, manifest: try manifest(data: dir + "/journal.jsonl"))
        }
    }

    @Test func fingerprintIgnoresPathsAndTimestamps() throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        try HarvestFixtures.write(["{\"question\": \"q\"}"], to: dir + "/a.jsonl")
        try HarvestFixtures.write(["{\"question\": \"q\"}"], to: dir + "/b.jsonl")
        var a = try manifest(data: dir + "/a.jsonl")
        let b = try manifest(data: dir + "/b.jsonl")
        a.createdAt = "yesterday"
        a.shard = "1/2"
        #expect(a.computeFingerprint() == b.computeFingerprint())
        #expect(a.differences(from: b).isEmpty)
    }
}
