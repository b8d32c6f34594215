import Foundation
import Testing
@testable import DistillData

@Suite struct JSONValueTests {
    @Test func parsesEverythingAndKeepsOrderAndNumberText() throws {
        let text = #"{"b": [1, -2.50, 3e2, true, false, null], "a": "x\"\\\/\n\t\u00e9\ud83d\ude42中", "c": {}}"#
        let v = try JSONValue.parse(text)
        #expect(v.keys == ["b", "a", "c"])
        #expect(v["a"]?.stringValue == "x\"\\/\n\té🙂中")
        #expect(v["b"] == .array([.number("1"), .number("-2.50"), .number("3e2"), .bool(true), .bool(false), .null]))
        // Foundation's parser agrees on the string.
        let ns = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(ns?["a"] as? String == v["a"]?.stringValue)
    }

    @Test func compactAndCanonicalForms() throws {
        let v = try JSONValue.parse(#"{ "z": 1, "a": { "y": "中\u0001", "b": [ ] }, "z": 2 }"#)
        #expect(String(decoding: v.compactData(), as: UTF8.self) == #"{"z":1,"a":{"y":"中\u0001","b":[]},"z":2}"#)
        #expect(String(decoding: v.canonicalData(), as: UTF8.self) == #"{"a":{"b":[],"y":"中\u0001"},"z":2}"#)
        // The canonical form matches Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False).
        let again = try JSONValue.parse(v.compactData())
        #expect(again == v)
    }

    @Test func rejectsMalformedJSONWithOffsets() {
        for bad in ["{", "{\"a\" 1}", "[1,]", "{\"a\":tru}", "\"abc", "01", "{\"a\":1} x", "\"tab\there\"", "[\"\\ud800\"]"] {
            do {
                _ = try JSONValue.parse(bad)
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.offset >= 0)
            }
        }
    }

    @Test func stringsByRoleGroupChatTurns() throws {
        let v = try JSONValue.parse(#"{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"你好"}]}"#)
        #expect(v.strings(byRole: true).map(\.path) == ["messages[user].role", "messages[user].content",
                                                         "messages[assistant].role", "messages[assistant].content"])
        #expect(v.strings().map(\.path).last == "messages[1].content")
    }

    /// The lenient mode builds the same value as the strict parser, and repairs only what it is asked to.
    @Test func lenientModeBuildsTheSameValueAndRepairsOnlyWhenAsked() throws {
        let text = #"{"b": [1, -2.50, 3e2, true, false, null], "a": "x\"\\\/\n\t\u00e9\ud83d\ude42中", "a": {}}"#
        let lenient = try LenientJSONParser.parseWhole(text), strict = try JSONValue.parse(text)
        #expect(lenient == strict)
        let trailing = #"{"score": 4, "tags": ["a",],}"#
        #expect(throws: LenientJSONParser.Failure.self) { try LenientJSONParser.parseWhole(trailing) }
        let repaired = try LenientJSONParser.parseWhole(trailing, options: .init(allowTrailingCommas: true))
        let fixed = try JSONValue.parse(#"{"score": 4, "tags": ["a"]}"#)
        #expect(repaired == fixed)
        let cut = Array(#"{"reason": "好", "score": 4, "note": "cut of"#.utf8)
        let closed = try LenientJSONParser.parseValue(cut, from: 0, options: .init(closeTruncated: true))
        let complete = try JSONValue.parse(#"{"reason": "好", "score": 4}"#)
        #expect(closed.wasTruncated && closed.value == complete)
    }
}
