import Foundation
import TaiTesting
import Testing

@Suite("tai-gitops promote and rollback in a checkout")
struct PromoteCommandTests {
    /// A checkout of the TAI config with one commit on main.
    static func checkout() throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory("tai-promote-cli")
        for top in ["base", "overlays", "environments"] {
            try ProcessRunner.check("cp", ["-R", TaiTesting.repositoryRoot + "/" + top, dir.path + "/" + top])
        }
        let env = ["GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"]
        for args in [["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "TAI config"]] {
            try ProcessRunner.check("git", ["-C", dir.path] + args, environment: env)
        }
        return dir
    }

    func run(_ arguments: [String], in dir: TemporaryDirectory) throws -> ProcessResult {
        try ProcessRunner.run(TaiTesting.taiGitopsBinary, arguments + ["--cache-dir", dir.path + "/.cache"], in: dir.path)
    }

    @Test("--help explains the steps and shows examples")
    func help() throws {
        let out = try ProcessRunner.run(TaiTesting.taiGitopsBinary, ["promote", "--help"]).stdout
        #expect(out.contains("promote/ENV/IMAGE-TAG-STEP") && out.contains("tai-gitops promote prod --image tai-api=v1.1.0") && out.contains("promote status prod"))
        let rollback = try ProcessRunner.run(TaiTesting.taiGitopsBinary, ["rollback", "--help"]).stdout
        #expect(rollback.contains("100/0") && rollback.contains("tai-gitops rollback prod"))
    }

    @Test("a dry run shows the lines that would change and writes nothing; a step is a commit on its branch, the work tree untouched")
    func commitInCheckout() throws {
        let dir = try Self.checkout()
        defer { dir.remove() }
        let dry = try run(["promote", "prod", "--image", "tai-api=v1.1.0", "--step", "50", "--dry-run"], in: dir)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("--- a/environments/prod/canary-weights.yaml\n+++ b/environments/prod/canary-weights.yaml\n@@ -8,3 +8,3 @@\n") && dry.stdout.contains("\n-  value: 90\n+  value: 50\n"), "\(dry.stdout)")
        #expect(try ProcessRunner.check("git", ["-C", dir.path, "branch", "--list"]).trimmingCharacters(in: .whitespacesAndNewlines) == "* main")

        let step = try run(["promote", "prod", "--image", "tai-api=v1.1.0", "--step", "50"], in: dir)
        #expect(step.status == 0, "\(step.stderr)")
        #expect(step.stdout.contains("on promote/prod/tai-api-v1.1.0-50 in the checkout"), "\(step.stdout)")
        let message = try ProcessRunner.check("git", ["-C", dir.path, "log", "-1", "--format=%B", "promote/prod/tai-api-v1.1.0-50"])
        #expect(message.contains("Promote-Step: 50 (2/3)") && message.contains("Promote-Weights: stable=50,canary=50"))
        #expect(try ProcessRunner.check("git", ["-C", dir.path, "status", "--porcelain", "--untracked-files=no"]).isEmpty, "the work tree is left alone")
        let again = try run(["promote", "prod", "--image", "tai-api=v1.1.0", "--step", "50"], in: dir)
        #expect(again.status == 0 && again.stdout.contains("already holds this step"), "\(again.stdout)")
    }

    @Test("a dry run of a first promotion shows the weights file it creates and the entry it appends, whole")
    func dryRunCreatingWeights() throws {
        let dir = try Self.checkout()
        defer { dir.remove() }
        let k = dir.path + "/environments/staging/kustomization.yaml"
        let text = try String(contentsOfFile: k, encoding: .utf8)
        let cut = try #require(text.range(of: "patches:\n# The canary split"))
        try String(text[..<cut.lowerBound]).write(toFile: k, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: dir.path + "/environments/staging/canary-weights.yaml")
        let env = ["GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"]
        try ProcessRunner.check("git", ["-C", dir.path, "commit", "-q", "-am", "staging without weights"], environment: env)
        let dry = try run(["promote", "staging", "--image", "tai-api=v1.2.0", "--step", "50", "--dry-run"], in: dir)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("--- /dev/null\n+++ b/environments/staging/canary-weights.yaml\n") && dry.stdout.contains("+  path: /spec/http/0/route/1/weight\n+  value: 50\n"), "\(dry.stdout)")
        #expect(dry.stdout.contains("+patches:\n+- path: canary-weights.yaml\n+  target:\n+    kind: VirtualService\n+    name: tai-vs\n"), "\(dry.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/environments/staging/canary-weights.yaml"), "a dry run writes nothing")
    }

    @Test("refusals exit 2 and say why: a malformed tag, a step off the plan, another image, nothing to roll back, a remote without --push")
    func refusals() throws {
        let dir = try Self.checkout()
        defer { dir.remove() }
        for (args, reason) in [
            (["promote", "prod", "--image", "tai-api=v1.1.0!"], "not a well-formed image tag"),
            (["promote", "prod", "--image", "tai-api=v1.1.0", "--step", "30"], "not a step of the plan [10, 50, 100]"),
            (["promote", "prod", "--image", "tai-worker=v1.1.0"], "promotes tai-api (spec.promotion.image), not tai-worker"),
            (["promote", "nowhere", "--image", "tai-api=v1.1.0"], "environments/nowhere/sync.yaml: not found"),
            (["rollback", "prod"], "no canary of tai-api to roll back"),
            (["promote", "prod", "--image", "tai-api=v1.1.0", "--repo", "https://example.com/x.git"], "add --push"),
            (["promote", "prod", "--image", "tai-api=v1.1.0", "--open-pr"], "--open-pr needs a forge"),
        ] {
            let result = try run(args, in: dir)
            #expect(result.status == 2 && result.stderr.contains(reason), "\(args): \(result.status) \(result.stderr)")
        }
        #expect(try ProcessRunner.check("git", ["-C", dir.path, "branch", "--list"]).trimmingCharacters(in: .whitespacesAndNewlines) == "* main")
        let usage = try run(["promote", "prod", "--image", "tai-api"], in: dir)
        #expect(usage.status == 64 && usage.stderr.contains("NAME=TAG"))
    }
}
