import DNSModel
import Testing
@testable import ZoneFile

@Suite struct ZoneFileLexerTests {
    func lex(_ text: String) -> (entries: [ZoneFileEntry], errors: [ZoneFileError]) {
        ZoneFileLexer.entries(in: Array(text.utf8))
    }

    func texts(_ entry: ZoneFileEntry) -> [String] { entry.tokens.map(\.text) }

    @Test func parenthesesJoinLinesAndCommentsVanish() {
        let result = lex("""
            @ IN SOA ns1 host ( ; opening comment
                1 ; serial
                2 3 4
                5 )
            www IN A 192.0.2.1 ; trailing
            """)
        #expect(result.errors.isEmpty)
        #expect(result.entries.count == 2)
        #expect(texts(result.entries[0]) == ["@", "IN", "SOA", "ns1", "host", "1", "2", "3", "4", "5"])
        #expect(result.entries[0].line == 1)
        #expect(result.entries[1].line == 5)
        #expect(texts(result.entries[1]) == ["www", "IN", "A", "192.0.2.1"])
        // Tokens remember where they were written.
        #expect(result.entries[0].tokens[6].line == 3)
        #expect(result.entries[0].tokens[6].column == 5)
        #expect(result.entries[1].tokens[3].column == 10)
    }

    @Test func quotedStringsKeepEscapesAndLoseQuotes() throws {
        let result = lex(#"t TXT "with \"quotes\" and \\ and ; semicolon" plain\ word "" "(x)""#)
        #expect(result.errors.isEmpty)
        let tokens = try #require(result.entries.first).tokens
        #expect(tokens.map(\.text) == ["t", "TXT", #"with \"quotes\" and \\ and ; semicolon"#, #"plain\ word"#, "", "(x)"])
        #expect(tokens.map(\.isQuoted) == [false, false, true, false, true, true])
    }

    @Test func leadingWhitespaceMeansBlankOwner() {
        let result = lex("www IN A 192.0.2.1\n\tIN AAAA 2001:db8::1\n  ; only a comment\n\nmail A 192.0.2.2\n")
        #expect(result.entries.map(\.ownerIsBlank) == [false, true, false])
        #expect(result.entries.map(\.line) == [1, 2, 5])
    }

    @Test func unterminatedQuoteNamesItsLineAndLexingGoesOn() {
        let result = lex("a TXT \"fine\"\nb TXT \"never closed\nc A 192.0.2.1\n")
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.line == 2)
        #expect(result.errors.first?.column == 7)
        #expect(result.errors.first?.rule == "unterminated-quote")
        #expect(result.entries.map { $0.tokens.first?.text } == ["a", "c"])
    }

    @Test func unbalancedParenthesesAreReported() {
        let unclosed = lex("a A 192.0.2.1\nb TXT ( \"x\"\nc A 192.0.2.2\n")
        #expect(unclosed.errors.map(\.line) == [2])
        #expect(unclosed.errors.map(\.rule) == ["unbalanced-parentheses"])
        let stray = lex("a A 192.0.2.1 )\nb A 192.0.2.2\n")
        #expect(stray.errors.map(\.line) == [1])
        #expect(stray.entries.map { $0.tokens.first?.text } == ["b"])
    }

    @Test func crlfLineEndingsAndNoFinalNewline() {
        let result = lex("a A 192.0.2.1\r\n b A 192.0.2.2")
        #expect(result.entries.count == 2)
        #expect(texts(result.entries[0]) == ["a", "A", "192.0.2.1"])
        #expect(result.entries[1].ownerIsBlank)
        #expect(result.entries[1].line == 2)
    }

    @Test func bytesThatAreNotUTF8BecomeDecimalEscapes() throws {
        var bytes = Array("t TXT \"caf".utf8)
        bytes.append(0xE9)  // Latin-1 é
        bytes += Array("\"\n".utf8)
        let result = ZoneFileLexer.entries(in: bytes)
        let token = try #require(result.entries.first?.tokens.last)
        #expect(token.text == #"caf\233"#)
    }
}
