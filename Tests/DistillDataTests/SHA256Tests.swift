import Foundation
import Testing
@testable import DistillData

@Suite struct SHA256Tests {
    // FIPS 180-4 examples (NIST CSRC "SHA256.pdf") and the empty string.
    @Test func knownVectors() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(Data(repeating: 0x61, count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalEqualsOneShotAtEveryBoundary() {
        let data = Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let whole = SHA256.hash(data)
        for cut in [0, 1, 55, 56, 63, 64, 65, 128, 299] {
            var h = SHA256.Hasher()
            h.update(data.prefix(cut))
            h.update(data.dropFirst(cut))
            #expect(h.finalize() == whole, "split at \(cut)")
        }
    }

    /// Agrees with coreutils' sha256sum on UTF-8 text with CJK and emoji, at lengths around the padding edges.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sha256sum"), "needs coreutils' sha256sum"))
    func matchesSha256sum() throws {
        let dir = TestFolder()
        for n in [0, 3, 55, 56, 64, 119, 1000] {
            let text = String(repeating: "蒸馏🙂a", count: n / 8 + 1).prefix(n)
            let path = dir.write("f\(n)", String(text))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
            p.arguments = [path]
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            p.waitUntilExit()
            let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(out.prefix(64) == SHA256.hex(String(text)))
            #expect(try SHA256.hex(fileAt: path) == SHA256.hex(String(text)))
        }
    }
}
