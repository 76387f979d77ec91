import HTTPServer
import Testing

@Suite struct JSONValueTests {
    private func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    private func syntaxError(_ text: String) -> JSONSyntaxError? {
        do {
            _ = try JSONValue.parse(Array(text.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesScalarsAndKeepsIntegersExact() throws {
        #expect(try parse("null") == .null)
        #expect(try parse(" true ") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("0") == .int(0))
        #expect(try parse("-42") == .int(-42))
        #expect(try parse("9223372036854775807") == .int(Int64.max))
        #expect(try parse("-9223372036854775808") == .int(Int64.min))
        // One past Int64: not an int any more, but still a number.
        #expect(try parse("9223372036854775808") == .double(9223372036854775808))
        #expect(try parse("1.5") == .double(1.5))
        #expect(try parse("1e3") == .double(1000))
        #expect(try parse("-0.25E-2") == .double(-0.0025))
        #expect(try parse("\"zone\"") == .string("zone"))
    }

    @Test func objectsKeepMemberOrderAndDuplicates() throws {
        let value = try parse(#"{"b": 1, "a": [true, null], "b": "second"}"#)
        let members = try #require(value.objectValue)
        #expect(members.map(\.0) == ["b", "a", "b"])
        #expect(value["b"] == .int(1))  // first member wins
        #expect(value["a"]?.arrayValue == [.bool(true), .null])
        #expect(value["missing"] == nil)
        #expect(JSONValue.int(1)["b"] == nil)
        // Order is part of equality.
        #expect(JSONValue.object([("a", 1), ("b", 2)]) != JSONValue.object([("b", 2), ("a", 1)]))
        #expect(JSONValue.int(1) != JSONValue.double(1))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try parse(#""q\"b\\s\/n\nt\tu\u00e9 \ud83d\ude00 é""#)
        #expect(value.stringValue == "q\"b\\s/n\nt\tué 😀 é")
    }

    @Test func serializesCompactlyWithEscapes() {
        let value: JSONValue = [
            "name": "www\t\"x\"\\",
            "ttl": 3600,
            "ratio": 0.5,
            "on": true,
            "none": .null,
            "list": [1, "é😀", .string("\u{1}")],
        ]
        let text = String(decoding: value.serialized(), as: UTF8.self)
        #expect(text == #"{"name":"www\t\"x\"\\","ttl":3600,"ratio":0.5,"on":true,"none":null,"list":[1,"é😀","\u0001"]}"#)
        #expect(value.description == text)
    }

    @Test(arguments: [
        #"{"a":[1,2.5,-3e-7,{"b":null}],"c":"\u0000\u001f","d":{},"e":[]}"#,
        #"[9223372036854775807,-9223372036854775808,1.0E+300,"x"]"#,
        #""line\nbreak and \"quotes\" and 日本語""#,
    ])
    func roundTripsThroughText(_ text: String) throws {
        let value = try parse(text)
        let again = try JSONValue.parse(value.serialized())
        #expect(again == value)
    }

    @Test func nonFiniteDoublesSerializeAsNull() {
        #expect(JSONValue.array([.double(.infinity), .double(.nan)]).description == "[null,null]")
    }

    @Test(arguments: [
        ("", "empty"),
        ("   ", "empty"),
        ("[1,]", "expected a JSON value"),
        (#"{"a":1,}"#, "member name"),
        ("01", "leading zeros"),
        ("1.", "decimal point"),
        ("1e", "exponent"),
        ("-", "digit"),
        ("+1", "unexpected character '+'"),
        ("tru", "expected 'true'"),
        ("nul", "expected 'null'"),
        (#"{"a" 1}"#, "expected ':'"),
        ("[1 2]", "expected ',' or ']'"),
        ("\"abc", "no closing quote"),
        ("\"a\u{1}b\"", "must be escaped"),
        ("\"tab\there\"", "must be escaped"),
        (#""\ud800""#, "not followed by a low surrogate"),
        (#""\ud800\u0041""#, "not followed by a low surrogate"),
        (#""\udc00""#, "lone low surrogate"),
        (#""\x""#, "invalid escape"),
        (#""\u12G4""#, "four hex digits"),
        ("1e400", "too large"),
        ("{} {}", "after the end"),
        ("[1] x", "after the end"),
        ("/* c */ 1", "unexpected character '/'"),
        ("'single'", "unexpected character"),
        ("NaN", "unexpected character 'N'"),
    ])
    func rejectsInvalidText(_ text: String, _ reasonPart: String) throws {
        let error = try #require(syntaxError(text), "accepted \(text.debugDescription)")
        #expect(error.reason.contains(reasonPart), "reason was: \(error.reason)")
    }

    @Test func rejectsInvalidUTF8() throws {
        for bytes: [UInt8] in [[0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xFF, 0x22], [0x22, 0xE2, 0x82]] {
            #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(bytes) }
        }
    }

    @Test func limitsNestingTo128Levels() throws {
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect(try parse(ok).arrayValue != nil)
        let tooDeep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        let error = try #require(syntaxError(tooDeep))
        #expect(error.reason.contains("128"))
        #expect(error.offset == 128)
        // Deep enough to exhaust a naive recursive parser's stack: must fail cleanly.
        #expect(syntaxError(String(repeating: "[", count: 200_000)) != nil)
    }

    @Test func errorsNameLineColumnAndOffset() throws {
        let text = "{\n  \"name\": \"é\",\n  \"ttl\": 36x\n}"
        let error = try #require(syntaxError(text))
        #expect(error.line == 3)
        #expect(error.column == 12)
        #expect(error.offset == Array(text.utf8).firstIndex(of: UInt8(ascii: "x")))
        #expect(error.description.contains("line 3, column 12"))

        // Columns count characters, not bytes.
        let accented = try #require(syntaxError("\"éé\" ?"))
        #expect(accented.line == 1 && accented.column == 6 && accented.offset == 7)
    }
}
