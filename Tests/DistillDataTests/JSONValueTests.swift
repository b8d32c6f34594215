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

    /// Strict and lenient are one parser: the same value, the same message and offset for a syntax error, and a
    /// truncation (never a syntax error) for every cut of a valid document.
    @Test func lenientModeIsTheStrictParserWithRepairsOff() throws {
        let text = #"{"问题": "2+2=?\n", "choices": [{"label": "A", "text": "4 😀"}], "score": -0.5e+2, "ok": true, "x": null, "e": "\ud83d\ude42\u00e9"}"#
        let whole = try JSONValue.parse(text)
        let bytes = Array(text.utf8)
        var truncations = 0
        for cut in 0..<bytes.count {
            let prefix = String(decoding: bytes[..<cut], as: UTF8.self)
            guard prefix.utf8.count == cut else { continue }  // cut inside a character
            let strict = try? JSONValue.parse(prefix)
            do throws(LenientJSONParser.Failure) {
                let lenient = try LenientJSONParser.parseWhole(prefix)
                #expect(strict == lenient, "cut at \(cut)")
            } catch {
                #expect(error == .truncated, "cut at \(cut): \(error)")
                #expect(strict == nil, "cut at \(cut)")
                truncations += 1
            }
            // Closing the cut keeps complete members only: the whole object's first ones (the last perhaps itself cut).
            if cut > 0, let closed = try? LenientJSONParser.parseValue(Array(prefix.utf8), from: 0, options: .init(closeTruncated: true)),
               closed.wasTruncated, case .object(let members) = closed.value, case .object(let all) = whole {
                #expect(members.map(\.key) == all.prefix(members.count).map(\.key), "cut at \(cut)")
                #expect(Array(members.dropLast()) == Array(all.prefix(max(0, members.count - 1))), "cut at \(cut)")
            }
        }
        #expect(truncations > 100)
        // (A lone high surrogate near the end may have lost its pair to the cut, so it is tested away from the end.)
        let malformed = ["{\"a\" 1}", "[1 2]", "{\"a\":tru}", "01", "{\"a\":1} x", "\"tab\there\"", "[\"\\ud800\", 1, 2]",
                         "\"\\u+123\"", "\"\\q\"", "[-x]"]
        for bad in malformed {
            let strict = try #require(throws: JSONValue.ParseError.self) { try JSONValue.parse(bad) }
            let lenient = try #require(throws: LenientJSONParser.Failure.self) { try LenientJSONParser.parseWhole(bad) }
            #expect(lenient == .syntax(offset: strict.offset, strict.message), "\(bad)")
        }
    }

    /// One nesting limit for both modes: a value inside `maxDepth` arrays is refused, whatever the mode.
    @Test func bothModesShareTheDepthLimit() throws {
        let n = JSONLimits.maxDepth
        let ok = String(repeating: "[", count: n) + String(repeating: "]", count: n)
        let scalarTooDeep = String(repeating: "[", count: n) + "1" + String(repeating: "]", count: n)
        #expect(try JSONValue.parse(ok) == LenientJSONParser.parseWhole(ok))
        let strict = try #require(throws: JSONValue.ParseError.self) { try JSONValue.parse(scalarTooDeep) }
        #expect(strict.offset == n && strict.message.contains("nested more than \(n)"))
        let lenient = try #require(throws: LenientJSONParser.Failure.self) { try LenientJSONParser.parseWhole(scalarTooDeep) }
        #expect(lenient == .syntax(offset: strict.offset, strict.message))
    }

    /// A value closed at the end of input consumed all of it, so the whole-text check accepts it too.
    @Test func aClosedTruncationFillsTheText() throws {
        let cut = #"{"reason": "好\n", "score": 4, "note": "cut \"#
        let closed = try LenientJSONParser.parseWhole(cut, options: .init(closeTruncated: true))
        #expect(closed == (try JSONValue.parse(#"{"reason": "好\n", "score": 4}"#)))
        let value = try LenientJSONParser.parseValue(Array(cut.utf8), from: 0, options: .init(closeTruncated: true))
        #expect(value.wasTruncated && value.end == cut.utf8.count && value.value == closed)
    }
}
