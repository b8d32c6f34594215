import DistillData
import DistillOpenAI
@testable import DistillServe
import Foundation
import Testing

/// The constrained decoder's recogniser, byte by byte: what it takes, what it refuses, and how it closes a cut value.
@Suite struct JSONGrammarTests {
    static func node(_ schema: String) throws -> JSONSchemaNode {
        try JSONSchemaNode.compile(try JSONValue.parse(schema))
    }

    static func accepts(_ schema: JSONSchemaNode, _ text: String) -> Bool {
        var g = JSONGrammar(schema)
        return g.feed(Array(text.utf8)) && g.canFinish
    }

    static let person = """
        {"type":"object","properties":{"name":{"type":"string","maxLength":5},"age":{"type":"integer","minimum":0,"maximum":120},
        "tags":{"type":"array","items":{"enum":["a","b"]},"minItems":1,"maxItems":2},
        "home":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},
        "score":{"anyOf":[{"type":"number","minimum":-1,"maximum":1},{"type":"null"}]}},
        "required":["name","age"],"additionalProperties":false}
        """

    @Test func acceptsMatchingJSONAndRefusesTheRest() throws {
        let s = try Self.node(Self.person)
        #expect(Self.accepts(s, #"{"name":"Ann","age":30}"#))
        #expect(Self.accepts(s, #"{"age":120,"name":"李🧪","tags":["a","b"],"home":{"city":"Zürich"},"score":-0.5}"#))
        #expect(Self.accepts(s, #"{"name":"","age":0,"score":null}"#))
        #expect(!Self.accepts(s, #"{"name":"Ann"}"#))  // age required
        #expect(!Self.accepts(s, #"{"name":"Ann","age":121}"#))  // above maximum
        #expect(!Self.accepts(s, #"{"name":"Ann","age":-1}"#))
        #expect(!Self.accepts(s, #"{"name":"Annabel","age":3}"#))  // maxLength 5
        #expect(!Self.accepts(s, #"{"name":"A","age":3,"tags":[]}"#))  // minItems 1
        #expect(!Self.accepts(s, #"{"name":"A","age":3,"tags":["a","b","a"]}"#))
        #expect(!Self.accepts(s, #"{"name":"A","age":3,"tags":["c"]}"#))
        #expect(!Self.accepts(s, #"{"name":"A","age":3,"extra":1}"#))  // additionalProperties false
        #expect(!Self.accepts(s, #"{"name":"A","age":3,"score":2}"#))
        #expect(!Self.accepts(s, #"{"name":"A","age":3.5}"#))
        #expect(!Self.accepts(s, #"{"name":"A","name":"B","age":3}"#))  // a key twice
        #expect(!Self.accepts(s, #"{ "name":"A","age":3}"#))  // compact: no whitespace
    }

    @Test func refusesADigitNoCompletionCanUse() throws {
        var g = JSONGrammar(try Self.node(#"{"type":"integer","minimum":10,"maximum":15}"#))
        let two = g.feed(UInt8(ascii: "2"))
        #expect(!two)  // 2, 20…29, 200… never land in 10…15
        let one = g.feed(UInt8(ascii: "1"))
        #expect(one)
        #expect(!g.canFinish)  // 1 < 10
        let six = g.feed(UInt8(ascii: "6"))
        #expect(!six)
        let five = g.feed(UInt8(ascii: "5"))
        #expect(five)
        #expect(g.canFinish)
    }

    @Test func closingCompletesACutValueValidly() throws {
        let s = try Self.node(Self.person)
        for cut in [#"{"#, #"{"na"#, #"{"name":"Zo"#, #"{"name":"Zo","#, #"{"name":"Zo","age":1"#, #"{"age":4,"tags":["#,
                    #"{"name":"\u00"#, #"{"name":"é"#, #"{"age":7,"name":"x","home":{"#] {
            var g = JSONGrammar(s)
            let fed = g.feed(Array(cut.utf8))
            #expect(fed, "prefix \(cut)")
            let whole = cut + String(decoding: g.closing, as: UTF8.self)
            #expect(Self.accepts(s, whole), "closing of \(cut) gave \(whole)")
            #expect((try? JSONValue.parse(whole)) != nil, "\(whole) parses")
        }
    }

    @Test func unsupportedKeywordsAreRefusedByName() throws {
        for (schema, keyword) in [(#"{"type":"string","pattern":"^a"}"#, "pattern"),
                                  (#"{"type":"object","properties":{"e":{"type":"string","format":"email"}}}"#, "format"),
                                  (#"{"oneOf":[{"type":"string"}]}"#, "oneOf")] {
            do {
                _ = try Self.node(schema)
                Issue.record("\(schema) was accepted")
            } catch let error as OpenAIError {
                #expect(error.status == 400)
                #expect(error.message.contains("'\(keyword)'"), "\(error.message)")
                #expect(error.param?.contains(keyword) == true)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func refsIntoDefsAreFollowed() throws {
        let s = try Self.node(##"{"$defs":{"P":{"type":"object","properties":{"x":{"const":1}},"required":["x"]}},"type":"object","properties":{"p":{"$ref":"#/$defs/P"}},"required":["p"]}"##)
        #expect(Self.accepts(s, #"{"p":{"x":1}}"#))
        #expect(!Self.accepts(s, #"{"p":{"x":2}}"#))
    }

    @Test func anyJSONObjectForJSONMode() {
        #expect(Self.accepts(.anyObject, #"{"a":[1,-2.5,true,null,{"b":"c"}],"d":{}}"#))
        #expect(!Self.accepts(.anyObject, #"[1]"#))
        #expect(!Self.accepts(.anyObject, #"{"a":tru}"#))
    }

    /// The judge asks for this shape first (`Rubric.jsonSchema`: integer scores as an enum, a free reason), so a
    /// `distill serve` judge gets enforced verdicts without the json_object / prompt fallbacks.
    @Test func judgeVerdictSchemaIsEnforced() throws {
        let s = try Self.node(#"{"type":"object","properties":{"reason":{"type":"string"},"Correctness":{"type":"integer","enum":[0,1,2,3,4,5]},"Fluency":{"type":"integer","enum":[0,1,2,3,4,5]}},"required":["reason","Correctness","Fluency"],"additionalProperties":false}"#)
        #expect(Self.accepts(s, #"{"reason":"ok 好","Correctness":5,"Fluency":0}"#))
        #expect(!Self.accepts(s, #"{"reason":"ok","Correctness":6,"Fluency":0}"#))
        #expect(!Self.accepts(s, #"{"reason":"ok","Correctness":5}"#))
    }
}
