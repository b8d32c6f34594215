import Foundation
import Testing
@testable import DistillML

/// Dequantisation and encoding against gguf-py (fixture: scripts/fixtures/make_dequant_fixture.py).
@Suite struct GGMLDequantizeTests {
    static let fixture = ModelFixtures.fixturesDir + "/dequant.gguf"

    static func floats(_ f: GGUFFile, _ name: String) throws -> [Float] {
        try GGMLDequantize.tensor(try #require(f.tensor(named: name)), in: f)
    }

    @Test(arguments: ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q5_k", "q6_k"])
    func matchesGGUFPy(type: String) throws {
        let f = try GGUFFile(path: Self.fixture)
        let raw = try #require(f.tensor(named: "\(type).raw"))
        #expect(raw.type.description.lowercased() == type)
        let got = try GGMLDequantize.tensor(raw, in: f)
        let want = try Self.floats(f, "\(type).expected")
        #expect(got.count == want.count && got.count == 3 * 512)
        let scale = want.map(abs).max() ?? 1
        let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
        // numpy multiplies d·sc·q in another order than ggml does; both are float32, so only rounding differs.
        #expect(worst <= scale * 1e-6, "max |swift − gguf-py| = \(worst) (scale \(scale))")
    }

    @Test(arguments: [("f16", GGMLType.f16), ("bf16", .bf16), ("q8_0", .q8_0)])
    func encodersMatchGGUFPyQuantize(name: String, type: GGMLType) throws {
        let f = try GGUFFile(path: Self.fixture)
        let source = try Self.floats(f, "encode.source")
        let want = Array(f.bytes(of: try #require(f.tensor(named: "encode.\(name)"))))
        let got: [UInt8] = switch type {
        case .f16: GGMLEncode.f16(source)
        case .bf16: GGMLEncode.bf16(source)
        default: GGMLEncode.q8_0(source)
        }
        #expect(got.count == want.count)
        let differing = zip(got, want).filter { $0 != $1 }.count
        #expect(differing == 0, "\(differing) of \(want.count) bytes differ from gguf-py's \(name) encoding")
    }

    @Test func unsupportedTypeIsAnErrorNotACrash() throws {
        var w = GGUFWriter()
        w.addRawTensor("x", dims: [256], type: .q2_K, bytes: [UInt8](repeating: 0, count: 84))
        let path = ModelFixtures.temporaryPath("q2k.gguf")
        try w.write(to: path)
        let f = try GGUFFile(path: path)
        #expect(throws: DistillMLError.self) { try GGMLDequantize.tensor(f.tensors[0], in: f) }
    }
}
