import ClusterEmulator
import Foundation
import TaiApply
import TaiCore
import TaiDiff
import TaiKube
import TaiTesting
import Testing

/// tai-gitops apply against the emulator: the TAI environments, no-op re-applies, prune and its
/// guard, autoscalers, immutable fields, conflicts, health, faults.
@Suite("Apply")
struct ApplyTests {
    static func options(_ environment: String, _ change: (inout ApplyOptions) -> Void = { _ in }) -> ApplyOptions {
        var o = ApplyOptions(inventory: Inventory(environment: environment, namespace: "tai-\(environment)"), timeout: .seconds(10))
        change(&o)
        return o
    }

    static func ready(_ faults: Faults = Faults(), controllers: ControllerSettings = ControllerSettings()) async throws -> Harness {
        let h = try await Harness.start(faults: faults, settings: KubeClientSettings(baseDelay: .milliseconds(5), maxDelay: .milliseconds(50)), controllers: controllers)
        try h.apply(Harness.platformCRDs(), manager: "platform")
        return h
    }

    static func edit(_ objects: [Value], kind: String, name: String, _ change: (inout Value) -> Void) -> [Value] {
        ScenarioTests.mutate(objects, kind: kind, name: name, change)
    }

    func applies(_ h: Harness) -> Int { h.api.cluster.requestCount(verb: "apply") + h.api.cluster.requestCount(verb: "delete") + h.api.cluster.requestCount(verb: "create") }

