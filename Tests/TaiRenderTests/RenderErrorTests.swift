import Foundation
import Testing
import TaiRender
import TaiTesting

/// Bad input is an error that names the file (and field, line, column); nothing is rendered.
@Suite("Render errors")
struct RenderErrorTests {
    static let deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        """

    func render(_ files: [String: String], _ dir: String = "/repo") throws(RenderError) -> String {
        try Kustomizer(fileSystem: InMemoryFileSystem(files: files)).render(dir)
    }

    func expectError(
        _ files: [String: String], _ dir: String = "/repo", path: String, field: String? = nil, line: Int? = nil,
        column: Int? = nil, contains: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            let output = try render(files, dir)
            Issue.record("expected an error, rendered:\n\(output)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.path == path, sourceLocation: sourceLocation)
            if let field { #expect(error.field == field, sourceLocation: sourceLocation) }
            if let line { #expect(error.line == line, sourceLocation: sourceLocation) }
            if let column { #expect(error.column == column, sourceLocation: sourceLocation) }
            #expect(error.description.contains(contains), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("a missing resource file names the kustomization and the entry")
    func missingFile() {
        expectError(
            ["/repo/kustomization.yaml": "resources:\n- ok.yaml\n- missing.yaml\n", "/repo/ok.yaml": Self.deployment],
            path: "/repo/kustomization.yaml", field: "resources[1]", contains: "'missing.yaml' does not exist")
    }

    @Test("a directory without a kustomization")
    func noKustomization() {
        expectError(
            ["/repo/kustomization.yaml": "resources:\n- sub\n", "/repo/sub/d.yaml": Self.deployment],
            path: "/repo/sub", contains: "no kustomization found")
        expectError(["/other/x.yaml": "a: 1"], "/other", path: "/other", contains: "no kustomization found")
    }

    @Test("malformed YAML in a resource names file, line and column")
    func malformed() {
        expectError(
            ["/repo/kustomization.yaml": "resources:\n- d.yaml\n", "/repo/d.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: a: b\n"],
            path: "/repo/d.yaml", line: 5, column: 12, contains: "mapping values are not allowed")
    }

    @Test("malformed kustomization file")
    func malformedKustomization() {
        expectError(
            ["/repo/kustomization.yaml": "resources:\n  - a.yaml\n - b.yaml\n"], path: "/repo/kustomization.yaml", line: 3,
            contains: "/repo/kustomization.yaml:3:")
    }

    @Test("fields kustomize has but tai-gitops does not are refused by name", arguments: [
        "patches", "components", "replacements", "helmCharts", "vars", "patchesStrategicMerge", "patchesJson6902",
    ])
    func unsupported(field: String) {
        expectError(
            ["/repo/kustomization.yaml": "resources: []\n\(field): []\n"], path: "/repo/kustomization.yaml", field: field,
            contains: "does not support yet")
    }

    @Test("unknown fields and wrong types")
    func wrongFields() {
        expectError(["/repo/kustomization.yaml": "resourcez: []\n"], path: "/repo/kustomization.yaml", field: "resourcez", contains: "unknown field")
        expectError(
            ["/repo/kustomization.yaml": "commonLabels:\n  version: 2\n"], path: "/repo/kustomization.yaml",
            field: "commonLabels.version", contains: "expected a string, found a integer")
        expectError(
            ["/repo/kustomization.yaml": "images:\n- name: nginx\n  newTag: 1.10\n"], path: "/repo/kustomization.yaml",
            field: "images[0].newTag", contains: "expected a string")
    }

    @Test("two objects with the same identity")
    func duplicate() {
        expectError(
            ["/repo/kustomization.yaml": "resources:\n- a.yaml\n- b.yaml\n", "/repo/a.yaml": Self.deployment, "/repo/b.yaml": Self.deployment],
            path: "/repo/kustomization.yaml", field: "resources[1]", contains: "already registered id: Deployment/web")
    }

    @Test("a file outside the kustomization's directory is refused")
    func loadRestrictions() {
        expectError(
            ["/repo/app/kustomization.yaml": "resources:\n- ../secret.yaml\n", "/repo/secret.yaml": Self.deployment],
            "/repo/app", path: "/repo/app/kustomization.yaml", field: "resources[0]", contains: "is not in or below")
    }

    @Test("remote resources and cycles")
    func remoteAndCycles() {
        expectError(
            ["/repo/kustomization.yaml": "resources:\n- https://github.com/x/y//base?ref=v1\n"], path: "/repo/kustomization.yaml",
            field: "resources[0]", contains: "remote resource")
        expectError(
            ["/repo/a/kustomization.yaml": "resources:\n- ../b\n", "/repo/b/kustomization.yaml": "resources:\n- ../a\n"], "/repo/a",
            path: "/repo/b/kustomization.yaml", contains: "cycle")
    }

    @Test("objects without kind or name")
    func incompleteObjects() {
        expectError(
            ["/repo/kustomization.yaml": "resources:\n- d.yaml\n", "/repo/d.yaml": "---\napiVersion: v1\nmetadata:\n  name: x\n"],
            path: "/repo/d.yaml", line: 2, contains: "object has no 'kind'")
        expectError(
            ["/repo/kustomization.yaml": "resources:\n- d.yaml\n", "/repo/d.yaml": "apiVersion: v1\nkind: ConfigMap\n"],
            path: "/repo/d.yaml", contains: "ConfigMap has no 'metadata.name'")
    }

    @Test("a file that is not UTF-8")
    func notUTF8() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("kustomization.yaml", "resources:\n- bad.yaml\n")
        try dir.write("bad.yaml", bytes: Array("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf".utf8) + [0xE9] + Array("\n".utf8))
        #expect {
            _ = try Kustomizer().render(dir.path)
        } throws: { error in
            guard let error = error as? RenderError else { return false }
            return error.path == dir.path + "/bad.yaml" && error.line == 4 && error.column == 12
                && error.message.contains("not valid UTF-8")
        }
    }
}
