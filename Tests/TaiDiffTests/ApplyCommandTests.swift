import Foundation
import TaiCore
import TaiTesting
import Testing

/// `tai-gitops apply` and `tai-gitops demo` as a user runs them.
@Suite("tai-gitops apply and demo end to end", .serialized)
struct ApplyCommandTests {
    static let repo = TaiTesting.repositoryRoot

    func run(_ e: EmulatorProcess, _ args: [String]) throws -> ProcessResult {
        try ProcessRunner.run(TaiTesting.taiGitopsBinary, args + ["--repo", Self.repo], environment: ["KUBECONFIG": e.directory.path + "/kubeconfig", "NO_COLOR": "1"])
    }

    @Test("apply prints a line per object as it happens and a summary; exit 0; a re-apply sends no write; JSON")
    func applyCommand() throws {
        let e = try EmulatorProcess(["--rollout-delay", "0.2"])
        try e.ok(["apply", "--server-side", "-f", Self.repo + "/platform/crds.yaml"])
        let first = try run(e, ["apply", "staging", "--wait"])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.hasPrefix("namespace/tai-staging created\n"))
        #expect(first.stdout.contains("deployment.apps/tai-api -n tai-staging created"))
        #expect(first.stdout.contains("deployment.apps/tai-api -n tai-staging Current"))
        #expect(first.stdout.contains("staging: 36 created, 0 configured, 0 unchanged, 0 deleted, 0 skipped, 0 failed"))
        let applies = try e.ok(["get", "--raw", "/metrics"]).split(separator: "\n").filter { $0.contains("verb=\"apply\"") }
        let again = try run(e, ["apply", "staging", "-o", "json"])
        #expect(again.status == 0)
        let report = try JSON.parse(Array(again.stdout.utf8))
        #expect(report[path: ["summary", "writes"]] == 0)
        #expect(report[path: ["summary", "unchanged"]] == 36)
        #expect(try e.ok(["get", "--raw", "/metrics"]).split(separator: "\n").filter { $0.contains("verb=\"apply\"") } == applies, "no apply request on a re-run")
        let diff = try run(e, ["diff", "staging"])
        #expect(diff.status == 0, "\(diff.stdout)")
    }

    @Test("a refused prune and a conflict exit 1 with the reason; errors before applying exit 2")
    func failures() throws {
        let e = try EmulatorProcess()
        let noCRDs = try run(e, ["apply", "prod"])
        #expect(noCRDs.status == 2)
        #expect(noCRDs.stderr.contains("CustomResourceDefinition"))
        try e.ok(["apply", "--server-side", "-f", Self.repo + "/platform/crds.yaml"])
        #expect(try run(e, ["apply", "dev"]).status == 0)
        try e.ok(["scale", "deploy", "tai-gitops", "-n", "tai-dev", "--replicas=4"])
        let conflict = try run(e, ["apply", "dev"])
        #expect(conflict.status == 1)
        #expect(conflict.stdout.contains("deployment.apps/tai-gitops -n tai-dev failed: Apply failed with 1 conflict"))
        #expect(try run(e, ["apply", "dev", "--force-conflicts"]).status == 0)
    }

    @Test("the demo runs the whole loop and ends in sync")
    func demo() throws {
        let result = try ProcessRunner.run(TaiTesting.taiGitopsBinary, ["demo", "--repo", Self.repo, "--rollout-delay", "0.1"], environment: ["NO_COLOR": "1"])
        #expect(result.status == 0, "\(result.stdout.suffix(2000))\(result.stderr)")
        #expect(result.stdout.contains("dev: 0 drifted, 0 to create, 0 to prune, 29 in sync"))
        #expect(result.stdout.contains("spec.replicas: 5 → 2 (kubectl/scale, "))
        #expect(result.stdout.contains("spec.template.spec.containers[name=tai-api].image: ghcr.io/tai/tai-api:v1.0.1-hotfix → ghcr.io/tai/tai-api:v1.0.0 (kubectl-set, "))
        #expect(result.stdout.contains("Service tai-prod/tai-api  + to create"))
        #expect(result.stdout.contains("prod: 0 drifted, 0 to create, 0 to prune, 36 in sync"))
        #expect(result.stdout.contains("KEDA's replica count survived every apply: tai-worker has 6 replicas"))
        #expect(result.stdout.contains("diff is clean again: yes"))
    }
}
