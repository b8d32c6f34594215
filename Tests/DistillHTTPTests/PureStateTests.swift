@testable import DistillHTTP
import Testing

/// The pure pieces, without sockets: the request parser fed byte by byte, and the transfer lifecycle's races.
@Suite struct PureStateTests {
    @Test func parserAssemblesARequestFedOneByteAtATime() {
        var parser = HTTPRequestParser()
        let wire = Array("POST /v1/chat/completions HTTP/1.1\r\nHost: h\r\ncontent-length: 11\r\n\r\n{\"a\":\"蒸\"}".utf8)
        var got: HTTPServerRequest?
        for byte in wire {
            parser.append([byte])
            if case .request(let r) = parser.next() { got = r }
        }
        #expect(got?.method == "POST")
        #expect(got?.path == "/v1/chat/completions")
        #expect(got?.header("Content-Length") == "11")  // 8 ASCII bytes + 3 for 蒸
        #expect(got.map { String(decoding: $0.body, as: UTF8.self) } == "{\"a\":\"蒸\"}")
        #expect(!parser.hasBufferedBytes)
    }

    @Test func chunkedDecoderNeedsTheWholeBodyAndRejectsBadSizes() {
        let ok = Array("4\r\nWiki\r\n0\r\n\r\n".utf8)
        #expect(HTTPRequestParser.decodeChunked(ok, from: 0) == .complete(body: Array("Wiki".utf8), end: ok.count))
        #expect(HTTPRequestParser.decodeChunked(Array(ok.dropLast(2)), from: 0) == .incomplete)
        if case .invalid = HTTPRequestParser.decodeChunked(Array("zz\r\n".utf8), from: 0) {} else {
            Issue.record("a non-hex chunk size must be invalid")
        }
    }

    @Test func expectContinueIsReportedOnlyBeforeTheBody() {
        var parser = HTTPRequestParser()
        parser.append(Array("PUT / HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n".utf8))
        guard case .needMore(let wants) = parser.next() else { Issue.record("expected needMore"); return }
        #expect(wants)
        parser.append(Array("a".utf8))
        guard case .needMore(let stillWants) = parser.next() else { Issue.record("expected needMore"); return }
        #expect(!stillWants)
    }

    @Test func badContentLengthIsInvalid() {
        var parser = HTTPRequestParser()
        parser.append(Array("GET / HTTP/1.1\r\nContent-Length: -3\r\n\r\n".utf8))
        if case .invalid = parser.next() {} else { Issue.record("negative Content-Length must be invalid") }
    }

    @Test func cancelBeforeRegisterFailsTheRegistration() {
        var life = TransferLifecycle<Int>()
        #expect({ if case .none = life.cancel() { true } else { false } }())
        #expect({ if case .failCancelled(7) = life.register(7) { true } else { false } }())
        #expect(life.complete() == nil)  // nothing left to resume
    }

    @Test func cancelWhileRunningAbortsAndResumesOnce() {
        var life = TransferLifecycle<Int>()
        #expect({ if case .submit = life.register(3) { true } else { false } }())
        #expect({ if case .abortTransfer = life.cancel() { true } else { false } }())
        #expect(life.complete() == 3)
        #expect(life.complete() == nil)
        #expect({ if case .none = life.cancel() { true } else { false } }())  // cancel after finish: no-op
    }
}