    @Test("each environment: applied in order and healthy; a second run writes nothing", arguments: ["dev", "staging", "prod"])
    func freshAndNoOp(_ environment: String) async throws {
        let h = try await Self.ready(controllers: ControllerSettings(rolloutDelay: 0.2))
        defer { Task { await h.stop() } }
        let objects = try Harness.environment(environment)
        let order = Locked<[String]>([])
        let first = try await Applier(client: h.client).apply(objects, options: Self.options(environment) { $0.wait = true }) { r in
            if r.health == nil { order.withLock { $0.append(r.kind) } }
        }
        #expect(first.succeeded, "\(first.results.filter { $0.action == .failed || $0.health != .current }.map { "\($0.reference): \($0.message ?? "")" })")
        #expect(first.count(.created) == objects.count)
        let kinds = order.withLock { $0 }
        #expect(kinds.first == "Namespace")
        #expect(kinds.firstIndex(of: "ConfigMap")! < kinds.firstIndex(of: "Deployment")!)
        #expect(kinds.firstIndex(of: "Service")! < kinds.firstIndex(of: "Deployment")!)
        if let scaled = kinds.firstIndex(of: "ScaledObject") { #expect(kinds.lastIndex(of: "Deployment")! < scaled) }
        #expect(first.results.filter { ["Deployment", "StatefulSet"].contains($0.kind) }.allSatisfy { $0.health == .current })

        let before = applies(h)
        let second = try await Applier(client: h.client).apply(objects, options: Self.options(environment) { $0.prune = true })
        #expect(second.succeeded)
        #expect(second.writes == 0)
        #expect(second.count(.unchanged) == objects.count)
        #expect(applies(h) == before, "a no-op apply sends no write")
        let kindsAndNamespaces = Set(objects.map { "\($0["kind"]?.stringValue ?? "")/\($0[path: ["metadata", "namespace"]]?.stringValue ?? "")" }).count
        // One LIST per kind and namespace, plus the autoscaler kinds and the inventory's parent.
        #expect(second.requests <= kindsAndNamespaces + 3, "\(second.requests) requests")
        await h.stop()
    }

    @Test("a changed image is one write; a removed object is pruned with --prune, reported as skipped without")
    func changeAndPrune() async throws {
        let h = try await Self.ready()
        defer { Task { await h.stop() } }
        let objects = try Harness.environment("prod")
        _ = try await Applier(client: h.client).apply(objects, options: Self.options("prod"))
        let newImage = Self.edit(objects, kind: "Deployment", name: "tai-worker") { d in
            d.set(path: ["spec", "template", "spec", "containers"], to: .list((d[path: ["spec", "template", "spec", "containers"]]?.listValue ?? []).map { c in var c = c; c["image"] = "ghcr.io/tai/tai-worker:v1.1.0"; return c }))
        }
        let changed = try await Applier(client: h.client).apply(newImage, options: Self.options("prod"))
        #expect(changed.count(.configured) == 1)
        #expect(changed.writes == 1)
        let image = try h.request("GET", "/apis/apps/v1/namespaces/tai-prod/deployments/tai-worker")[path: ["spec", "template", "spec", "containers"]]?.listValue?.first?["image"]
        #expect(image == "ghcr.io/tai/tai-worker:v1.1.0")

        let fewer = newImage.filter { $0[path: ["metadata", "name"]]?.stringValue != "tai-worker-netpol" }
        let kept = try await Applier(client: h.client).apply(fewer, options: Self.options("prod"))
        #expect(kept.count(.skipped) == 1)
        #expect((try? h.request("GET", "/apis/networking.k8s.io/v1/namespaces/tai-prod/networkpolicies/tai-worker-netpol")) != nil)
        let pruned = try await Applier(client: h.client).apply(fewer, options: Self.options("prod") { $0.prune = true })
        #expect(pruned.succeeded)
        #expect(pruned.results.first { $0.action == .deleted }?.name == "tai-worker-netpol")
        #expect((try? h.request("GET", "/apis/networking.k8s.io/v1/namespaces/tai-prod/networkpolicies/tai-worker-netpol")) == nil)
        await h.stop()
    }

    @Test("the prune guard: a large share of the inventory, or a StatefulSet, is refused without the explicit flag")
    func pruneGuard() async throws {
        let h = try await Self.ready()
        defer { Task { await h.stop() } }
        let objects = try Harness.environment("prod")
        _ = try await Applier(client: h.client).apply(objects, options: Self.options("prod"))
        let half = objects.filter { !["NetworkPolicy", "Role", "RoleBinding", "PodDisruptionBudget", "ConfigMap", "ServiceMonitor"].contains($0["kind"]?.stringValue ?? "") }
        let refused = try await Applier(client: h.client).apply(half, options: Self.options("prod") { $0.prune = true })
        #expect(!refused.succeeded)
        #expect(refused.pruneSkipped?.contains("prune refused: it would delete") == true)
        #expect(refused.count(.deleted) == 0)
        #expect(h.api.cluster.requestCount(verb: "delete") == 0)
        let allowed = try await Applier(client: h.client).apply(half, options: Self.options("prod") { $0.prune = true; $0.allowLargePrune = true })
        #expect(allowed.succeeded)
        #expect(allowed.count(.deleted) == objects.count - half.count)

        let noCache = half.filter { $0[path: ["metadata", "name"]]?.stringValue != "tai-cache" || $0["kind"] != "StatefulSet" }
        let dangerous = try await Applier(client: h.client).apply(noCache, options: Self.options("prod") { $0.prune = true; $0.allowLargePrune = true })
        #expect(dangerous.pruneSkipped?.contains("StatefulSet tai-prod/tai-cache") == true)
        await h.stop()
    }

    @Test("nothing is pruned after a failed apply")
    func noPruneAfterFailure() async throws {
        let h = try await Self.ready()
        defer { Task { await h.stop() } }
        let objects = try Harness.environment("prod")
        _ = try await Applier(client: h.client).apply(objects, options: Self.options("prod"))
        var broken = objects.filter { $0[path: ["metadata", "name"]]?.stringValue != "tai-worker-netpol" }
        broken = Self.edit(broken, kind: "Service", name: "tai-api") { $0.set(path: ["metadata", "name"], to: "Bad_Name") }
        let report = try await Applier(client: h.client).apply(broken, options: Self.options("prod") { $0.prune = true; $0.allowLargePrune = true })
        #expect(report.count(.failed) == 1)
        #expect(report.pruneSkipped?.contains("nothing is deleted after a partial apply") == true)
        #expect(report.count(.deleted) == 0)
        await h.stop()
    }

    @Test("autoscaled replicas: KEDA's count survives applies; a workload that gains an autoscaler hands its replicas over without a reset")
    func autoscalers() async throws {
        let h = try await Self.ready()
        defer { Task { await h.stop() } }
        let objects = try Harness.environment("prod")
        _ = try await Applier(client: h.client).apply(objects, options: Self.options("prod"))
        #expect(try h.request("GET", "/apis/apps/v1/namespaces/tai-prod/deployments/tai-worker")[path: ["spec", "replicas"]] == 2, "created with the declared count")
        try h.request("PATCH", "/apis/apps/v1/namespaces/tai-prod/deployments/tai-worker/scale", ["spec": ["replicas": 9]], agent: "keda-operator/2.14")
        for _ in 0..<2 {
            let report = try await Applier(client: h.client).apply(objects, options: Self.options("prod"))
            #expect(report.writes == 0)
        }
        #expect(try h.request("GET", "/apis/apps/v1/namespaces/tai-prod/deployments/tai-worker")[path: ["spec", "replicas"]] == 9)

        // tai-gitops had applied tai-gitops' replicas; an HPA now targets it.
        let hpa: Value = [
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "tai-gitops", "namespace": "tai-prod"],
            "spec": ["scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "tai-gitops"], "minReplicas": 2, "maxReplicas": 4],
        ]
        let handed = try await Applier(client: h.client).apply(objects + [hpa], options: Self.options("prod"))
        #expect(handed.results.first { $0.name == "tai-gitops" && $0.kind == "Deployment" }?.message == "spec.replicas handed over to the autoscaler")
        #expect(try h.request("GET", "/apis/apps/v1/namespaces/tai-prod/deployments/tai-gitops")[path: ["spec", "replicas"]] == 2, "no reset to 1 (kubernetes#67135)")
        try h.request("PATCH", "/apis/apps/v1/namespaces/tai-prod/deployments/tai-gitops/scale", ["spec": ["replicas": 4]], agent: "kube-controller-manager/v1.32")
        let after = try await Applier(client: h.client).apply(objects + [hpa], options: Self.options("prod"))
        #expect(after.writes == 0)
        #expect(try h.request("GET", "/apis/apps/v1/namespaces/tai-prod/deployments/tai-gitops")[path: ["spec", "replicas"]] == 4)
        await h.stop()
    }

    @Test("an immutable field: a clear error naming it; --replace-immutable recreates the object")
    func immutable() async throws {
        let h = try await Self.ready()
        defer { Task { await h.stop() } }
        let objects = try Harness.environment("dev")
        _ = try await Applier(client: h.client).apply(objects, options: Self.options("dev"))
        let relabelled = Self.edit(objects, kind: "Deployment", name: "tai-gitops") { d in
            d.set(path: ["spec", "selector", "matchLabels", "track"], to: "new")
            d.set(path: ["spec", "template", "metadata", "labels", "track"], to: "new")
        }
        let refused = try await Applier(client: h.client).apply(relabelled, options: Self.options("dev"))
        let failure = try #require(refused.results.first { $0.action == .failed })
        #expect(failure.name == "tai-gitops")
        #expect(failure.message?.hasPrefix("immutable field spec.selector changed") == true, "\(failure.message ?? "")")
        #expect(failure.message?.contains("--replace-immutable") == true)
        let uid = try h.request("GET", "/apis/apps/v1/namespaces/tai-dev/deployments/tai-gitops")[path: ["metadata", "uid"]]
        let replaced = try await Applier(client: h.client).apply(relabelled, options: Self.options("dev") { $0.replaceImmutable = true })
        #expect(replaced.succeeded)
        let live = try h.request("GET", "/apis/apps/v1/namespaces/tai-dev/deployments/tai-gitops")
        #expect(live[path: ["spec", "selector", "matchLabels", "track"]] == "new")
        #expect(live[path: ["metadata", "uid"]] != uid)
        await h.stop()
    }

    @Test("conflicts with another manager are reported; --force-conflicts takes the fields over")
    func conflicts() async throws {
        let h = try await Self.ready()
        defer { Task { await h.stop() } }
        let objects = try Harness.environment("dev")
        _ = try await Applier(client: h.client).apply(objects, options: Self.options("dev"))
        try h.request("PATCH", "/apis/apps/v1/namespaces/tai-dev/deployments/tai-gitops/scale", ["spec": ["replicas": 5]])
        let refused = try await Applier(client: h.client).apply(objects, options: Self.options("dev"))
        #expect(!refused.succeeded)
        #expect(refused.results.first { $0.action == .failed }?.message?.contains("conflict with \"kubectl\"") == true)
        let forced = try await Applier(client: h.client).apply(objects, options: Self.options("dev") { $0.forceConflicts = true })
        #expect(forced.succeeded)
        #expect(try h.request("GET", "/apis/apps/v1/namespaces/tai-dev/deployments/tai-gitops")[path: ["spec", "replicas"]] == 2, "back to what git declares")
        await h.stop()
    }

    @Test("--wait: a rollout that never becomes ready is reported, then fails at its progress deadline")
    func health() async throws {
        let h = try await Self.ready(controllers: ControllerSettings(rolloutDelay: 0.1, stuckImages: ["ghcr.io/tai/tai-worker:broken*"]))
        defer { Task { await h.stop() } }
        let objects = try Harness.environment("dev")
        _ = try await Applier(client: h.client).apply(objects, options: Self.options("dev") { $0.wait = true })
        let broken = Self.edit(objects, kind: "Deployment", name: "tai-worker") { d in
            d.set(path: ["spec", "progressDeadlineSeconds"], to: 1)
            d.set(path: ["spec", "template", "spec", "containers"], to: .list((d[path: ["spec", "template", "spec", "containers"]]?.listValue ?? []).map { c in var c = c; c["image"] = "ghcr.io/tai/tai-worker:broken-1"; return c }))
        }
        let waited = try await Applier(client: h.client).apply(broken, options: Self.options("dev") { $0.wait = true; $0.timeout = .seconds(5) })
        #expect(!waited.succeeded)
        let worker = try #require(waited.results.first { $0.name == "tai-worker" && $0.kind == "Deployment" })
        #expect(worker.health == .failed)
        #expect(worker.message?.contains("progress deadline") == true)
        let short = Self.edit(broken, kind: "Deployment", name: "tai-worker") { $0.set(path: ["spec", "progressDeadlineSeconds"], to: 600) }
        let timedOut = try await Applier(client: h.client).apply(short, options: Self.options("dev") { $0.wait = true; $0.timeout = .seconds(1) })
        let pending = try #require(timedOut.results.first { $0.name == "tai-worker" && $0.kind == "Deployment" })
        #expect(pending.health == .inProgress)
        #expect(pending.message?.contains("not ready after the timeout") == true)
        await h.stop()
    }

    @Test("dry run: everything reported, nothing written")
    func dryRun() async throws {
        let h = try await Self.ready()
        defer { Task { await h.stop() } }
        let objects = try Harness.environment("dev")
        let report = try await Applier(client: h.client).apply(objects, options: Self.options("dev") { $0.dryRun = true })
        #expect(report.count(.created) == objects.count)
        #expect(report.writes == 0)
        #expect((try? h.request("GET", "/api/v1/namespaces/tai-dev")) == nil)
        await h.stop()
    }

    @Test("injected 429s, 500s and dropped connections: apply converges; a second run has nothing to do")
    func faults() async throws {
        var faults = Faults()
        faults.tooManyRequests = 0.1
        faults.serverError = 0.1
        faults.drop = 0.05
        let api = APIServer(cluster: Cluster())
        api.bootstrap()
        let server = try await EmulatorServer.start(api: api, faults: faults)
        defer { Task { await server.stop() } }
        let direct = try await Harness.start()
        _ = direct
        let client = KubeClient(config: ClusterConfig(server: server.url), settings: KubeClientSettings(maxRetries: 8, baseDelay: .milliseconds(5), maxDelay: .milliseconds(50)))
        for crd in try Harness.platformCRDs() { _ = try await client.apply(crd, fieldManager: "platform", force: true) }
        let objects = try Harness.environment("prod")
        let first = try await Applier(client: client).apply(objects, options: Self.options("prod"))
        #expect(first.succeeded, "\(first.results.filter { $0.action == .failed }.map { "\($0.reference): \($0.message ?? "")" })")
        let second = try await Applier(client: client).apply(objects, options: Self.options("prod"))
        #expect(second.writes == 0)
        #expect(api.cluster.requestCount(verb: "fault") > 0, "faults were injected")
        await direct.stop()
        await server.stop()
    }
}

/// A value behind a lock, for collecting progress events.
final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func withLock<R>(_ body: (inout T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
}
