import ArgumentParser
import ClusterEmulator
import Foundation
import TaiAgent
import TaiApply
import TaiCore
import TaiDiff
import TaiKube
import TaiRender
import TaiYAML

/// `tai-gitops demo`: the whole loop on an embedded cluster.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show the whole loop on an embedded cluster: apply, drift, attribution, healing, adoption, the agent, promotion.",
        discussion: """
            Starts the cluster emulator in-process, installs the platform CRDs (platform/crds.yaml), applies environments/dev and environments/prod of --repo (waiting for rollouts), shows diff clean, then edits the live cluster as a person would (scales a Deployment without an autoscaler, changes an image, deletes a Service), shows the drift and who caused it, heals it with apply, shows diff clean again, adopts a Helm-style staging, runs the agent's loop (webhook, self-heal) and a canary promotion of prod through pull requests with Prometheus analysis and a rollback, prints a summary and stops.

            Example:
              tai-gitops demo
              tai-gitops demo --repo ~/src/tai-config --rollout-delay 2
            """
    )

    @Option(help: "The config repository (a local checkout with environments/ and platform/crds.yaml).")
    var repo: String = "."

    @Option(name: .customLong("rollout-delay"), help: "Seconds each rollout takes in the embedded cluster (so --wait has something to wait for).")
    var rolloutDelay: Double = 0.5

    func run() async throws {
        let out = DemoOutput()
        guard FileManager.default.fileExists(atPath: repo + "/environments") else {
            throw fail("\(repo)/environments not found: run the demo from the repository root or pass --repo", code: 2)
        }
        let start = ContinuousClock.now
        let api = APIServer(cluster: Cluster(), controllers: ControllerSettings(rolloutDelay: rolloutDelay))
        api.bootstrap()
        let server = try await EmulatorServer.start(api: api)
        let client = KubeClient(config: ClusterConfig(server: server.url, origin: "embedded cluster"))
        var totalWrites = 0

        out.step("An embedded Kubernetes API (v1.32) is serving at \(server.url)")
        let crdFile = repo + "/platform/crds.yaml"
        guard let crdText = try? String(contentsOfFile: crdFile, encoding: .utf8) else {
            throw fail("\(crdFile) not found: run the demo from the repository root or pass --repo", code: 2)
        }
        out.step("Installing the platform CRDs (KEDA, Istio, Prometheus Operator) from platform/crds.yaml")
        let crds = try YAML.parseDocuments(crdText, file: crdFile).map(\.value).filter { !$0.isNull }
        for crd in crds { _ = try await client.apply(crd, fieldManager: "platform-installer", force: true) }
        try await client.discover()
        out.line("  \(crds.count) CustomResourceDefinitions established")

        for environment in ["dev", "prod"] {
            out.step("tai-gitops apply \(environment) --wait")
            let report = try await apply(environment, client: client, out: out)
            totalWrites += report.writes
            out.line(ApplyOutput.summary(report, environment: environment), indent: false)
        }
        for environment in ["dev", "prod"] {
            out.step("tai-gitops diff \(environment)")
            let report = try await diff(environment, client: client)
            out.line(ReportRenderer.text(report, environment: environment, color: out.color), indent: false)
        }

        out.step("Someone edits the prod cluster by hand")
        let ns = "/namespaces/tai-prod"
        func edit(_ what: String, _ method: String, _ uri: String, _ body: Value?, _ type: String, agent: String = "kubectl/v1.32.4 (linux/amd64)") {
            out.line("  $ \(what)")
            _ = api.handle(APIRequest(method: method, uri: uri, headers: ["content-type": type, "user-agent": agent], body: body.map { JSON.serializeBytes($0) } ?? []))
        }
        edit("kubectl scale deployment tai-gitops -n tai-prod --replicas=5", "PATCH", "/apis/apps/v1\(ns)/deployments/tai-gitops/scale", ["spec": ["replicas": 5]], "application/merge-patch+json")
        edit("kubectl set image deployment/tai-api tai-api=ghcr.io/tai/tai-api:v1.0.1-hotfix -n tai-prod", "PATCH", "/apis/apps/v1\(ns)/deployments/tai-api?fieldManager=kubectl-set",
            ["spec": ["template": ["spec": ["containers": [["name": "tai-api", "image": "ghcr.io/tai/tai-api:v1.0.1-hotfix"]]]]]], "application/strategic-merge-patch+json")
        edit("kubectl delete service tai-api -n tai-prod", "DELETE", "/api/v1\(ns)/services/tai-api", nil, "application/json")
        edit("(KEDA scales tai-worker to 6; its replicas belong to the ScaledObject)", "PATCH", "/apis/apps/v1\(ns)/deployments/tai-worker/scale", ["spec": ["replicas": 6]],
            "application/merge-patch+json", agent: "keda-operator/v2.14")

        out.step("tai-gitops diff prod — the drift, and who caused it")
        let drift = try await diff("prod", client: client)
        out.line(ReportRenderer.text(drift, environment: "prod", color: out.color), indent: false)

        out.step("tai-gitops apply prod --wait — without --force-conflicts, fields other managers took are reported, not overwritten")
        let refused = try await apply("prod", client: client, out: out)
        totalWrites += refused.writes
        out.line(ApplyOutput.summary(refused, environment: "prod"), indent: false)

        out.step("tai-gitops apply prod --wait --force-conflicts — healing it")
        let heal = try await apply("prod", client: client, out: out, force: true)
        totalWrites += heal.writes
        out.line(ApplyOutput.summary(heal, environment: "prod"), indent: false)

        out.step("tai-gitops diff prod")
        let clean = try await diff("prod", client: client)
        out.line(ReportRenderer.text(clean, environment: "prod", color: out.color), indent: false)

        out.step("tai-gitops adopt — a cluster another tool installed (staging, Helm-style), taken over with no value written")
        let adopted = try await adoption(client: client, out: out)

        out.step("tai-gitops agent — the loop: a git server on loopback, a signed push webhook, a manual edit healed")
        let loop = try await agentLoop(api: api, client: client, out: out)

        out.step("tai-gitops promote — prod's canary 10 → 50 → 100 through pull requests the agent opens after analysis; a failing canary rolled back")
        let promoted = try await promotion(client: client, out: out)

        let elapsed = ContinuousClock.now - start
        let workerResource = try await client.resource(apiVersion: "apps/v1", kind: "Deployment")
        let workers = try await client.get(workerResource, namespace: "tai-prod", name: "tai-worker")?[path: ["spec", "replicas"]]?.intValue ?? 0
        out.step("Summary")
        out.line("  dev and prod applied: \(totalWrites) writes in all; a no-op re-apply writes nothing")
        out.line("  drift found: \(drift.count(.drifted)) drifted, \(drift.count(.create)) deleted by hand, each field attributed to its writer")
        out.line("  a plain apply restored the deleted Service and refused to overwrite \(refused.count(.failed)) fields other managers own")
        out.line("  apply --force-conflicts healed the rest (\(heal.writes) writes); diff is clean again: \(clean.hasDrift ? "no" : "yes")")
        out.line("  KEDA's replica count survived every apply: tai-worker has \(workers) replicas")
        out.line("  staging, installed by Helm, adopted: \(adopted.adopted) objects, \(adopted.writes) writes, no value changed; diff clean: \(adopted.clean ? "yes" : "no")")
        out.line("  the agent applied a pushed commit \(String(format: "%.2f", loop.webhookToApplied)) s after its webhook and healed a manual scale in \(String(format: "%.2f", loop.editToHealed)) s")
        if let promoted {
            out.line("  promotion: merge → live in \(promoted.stepLatencies.map { String(format: "%.2f", $0) }.joined(separator: " / ")) s (10, 50, 100, finish); 10 → finish in \(String(format: "%.1f", promoted.fullRun)) s with a 1 s analysis interval; the failing canary rolled back in git")
        }
        out.line("  \(api.cluster.requestCount()) API requests, \(String(format: "%.1f", elapsed.inSeconds)) s")
        await server.stop()
        if clean.hasDrift { throw ExitCode(1) }
    }

    private func apply(_ environment: String, client: KubeClient, out: DemoOutput, force: Bool = false) async throws -> ApplyReport {
        let target = try EnvironmentTarget(environment, repo: repo)
        let objects = try target.render()
        let options = ApplyOptions(
            inventory: Inventory(environment: target.name, namespace: RenderedEnvironment.inventoryNamespace(objects, fallback: "default")),
            prune: true, wait: true, timeout: .seconds(60), forceConflicts: force, ignore: try target.ignoreRules())
        return try await Applier(client: client).apply(objects, options: options) { result in
            guard result.action != .unchanged || result.health != nil else { return }
            out.line("  " + ApplyOutput.line(result))
        }
    }

    private func diff(_ environment: String, client: KubeClient) async throws -> DiffReport {
        let target = try EnvironmentTarget(environment, repo: repo)
        let objects = try target.render()
        return try await Differ(client: client).diff(
            objects, options: DiffOptions(ignore: try target.ignoreRules(), inventory: Inventory(environment: target.name, namespace: RenderedEnvironment.inventoryNamespace(objects, fallback: "default"))))
    }
}

/// The demo's console: numbered steps, colour on a terminal unless NO_COLOR.
final class DemoOutput: @unchecked Sendable {
    let color = isatty(1) == 1 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    private var number = 0
    private let lock = NSLock()

    func step(_ text: String) {
        lock.lock()
        number += 1
        let n = number
        lock.unlock()
        let bold = color ? "\u{1B}[1;34m" : "", reset = color ? "\u{1B}[0m" : ""
        write("\n\(bold)\(n). \(text)\(reset)\n")
    }

    func line(_ text: String, indent: Bool = true) {
        write(text.hasSuffix("\n") ? text : text + "\n")
    }

    private func write(_ text: String) {
        lock.lock()
        FileHandle.standardOutput.write(Data(text.utf8))
        lock.unlock()
    }
}
