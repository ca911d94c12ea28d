import Foundation
import Testing
import TaiTesting

/// `tai-gitops build` as a user runs it: the real binary, compared with the real
/// `kubectl kustomize` on this repository's own environments.
@Suite("tai-gitops build")
struct BuildCommandTests {
    static let binary = TaiTesting.taiGitopsBinary
    static let root = TaiTesting.repositoryRoot

    static func kubectlKustomize(_ dir: String) throws -> String {
        try ProcessRunner.check("kubectl", ["kustomize", dir], environment: ["KUBECONFIG": "/dev/null"])
    }

    @Test("matches kubectl kustomize on the TAI environments", arguments: ["environments/dev", "environments/staging", "environments/prod", "base"])
    func environments(_ dir: String) throws {
        let ours = try ProcessRunner.run(Self.binary, ["build", dir], in: Self.root)
        #expect(ours.status == 0, "\(ours.stderr)")
        #expect(ours.stdout == (try Self.kubectlKustomize(Self.root + "/" + dir)))
    }

    @Test("-o json prints a v1 List of the same objects")
    func json() throws {
        let result = try ProcessRunner.run(Self.binary, ["build", "environments/dev", "-o", "json"], in: Self.root)
        #expect(result.status == 0)
        let list = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(list["kind"] as? String == "List")
        let items = try #require(list["items"] as? [[String: Any]])
        let kinds = items.compactMap { $0["kind"] as? String }
        #expect(kinds.first == "Namespace")
        #expect(kinds.contains("StatefulSet") && kinds.contains("RoleBinding"))
    }

    @Test("bad input: exit 1, nothing on stdout, the file and place on stderr")
    func badInput() throws {
        let dir = try TemporaryDirectory("tai-cli")
        defer { dir.remove() }
        try dir.write("bad/kustomization.yaml", "resources:\n- broken.yaml\n")
        try dir.write("bad/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: a: b\n")
        try dir.write("nokust/file.yaml", "a: 1\n")
        try dir.write("missing/kustomization.yaml", "resources:\n- gone.yaml\n")
        try dir.write("binary/kustomization.yaml", "resources:\n- latin1.yaml\n")
        try dir.write("binary/latin1.yaml", bytes: Array("kind: ConfigMap\nmetadata:\n  name: caf".utf8) + [0xE9, 0x0A])

        let cases: [(String, String)] = [
            ("bad", "bad/broken.yaml:5:12: mapping values are not allowed"),
            ("nokust", "nokust: no kustomization found"),
            ("missing", "missing/kustomization.yaml: field 'resources[0]': 'gone.yaml' does not exist"),
            ("binary", "binary/latin1.yaml:3:12:"),
            ("does-not-exist", "does-not-exist: no such directory"),
        ]
        for (target, message) in cases {
            let result = try ProcessRunner.run(Self.binary, ["build", target], in: dir.path)
            #expect(result.status == 1, "\(target)")
            #expect(result.stdout.isEmpty, "\(target) printed \(result.stdout)")
            #expect(result.stderr.contains(message), "\(target): \(result.stderr)")
        }
    }

    @Test("kustomize's deprecation warnings go to stderr, the objects to stdout")
    func deprecationWarnings() throws {
        let dir = try TemporaryDirectory("tai-cli")
        defer { dir.remove() }
        try dir.write("kustomization.yaml", "commonLabels:\n  a: b\nresources:\n- cm.yaml\n")
        try dir.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
        let result = try ProcessRunner.run(Self.binary, ["build", "."], in: dir.path)
        #expect(result.status == 0)
        #expect(result.stderr == "# Warning: 'commonLabels' is deprecated. Please use 'labels' instead. Run 'kustomize edit fix' to update your Kustomization automatically.\n")
        #expect(result.stdout == (try Self.kubectlKustomize(dir.path)))
    }

    @Test("--help explains the verb with examples")
    func help() throws {
        let result = try ProcessRunner.run(Self.binary, ["build", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("tai-gitops build environments/prod"))
        #expect(result.stdout.contains("Exit status"))
    }
}
