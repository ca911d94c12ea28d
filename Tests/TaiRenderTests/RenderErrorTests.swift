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
        "helmCharts", "helmGlobals", "vars", "crds", "transformers", "openapi", "configurations",
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

    @Test("patches: a target that is not there, malformed and invalid patches")
    func patches() {
        let base = ["/repo/d.yaml": Self.deployment]
        expectError(
            base.merging(["/repo/kustomization.yaml": "resources:\n- d.yaml\npatches:\n- path: p.yaml\n", "/repo/p.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: other\nspec:\n  replicas: 2\n"]) { $1 },
            path: "/repo/p.yaml", line: 1, contains: "no resource matches strategic merge patch \"Deployment.v1.apps/other.[noNs]\"")
        expectError(
            base.merging(["/repo/kustomization.yaml": "resources:\n- d.yaml\npatches:\n- path: p.yaml\n", "/repo/p.yaml": "spec: [unclosed\n"]) { $1 },
            path: "/repo/p.yaml", line: 2, contains: "did not find expected")
        expectError(
            base.merging([
                "/repo/kustomization.yaml": "resources:\n- d.yaml\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: remove\n      path: /spec/missing\n"
            ]) { $1 },
            path: "/repo/kustomization.yaml", field: "patches[0]", contains: "remove operation does not apply: doc is missing path: /spec/missing")
        expectError(
            base.merging([
                "/repo/kustomization.yaml": "resources:\n- d.yaml\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: jump\n      path: /spec\n"
            ]) { $1 },
            path: "/repo/kustomization.yaml", field: "patches[0]", contains: "unknown op 'jump'")
        expectError(
            base.merging(["/repo/kustomization.yaml": "resources:\n- d.yaml\npatches:\n- patch: |-\n    - op: add\n      path: /a\n      value: 1\n"]) { $1 },
            path: "/repo/kustomization.yaml", field: "patches[0]", contains: "a JSON 6902 patch needs a target")
        expectError(
            base.merging(["/repo/kustomization.yaml": "resources:\n- d.yaml\npatches:\n- path: ../outside.yaml\n"]) { $1 },
            path: "/repo/kustomization.yaml", field: "patches[0]", contains: "is not in or below")
    }

    @Test("components, generators and replicas refuse what kustomize refuses")
    func componentsGeneratorsReplicas() {
        expectError(
            ["/repo/kustomization.yaml": "components:\n- ../c\n", "/c/kustomization.yaml": "resources: []\n"],
            path: "/c/kustomization.yaml", field: "kind", contains: "expected kind 'Component'")
        expectError(
            ["/repo/kustomization.yaml": "resources:\n- c\n", "/repo/c/kustomization.yaml": "kind: Component\nnamePrefix: c-\n"],
            path: "/repo/c/kustomization.yaml", field: "kind", contains: "must be listed in components")
        expectError(
            ["/repo/kustomization.yaml": "configMapGenerator:\n- name: x\n  behavior: merge\n  literals: [a=b]\n"],
            path: "/repo/kustomization.yaml", field: "configMapGenerator[0]", contains: "does not exist; cannot merge")
        expectError(
            ["/repo/kustomization.yaml": "configMapGenerator:\n- name: x\n  literals: [novalue]\n"],
            path: "/repo/kustomization.yaml", field: "configMapGenerator[0].literals[0]", contains: "expected key=value")
        expectError(
            ["/repo/kustomization.yaml": "configMapGenerator:\n- name: x\n  files: [missing.txt]\n"],
            path: "/repo/kustomization.yaml", field: "configMapGenerator[0].files[0]", contains: "'missing.txt' does not exist")
        expectError(
            ["/repo/kustomization.yaml": "resources:\n- d.yaml\nreplicas:\n- name: nothing\n  count: 2\n", "/repo/d.yaml": Self.deployment],
            path: "/repo/kustomization.yaml", field: "replicas[0]", contains: "resource with name nothing does not match")
        expectError(
            ["/repo/a/kustomization.yaml": "components:\n- ../b\n", "/repo/b/kustomization.yaml": "kind: Component\ncomponents:\n- ../b\n"], "/repo/a",
            path: "/repo/b/kustomization.yaml", field: "components[0]", contains: "cycle")
    }

    @Test("replacements: missing source, missing field, ambiguous source")
    func replacements() {
        let files = [
            "/repo/d.yaml": Self.deployment + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n"
        ]
        expectError(
            files.merging(["/repo/kustomization.yaml": "resources:\n- d.yaml\nreplacements:\n- source:\n    kind: Secret\n    name: s\n  targets: []\n"]) { $1 },
            path: "/repo/kustomization.yaml", field: "replacements[0]", contains: "nothing selected by source Secret/s")
        expectError(
            files.merging(["/repo/kustomization.yaml": "resources:\n- d.yaml\nreplacements:\n- source:\n    kind: ConfigMap\n    name: c\n    fieldPath: data.nope\n  targets: []\n"]) { $1 },
            path: "/repo/kustomization.yaml", field: "replacements[0]", contains: "fieldPath `data.nope` is missing")
        expectError(
            files.merging([
                "/repo/kustomization.yaml": "resources:\n- d.yaml\nreplacements:\n- source:\n    kind: ConfigMap\n    name: c\n    fieldPath: data.k\n  targets:\n  - select:\n      kind: Deployment\n    fieldPaths:\n    - spec.missing.field\n"
            ]) { $1 },
            path: "/repo/kustomization.yaml", field: "replacements[0].targets[0]", contains: "unable to find field \"spec.missing.field\" in replacement target")
    }

    @Test("buildMetadata: transformerAnnotations and unknown options are refused by name")
    func buildMetadata() {
        expectError(
            ["/repo/kustomization.yaml": "resources: []\nbuildMetadata: [originAnnotations, transformerAnnotations]\n"],
            path: "/repo/kustomization.yaml", field: "buildMetadata[1]", contains: "does not support yet")
        expectError(
            ["/repo/kustomization.yaml": "resources: []\nbuildMetadata: [everything]\n"],
            path: "/repo/kustomization.yaml", field: "buildMetadata[0]", contains: "unknown option 'everything'")
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

@Suite("Paths")
struct PathTests {
    @Test("containment, relative and absolute", arguments: [
        ("cm.yaml", ".", true), ("sub/x.yaml", ".", true), ("../x.yaml", ".", false), ("/etc/passwd", ".", false),
        ("/repo/a/b.yaml", "/repo/a", true), ("/repo/ab.yaml", "/repo/a", false), ("/repo/a/../b.yaml", "/repo/a", false),
        ("app/../app/x.yaml", "app", true), ("app/../x.yaml", "app", false),
    ])
    func within(path: String, root: String, expected: Bool) {
        #expect(Path.isWithin(path, root: root) == expected)
    }

    @Test("relative paths between directories", arguments: [
        ("overlay", "base/c.yaml", "../base/c.yaml"), ("a/b", "a/b/c.yaml", "c.yaml"), ("/r/x/y", "/r/z", "../../z"),
        (".", "base/k.yaml", "base/k.yaml"), ("a", "a", "."),
    ])
    func relative(from: String, to: String, expected: String) {
        #expect(Path.relativePath(from: from, to: to) == expected)
    }
}

@Suite("Render limits")
struct RenderLimitTests {
    @Test("a file larger than the limit is refused by name")
    func hugeFile() throws {
        let big = String(repeating: "# padding line to make the file large enough\n", count: (Kustomizer.maxFileSize / 40) + 10)
        let fs = InMemoryFileSystem(files: ["/r/kustomization.yaml": "resources:\n- big.yaml\n", "/r/big.yaml": big])
        #expect {
            _ = try Kustomizer(fileSystem: fs).render("/r")
        } throws: { error in
            guard let error = error as? RenderError else { return false }
            return error.path == "/r/big.yaml" && error.message.contains("MiB")
        }
    }
}

@Suite("Symbolic links")
struct SymlinkTests {
    @Test("a resource that is a link out of the kustomization's directory is refused")
    func linkOut() throws {
        let dir = try TemporaryDirectory("tai-link")
        defer { dir.remove() }
        try dir.write("secret/outside.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leaked\n")
        try dir.write("app/kustomization.yaml", "resources:\n- inside.yaml\n")
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/app/inside.yaml", withDestinationPath: dir.path + "/secret/outside.yaml")
        #expect {
            _ = try Kustomizer().render(dir.path + "/app")
        } throws: { error in
            guard let error = error as? RenderError else { return false }
            return error.field == "resources[0]" && error.message.contains("is not in or below")
        }
    }
}
