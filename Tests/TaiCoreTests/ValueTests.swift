import Testing
import TaiCore

@Suite("Value")
struct ValueTests {
    @Test("map subscripts read and write nested keys")
    func subscripts() {
        var v: Value = ["metadata": ["name": "web", "labels": ["app": "web"]]]
        #expect(v[path: ["metadata", "labels", "app"]] == "web")
        #expect(v["missing"] == nil)
        v["kind"] = "Service"
        #expect(v["kind"] == "Service")
        #expect(v.mapValue?.keys.elementsEqual(["metadata", "kind"]) == true)
    }

    @Test("set(path:) keeps key order and creates missing maps")
    func setPath() {
        var v: Value = ["a": 1, "b": ["x": 1], "c": 3]
        v.set(path: ["b", "y"], to: 2)
        v.set(path: ["d", "e", "f"], to: "deep")
        #expect(v.mapValue?.keys.elementsEqual(["a", "b", "c", "d"]) == true)
        #expect(v[path: ["b"]]?.mapValue?.keys.elementsEqual(["x", "y"]) == true)
        #expect(v[path: ["d", "e", "f"]] == "deep")
        // A step that is not a map is left alone.
        v.set(path: ["a", "z"], to: 1)
        #expect(v["a"] == 1)
    }

    @Test("identity from apiVersion, kind and metadata")
    func identity() throws {
        let v: Value = ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "api", "namespace": "prod"]]
        let id = try #require(v.identity)
        #expect(id.group == "apps")
        #expect(id.version == "v1")
        #expect(id.kind == "Deployment")
        #expect(id.description == "Deployment/prod/api")
        let core: Value = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"]]
        #expect(core.identity?.group == "")
        #expect(core.identity?.gvk.apiVersion == "v1")
        #expect(core.identity?.description == "ConfigMap/c")
    }
}

@Suite("JSON")
struct JSONTests {
    @Test("round trip keeps types and key order")
    func roundTrip() throws {
        let text = #"{"z":"8080","a":8080,"f":1.0,"g":1.5,"e":1e+21,"n":null,"t":true,"l":[1,"1",[]],"m":{}}"#
        let value = try JSON.parse(text)
        #expect(value["z"] == .string("8080"))
        #expect(value["a"] == .int(8080))
        #expect(value["f"] == .double(1.0))
        #expect(value["e"] == .double(1e21))
        #expect(value.mapValue?.keys.first == "z")
        #expect(JSON.serialize(value) == text)
        #expect(try JSON.parse(JSON.serialize(value)) == value)
    }

