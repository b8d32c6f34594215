import DistillTestSupport
import Testing
@testable import DistillHTTP

/// Bounded fuzzing of the server's request parser (DISTILL_FUZZ_SECONDS): mutated requests fed in random pieces
/// never crash it, every outcome is a request, "need more" or a 400 reason, and nothing it holds outgrows its limits.
struct RequestParserFuzzTests {
    static let seeds = [
        "POST /v1/chat/completions HTTP/1.1\r\nHost: h\r\ncontent-length: 11\r\n\r\n{\"a\":\"蒸\"}",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\nT: v\r\n\r\n",
        "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nExpect: 100-continue\r\n\r\nGET / HTTP/1.1\r\n\r\n",
        "\r\nPUT /x HTTP/1.0\r\nContent-Length: 2\r\n\r\nok",
    ]

    @Test func aChunkSizeOfIntMaxIsInvalidNotAnOverflow() {
        var parser = HTTPRequestParser()
        parser.append(Array("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n7fffffffffffffff\r\n".utf8))
        guard case .invalid(let why) = parser.next() else { Issue.record("a 2^63−1 chunk must be refused"); return }
        #expect(why.contains("64 MiB"))
    }

    @Test func fuzzedRequestsNeverCrashTheParser() {
        var mutator = FuzzMutator(seed: 0x4777)
        var run = FuzzRun("HTTP requests")
        let seeds = Self.seeds.map { Array($0.utf8) }
        while run.next() {
            let wire = mutator.mutate(seeds)
            var parser = HTTPRequestParser()
            var at = 0, requests = 0, invalid = false
            // Fed in random pieces, as a socket delivers them.
            while at < wire.count, !invalid {
                let n = 1 + mutator.int(below: 64)
                parser.append(Array(wire[at..<min(wire.count, at + n)]))
                at += n
                loop: while true {
                    switch parser.next() {
                    case .request(let r):
                        requests += 1
                        #expect(r.body.count <= HTTPRequestParser.maxBodyBytes)
                    case .needMore: break loop
                    case .invalid(let why):
                        #expect(!why.isEmpty)
                        invalid = true
                        break loop
                    }
                }
            }
            #expect(parser.buffer.count <= wire.count)
            run.record(accepted: !invalid)
        }
        print(run.summary)
        #expect(run.inputs > 0)
    }
}
