import Testing
import TaiCore
@testable import TaiYAML

@Suite("YAML parsing")
struct YAMLParserTests {
    @Test("plain scalars resolve as kustomize's reader resolves them")
    func plainScalars() throws {
        let v = try YAML.parse(
            """
            int: 8080
            str: "8080"
            float: 1.0
            exp: 1e3
            hex: 0x1F
            octal: 0o17
            legacyOctal: 017
            yes: yes
            on: on
            true: true
            True: True
            null1: null
            null2: ~
            null3:
            date: 2001-12-14
            tagged: !!str 123
            float2: !!float 3
            version: 1.10
            """)
        #expect(v["int"] == .int(8080))
        #expect(v["str"] == .string("8080"))
        #expect(v["float"] == .double(1.0))
        #expect(v["exp"] == .double(1000))
        #expect(v["hex"] == .int(31))
        #expect(v["octal"] == .int(15))
        #expect(v["legacyOctal"] == .int(15))
        #expect(v["yes"] == .string("yes"))
        #expect(v["on"] == .string("on"))
        #expect(v["true"] == .bool(true))
        #expect(v["True"] == .bool(true))
        #expect(v["null1"] == .null)
        #expect(v["null2"] == .null)
        #expect(v["null3"] == .null)
        #expect(v["date"] == .string("2001-12-14T00:00:00Z"))
        #expect(v["tagged"] == .string("123"))
        #expect(v["float2"] == .double(3))
        #expect(v["version"] == .double(1.1))
    }

    @Test("a document notes its empty values and the text of annotations that are not strings")
    func scalarNotes() throws {
        let text = """
            metadata:
              annotations:
                port: 8080
                ratio: 1.50
                empty:
                literal: null
                quoted: "1.50"
            spec:
              replicas:
              kept: null
              list:
              - a:
              - ~
            big: 12345678901234567890
            huge: 1e400
            """
        let document = try #require(try YAML.parseDocuments(Array(text.utf8)).first)
        #expect(document.annotationTexts == ["port": "8080", "ratio": "1.50", "empty": "", "literal": "null"])
        #expect(document.emptyNulls == [
            [.key("metadata"), .key("annotations"), .key("empty")], [.key("spec"), .key("replicas")],
            [.key("spec"), .key("list"), .index(0), .key("a")],
        ])
        #expect(document.value["big"] == .uint(12_345_678_901_234_567_890))
        #expect(document.value["huge"] == "1e400")
    }

    @Test("map key order is kept")
    func keyOrder() throws {
        let v = try YAML.parse("z: 1\na: 2\nm: 3\n")
        #expect(v.mapValue?.keys.elementsEqual(["z", "a", "m"]) == true)
    }

    @Test("multi-document streams with their lines")
    func documents() throws {
        let docs = try YAML.parseDocuments("a: 1\n---\n---\nb: 2\n...\n---\n- x\n")
        #expect(docs.map(\.value) == [["a": 1], .null, ["b": 2], ["x"]])
        #expect(docs.map(\.line) == [1, 3, 4, 7])
    }

    @Test("anchors, aliases and merge keys")
    func anchors() throws {
        let v = try YAML.parse("base: &b {x: 1, y: 2}\ncopy: *b\nmerged:\n  <<: *b\n  y: 3\n")
        #expect(v["copy"] == ["x": 1, "y": 2])
        #expect(v["merged"]?["x"] == 1)
        #expect(v["merged"]?["y"] == 3)
    }

    @Test("malformed YAML names file, line and column", arguments: [
        ("a: b: c\n", 1, 5, "mapping values are not allowed"),
        ("a:\n  - x\n  y: z\n", 3, 3, "did not find expected"),
        ("key: \"unterminated\n", 2, 1, "found unexpected end of stream"),
        ("a: 1\na: 2\n", 2, 1, "mapping key \"a\" already defined"),
        ("x: *nope\n", 1, 4, "unknown anchor 'nope'"),
    ])
    func malformed(text: String, line: Int, column: Int, message: String) {
        #expect {
            _ = try YAML.parseDocuments(text, file: "bad.yaml")
        } throws: { error in
            guard let error = error as? YAMLError else { return false }
            return error.file == "bad.yaml" && error.line == line && error.column == column
                && error.message.contains(message) && error.description.hasPrefix("bad.yaml:\(line):\(column): ")
        }
    }

    @Test("a file that is not UTF-8 is an error with its position")
    func notUTF8() {
        let bytes: [UInt8] = Array("a: ok\nb: ".utf8) + [0xFF, 0xFE, 0x41] + Array("\n".utf8)
        #expect {
            _ = try YAML.parseDocuments(bytes, file: "latin1.yaml")
        } throws: { error in
            guard let error = error as? YAMLError else { return false }
            return error.line == 2 && error.column == 4 && error.message.contains("not valid UTF-8")
        }
    }
}

