import Testing
import TaiCore
import TaiYAML

@Suite("YAML emitting")
struct YAMLEmitterTests {
    @Test("preserving style round-trips types and order")
    func preservingRoundTrip() throws {
        let value: Value = [
            "z": "8080", "a": 8080, "f": 1.0, "g": 1.5, "big": 1e21, "t": true, "s": "true", "n": .null,
            "on": "on", "empty": "", "list": [1, "two", [], [:]], "map": ["nested": ["deep": "x"]],
            "multi": "line1\nline2\n", "date": "2001-12-14", "unicode": "日本 😀",
        ]
        let text = YAML.emit(value, style: .preserving)
        #expect(try YAML.parse(text) == value)
        #expect(text.hasPrefix("z: \"8080\"\na: 8080\nf: 1.0\n"))
    }

    @Test("kustomize style sorts keys as go-yaml v2 does")
    func keyOrder() {
        let value: Value = ["z": 1, "a10": 1, "a2": 1, "A": 1, "_x": 1, "1": 1, "10": 1, "9": 1, "b": 1]
        let text = YAML.emit(value, style: .kustomize)
        let keys = text.split(separator: "\n").map { $0.split(separator: ":")[0] }
        #expect(keys == ["_x", "\"1\"", "\"9\"", "\"10\"", "A", "a2", "a10", "b", "z"])
    }

    @Test("kustomize style numbers follow Go's JSON round trip", arguments: [
        (Value.double(1.0), "1"), (.double(1.5), "1.5"), (.double(1e30), "1e+30"), (.double(0.000001), "1e-06"),
        (.double(1234567.5), "1.2345675e+06"), (.double(0.0001), "0.0001"), (.double(1e20), "1e+20"),
        (.double(1e21), "1e+21"), (.int(-42), "-42"), (.double(-2.5e-7), "-2.5e-07"),
    ])
    func numbers(value: Value, expected: String) {
        #expect(YAML.emit(["v": value], style: .kustomize) == "v: \(expected)\n")
    }

    @Test("strings that would read back as another type are quoted", arguments: [
        ("8080", "\"8080\""), ("true", "\"true\""), ("on", "\"on\""), ("y", "\"y\""), ("null", "\"null\""),
        ("~", "\"~\""), ("", "\"\""), ("1:20", "\"1:20\""), ("2001-12-14", "\"2001-12-14\""), ("1e3", "\"1e3\""),
        ("0x1F", "\"0x1F\""), (".5", "\".5\""), ("*star", "'*star'"), ("a: b", "'a: b'"), ("a #b", "'a #b'"),
        ("- a", "'- a'"), (" lead", "' lead'"), ("NaN", "NaN"), ("<<", "<<"), ("plain text", "plain text"),
        ("emoji 😀", "\"emoji \\U0001F600\""), ("a\tb", "\"a\\tb\""),
    ])
    func quoting(input: String, expected: String) {
        #expect(YAML.emit(["k": .string(input)], style: .kustomize) == "k: \(expected)\n")
    }

    @Test("multi-line strings become block scalars; empty collections flow")
    func blocks() {
        let text = YAML.emit(["a": "x\ny\n", "b": "x\ny", "c": [:], "d": [], "e": [["k": 1]]], style: .kustomize)
        #expect(text == "a: |\n  x\n  y\nb: |-\n  x\n  y\nc: {}\nd: []\ne:\n- k: 1\n")
    }

    @Test("documents are joined by ---")
    func documents() {
        #expect(YAML.emitDocuments([["a": 1], ["b": 2]], style: .kustomize) == "a: 1\n---\nb: 2\n")
    }
}