    @Test("strings: escapes, unicode and surrogate pairs")
    func strings() throws {
        let value = try JSON.parse(#"["a\"b\\c\/d\n\t\u00e9\ud83d\ude00", "日本"]"#)
        #expect(value == ["a\"b\\c/d\n\té😀", "日本"])
        #expect(JSON.serialize(["\u{01}x\"\n"]) == #"["\u0001x\"\n"]"#)
    }

    @Test("byte output equals string output, every control character escaped")
    func bytes() throws {
        let controls = String(decoding: (0..<0x20).map { UInt8($0) } + Array(#""\/é😀"#.utf8), as: UTF8.self)
        let value: Value = ["k\"ey": .string(controls), "n": [1, 2.5, true, .null, [:], []]]
        let bytes = JSON.serializeBytes(value)
        #expect(String(decoding: bytes, as: UTF8.self) == JSON.serialize(value))
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(#"{"k\"ey":"\u0000\u0001"#))
        #expect(String(decoding: bytes, as: UTF8.self).contains(#"\b\t\n\u000b\f\r\u000e"#))
        #expect(try JSON.parse(bytes) == value)
    }

    @Test("duplicate keys: the last wins, or an error when asked (as YAML has it)")
    func duplicateKeys() throws {
        #expect(try JSON.parse(Array(#"{"a":1,"a":2}"#.utf8)) == ["a": 2])
        #expect(throws: JSONError.self) { try JSON.parse(Array(#"{"a":{"b":1,"b":2}}"#.utf8), rejectDuplicateKeys: true) }
    }

    @Test("pretty output indents by two spaces")
    func pretty() {
        #expect(JSON.serializePretty(["a": [1, 2], "b": [:]]) == "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}")
    }

    @Test("errors say where", arguments: [
        ("{\"a\": }", 1, 7),
        ("[1,\n 2,\n x]", 3, 2),
        ("{\"a\" 1}", 1, 6),
        ("\"unterminated", 1, 14),
        ("[1] 2", 1, 5),
    ])
    func errors(text: String, line: Int, column: Int) {
        #expect {
            _ = try JSON.parse(text)
        } throws: { error in
            guard let error = error as? JSONError else { return false }
            return error.line == line && error.column == column
        }
    }

    @Test("Go-style output sorts keys bytewise and escapes HTML characters")
    func goStyle() {
        let value: Value = ["b": "<a&b>", "B": 1, "a": ["z": true, "y": .null], "é": 1.5]
        #expect(JSON.serializeGoStyle(value) == #"{"B":1,"a":{"y":null,"z":true},"b":"\u003ca\u0026b\u003e","é":1.5}"#)
    }

    @Test("integers up to 2^64 stay exact; beyond that they read as doubles")
    func largeNumbers() throws {
        #expect(try JSON.parse("123456789012345678901234") == .double(123456789012345678901234.0))
        #expect(try JSON.parse("-9223372036854775808") == .int(Int.min))
        #expect(try JSON.parse("12345678901234567890") == .uint(12_345_678_901_234_567_890))
        #expect(JSON.serialize(.uint(UInt.max)) == "18446744073709551615")
    }
}

/// JSON 6902 as kustomize v5.5 and kube-apiserver apply it (evanphx/json-patch), where it
/// differs from a strict reading of RFC 6902.
@Suite("JSON patch")
struct JSONPatchTests {
    let deployment: Value = ["spec": ["template": ["spec": ["containers": [["name": "a"], ["name": "b"]]]]], "metadata": ["name": "web"]]

    func apply(_ operations: [Value], to document: Value? = nil) throws -> Value {
        try JSONPatch(.list(operations)).apply(to: document ?? deployment)
    }

    @Test("replace sets a missing key when its parent exists, and fails when the parent is missing")
    func replaceMissing() throws {
        let patched = try apply([["op": "replace", "path": "/spec/replicas", "value": 3]])
        #expect(patched[path: ["spec", "replicas"]] == 3)
        #expect(throws: JSONPatch.Failure.self) { try apply([["op": "replace", "path": "/spec/strategy/type", "value": "x"]]) }
    }

    @Test("add never creates a missing parent")
    func addMissingParent() throws {
        #expect(throws: JSONPatch.Failure.self) { try apply([["op": "add", "path": "/metadata/annotations/x", "value": "y"]]) }
        #expect(throws: JSONPatch.Failure.self) { try apply([["op": "add", "path": "", "value": "y"]]) }
    }

    @Test("negative indices count from the end; add at -1 appends, an index past the end fails")
    func negativeIndices() throws {
        let added = try apply([["op": "add", "path": "/spec/template/spec/containers/-1", "value": ["name": "z"]]])
        #expect(added[path: ["spec", "template", "spec", "containers"]]?.listValue?.last == ["name": "z"])
        let replaced = try apply([["op": "replace", "path": "/spec/template/spec/containers/-1/name", "value": "last"]])
        #expect(replaced[path: ["spec", "template", "spec", "containers"]]?.listValue?.last == ["name": "last"])
        let removed = try apply([["op": "remove", "path": "/spec/template/spec/containers/-2"]])
        #expect(removed[path: ["spec", "template", "spec", "containers"]] == [["name": "b"]])
        #expect(throws: JSONPatch.Failure.self) { try apply([["op": "add", "path": "/spec/template/spec/containers/3", "value": 1]]) }
        #expect(throws: JSONPatch.Failure.self) { try apply([["op": "remove", "path": "/spec/template/spec/containers/-"]]) }
    }

    @Test("copy from a missing key copies null; test compares a missing key as null")
    func missingKeysReadAsNull() throws {
        let copied = try apply([["op": "copy", "from": "/spec/replicas", "path": "/spec/x"]])
        #expect(copied[path: ["spec", "x"]] == .null)
        _ = try apply([["op": "test", "path": "/spec/replicas", "value": .null]])
        #expect(throws: JSONPatch.Failure.self) { try apply([["op": "test", "path": "/spec/replicas", "value": 1]]) }
        #expect(throws: JSONPatch.Failure.self) { try apply([["op": "copy", "from": "/spec/a/b", "path": "/spec/x"]]) }
        #expect(throws: JSONPatch.Failure.self) { try apply([["op": "move", "from": "/spec/replicas", "path": "/spec/x"]]) }
    }

    @Test("test compares numbers by value; the empty path replaces the whole document")
    func wholeDocument() throws {
        _ = try apply([["op": "test", "path": "/n", "value": 1.0]], to: ["n": 1])
        #expect(try apply([["op": "replace", "path": "", "value": ["kind": "ConfigMap"]]]) == ["kind": "ConfigMap"])
    }
}