@Suite("YAML hostile input")
struct YAMLHostileInputTests {
    @Test("an alias bomb is refused quickly")
    func billionLaughs() {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 {
            let refs = Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ")
            text += "a\(i): &a\(i) [\(refs)]\n"
        }
        #expect {
            _ = try YAML.parseDocuments(text, file: "bomb.yaml")
        } throws: { error in
            (error as? YAMLError)?.message.contains("refusing") == true
        }
    }

    @Test("deep nesting is refused with its position")
    func deepNesting() {
        let text = String(repeating: "[", count: 2000) + String(repeating: "]", count: 2000)
        #expect {
            _ = try YAML.parseDocuments(text, file: "deep.yaml")
        } throws: { error in
            guard let error = error as? YAMLError else { return false }
            return error.message.contains("nesting deeper than") && error.line == 1
        }
    }

    @Test("aliases within the budget still work")
    func moderateAliases() throws {
        let docs = try YAML.parseDocuments("base: &b {a: 1}\nuses: [*b, *b, *b]\n")
        #expect(docs[0].value["uses"]?.listValue?.count == 3)
    }
}

@Suite("YAML parsing of large streams in pieces")
struct YAMLParallelParseTests {
    /// A stream well over the threshold with what could go wrong at a cut: block scalars holding
    /// `---` inside, explicit ends, empty documents, comments, anchors, CR LF lines, flow maps.
    static func stream(crlf: Bool = false) -> String {
        var docs: [String] = []
        for i in 0..<1500 {
            switch i % 6 {
            case 0: docs.append("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-\(i)\ndata:\n  script: |\n    echo one\n    --- not a marker\n    echo two\n")
            case 1: docs.append("# comment \(i)\nbase: &b {a: 1, b: [x, y]}\nother: *b\nn: \(i)\n...\n")
            case 2: docs.append("")
            case 3: docs.append("--- |\n  a literal root \(i)\n  ---indented\n")
            case 4: docs.append("list:\n- \"quoted \(i)\"\n- 'single'\n- plain text \(i)\nmultiline: plain\n  continued\n")
            default: docs.append("key-\(i): {x: 1}\n")
            }
        }
        let text = docs.joined(separator: "---\n")
        return crlf ? text.replacingOccurrences(of: "\n", with: "\r\n") : text
    }

    @Test("the same documents and lines as one parse of the whole stream", arguments: [false, true])
    func sameAsWhole(crlf: Bool) throws {
        let bytes = Array(Self.stream(crlf: crlf).utf8)
        #expect(bytes.count > 64 * 1024)
        #expect((YAML.documentCuts(bytes, pieces: 2)?.count ?? 0) >= 1, "the stream is cut")
        let whole = try YAML.parseDocuments(bytes, file: "big.yaml", parallel: false)
        let pieces = try YAML.parseDocuments(bytes, file: "big.yaml")
        #expect(whole.count > 1200)
        #expect(pieces == whole)
        #expect(pieces.map(\.line) == whole.map(\.line))
    }

    @Test("an error deep in a large stream is the one a whole parse reports")
    func sameError() throws {
        let bytes = Array((Self.stream() + "---\nbad: [unclosed\n---\nok: 1\n").utf8)
        var whole: YAMLError?
        var pieces: YAMLError?
        do { _ = try YAML.parseDocuments(bytes, file: "big.yaml", parallel: false) } catch { whole = error }
        do { _ = try YAML.parseDocuments(bytes, file: "big.yaml") } catch { pieces = error }
        #expect(whole != nil)
        #expect(pieces == whole)
    }
}
