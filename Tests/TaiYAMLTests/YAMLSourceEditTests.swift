import TaiCore
import Testing

@testable import TaiYAML

@Suite("Format-preserving scalar edits")
struct YAMLSourceEditTests {
    static let kustomization = """
        # prod: the released images
        namespace: tai-prod   # the namespace
        images:
        - name: tai-api
          newName: ghcr.io/tai/tai-api
          newTag: v1.0.0  # stable
        - name: tai-api-canary
          newName: "ghcr.io/tai/tai-api"
          newTag: 'v1.0.0'
        - {name: tai-worker, newTag: v1.0.0}
        note: "é ünïcode before"
        patches:
        - path: canary-weights.yaml

        """

    @Test("only the replaced values change: comments, quotes, flow maps and unicode stay byte for byte")
    func replaces() throws {
        let out = try YAML.replacingScalars(in: Self.kustomization, [
            YAMLScalarEdit(path: [.key("images"), .index(0), .key("newTag")], value: "v1.1.0"),
            YAMLScalarEdit(path: [.key("images"), .index(1), .key("newTag")], value: "v1.2.0"),
            YAMLScalarEdit(path: [.key("images"), .index(2), .key("newTag")], value: "v2"),
            YAMLScalarEdit(path: [.key("patches"), .index(0), .key("path")], value: "w.yaml"),
        ])
        let expected = Self.kustomization
            .replacingOccurrences(of: "newTag: v1.0.0  # stable", with: "newTag: v1.1.0  # stable")
            .replacingOccurrences(of: "newTag: 'v1.0.0'", with: "newTag: 'v1.2.0'")
            .replacingOccurrences(of: "newTag: v1.0.0}", with: "newTag: v2}")
            .replacingOccurrences(of: "- path: canary-weights.yaml", with: "- path: w.yaml")
        #expect(out == expected)
    }

    @Test("a value that would read as another type when plain is quoted; numbers stay plain")
    func quoting() throws {
        let text = "a: x\nb: 1\nc: x\n"
        let out = try YAML.replacingScalars(in: text, [
            YAMLScalarEdit(path: [.key("a")], value: "1.10"),
            YAMLScalarEdit(path: [.key("b")], value: .int(50)),
            YAMLScalarEdit(path: [.key("c")], value: "true"),
        ])
        #expect(out == "a: \"1.10\"\nb: 50\nc: \"true\"\n")
        #expect(try YAML.parse(out) == .map(["a": "1.10", "b": .int(50), "c": "true"]))
    }

    @Test("locations across documents; a missing path is an error naming it")
    func documents() throws {
        let text = "a: 1\n---\n- op: replace\n  path: /spec/x\n  value: 90 # w\n"
        let locations = try YAML.scalarLocations(text)
        #expect(locations.map(\.document) == [0, 1, 1, 1])
        let out = try YAML.replacingScalars(in: text, [YAMLScalarEdit(document: 1, path: [.index(0), .key("value")], value: .int(100))])
        #expect(out == "a: 1\n---\n- op: replace\n  path: /spec/x\n  value: 100 # w\n")
        #expect(throws: YAMLError.self) { try YAML.replacingScalars(in: text, [YAMLScalarEdit(path: [.key("b")], value: 1)], file: "f.yaml") }
    }
}

@Suite("Adding an entry to a top-level list, keeping the layout")
struct YAMLAppendListItemTests {
    static let item = "- path: w.yaml\n  target:\n    kind: VirtualService\n"

    @Test("a missing list is added at the end; a text without a final newline gets one first")
    func missing() throws {
        #expect(try YAML.appendingListItem(in: "a: 1 # c\n", key: "patches", item: Self.item) == "a: 1 # c\npatches:\n" + Self.item)
        #expect(try YAML.appendingListItem(in: "a: 1", key: "patches", item: Self.item) == "a: 1\npatches:\n" + Self.item)
    }

    @Test("after the last entry of a block list, at its indentation, before what follows (comments, keys), block scalars included")
    func blockList() throws {
        let text = """
            patches:
            # the first
            - target:
                kind: Deployment
              patch: |-
                - op: replace
                  path: /x
                  value: 1

            # the images
            images:
            - name: a

            """
        let out = try YAML.appendingListItem(in: text, key: "patches", item: Self.item)
        #expect(out == text.replacingOccurrences(of: "      value: 1\n", with: "      value: 1\n" + Self.item))
        #expect(try YAML.parse(out)["patches"]?.listValue?.count == 2)

        let indented = "patches:\n  - path: a.yaml\nb: 2\n"
        #expect(try YAML.appendingListItem(in: indented, key: "patches", item: Self.item)
            == "patches:\n  - path: a.yaml\n  - path: w.yaml\n    target:\n      kind: VirtualService\nb: 2\n")
        let last = "patches:\n- path: a.yaml"
        #expect(try YAML.appendingListItem(in: last, key: "patches", item: Self.item) == last + "\n" + Self.item)
    }

    @Test("a flow list, a map or a scalar is refused with the reason")
    func refused() {
        for text in ["patches: [{path: a.yaml}]\n", "patches: {a: 1}\n", "patches: x\n"] {
            #expect(throws: YAMLError.self, "\(text)") { try YAML.appendingListItem(in: text, key: "patches", item: Self.item) }
        }
    }
}
