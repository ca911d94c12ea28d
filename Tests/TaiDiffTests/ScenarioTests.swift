import ClusterEmulator
import Foundation
import TaiCore
import TaiDiff
import TaiKube
import TaiTesting
import Testing

/// Drift scenarios over the TAI prod environment, one per way a cluster or the repository moves:
/// each TAI kind edited in the cluster (by kubectl and others), the repository moving ahead, objects
/// created and pruned, autoscaled replicas, ignore rules. Both diff modes must agree.
@Suite("Diff scenarios on the TAI prod environment")
struct ScenarioTests {
    typealias Mutation = @Sendable (Harness) throws -> Void
    typealias Edit = @Sendable ([Value]) -> [Value]

    struct Scenario: Sendable, CustomTestStringConvertible {
        var name: String
        var cluster: Mutation = { _ in }
        var desired: Edit = { $0 }
        var ignore: [IgnoreRule] = []
        /// "Kind/name" → (verdict, changed paths); every other object must be in sync.
        var expect: [String: (Verdict, [String])]
        var cause: Cause? = nil
        var manager: String? = nil
        var testDescription: String { name }
    }

    static let ns = "/namespaces/tai-prod"
    static func deploy(_ name: String) -> String { "/apis/apps/v1\(ns)/deployments/\(name)" }

    static func mutate(_ objects: [Value], kind: String, name: String, _ change: (inout Value) -> Void) -> [Value] {
        objects.map { object in
            guard object["kind"]?.stringValue == kind, object[path: ["metadata", "name"]]?.stringValue == name else { return object }
            var copy = object
            change(&copy)
            return copy
        }
    }

    static let configMap = "tai-config-dmggh8dd8d"

    static let scenarios: [Scenario] = [
        Scenario(name: "nothing changed", expect: [:]),
        Scenario(name: "kubectl scale of a Deployment no autoscaler owns", cluster: { h in
            try h.request("PATCH", deploy("tai-gitops") + "/scale", ["spec": ["replicas": 5]])
        }, expect: ["Deployment/tai-gitops": (.drifted, ["spec.replicas"])], cause: .clusterEdited, manager: "kubectl"),
        Scenario(name: "KEDA scales tai-api: its replicas belong to the ScaledObject", cluster: { h in
            try h.request("PATCH", deploy("tai-api") + "/scale", ["spec": ["replicas": 7]], agent: "keda-operator/2.14")
        }, expect: [:]),
        Scenario(name: "KEDA scales tai-worker down", cluster: { h in
            try h.request("PATCH", deploy("tai-worker") + "/scale", ["spec": ["replicas": 1]], agent: "keda-operator/2.14")
        }, expect: [:]),
        Scenario(name: "kubectl set image on tai-api", cluster: { h in
            try h.request("PATCH", deploy("tai-api") + "?fieldManager=kubectl-set", ["spec": ["template": ["spec": ["containers": [["name": "tai-api", "image": "ghcr.io/tai/tai-api:hotfix"]]]]]], contentType: "application/strategic-merge-patch+json")
        }, expect: ["Deployment/tai-api": (.drifted, ["spec.template.spec.containers[name=tai-api].image"])], cause: .clusterEdited, manager: "kubectl-set"),
        Scenario(name: "kubectl edit of the ConfigMap", cluster: { h in
            try h.request("PATCH", "/api/v1\(ns)/configmaps/\(configMap)?fieldManager=kubectl-edit", ["data": ["HTTP_PORT": "9090"]])
        }, expect: ["ConfigMap/\(configMap)": (.drifted, ["data.HTTP_PORT"])], cause: .clusterEdited, manager: "kubectl-edit"),
        Scenario(name: "a label another tool adds to a Service is not drift", cluster: { h in
            try h.request("PATCH", "/api/v1\(ns)/services/tai-api?fieldManager=istio", ["metadata": ["labels": ["istio.io/rev": "1-22"]]])
        }, expect: [:]),
        Scenario(name: "an annotation a controller adds to a Deployment is not drift", cluster: { h in
            try h.request("PATCH", deploy("tai-api") + "?fieldManager=argo-rollouts", ["metadata": ["annotations": ["rollout.argoproj.io/revision": "3"]]])
        }, expect: [:]),
        Scenario(name: "a Service's targetPort edited", cluster: { h in
            try h.request("PATCH", "/api/v1\(ns)/services/tai-api?fieldManager=kubectl-edit", ["spec": ["ports": [["port": 8080, "targetPort": 9999]]]], contentType: "application/strategic-merge-patch+json")
        }, expect: ["Service/tai-api": (.drifted, ["spec.ports[port=8080,protocol=TCP].targetPort"])], cause: .clusterEdited),
        Scenario(name: "a Service deleted", cluster: { h in
            try h.request("DELETE", "/api/v1\(ns)/services/tai-api")
        }, expect: ["Service/tai-api": (.create, [])]),
        Scenario(name: "a NetworkPolicy's ingress replaced", cluster: { h in
            try h.request("PATCH", "/apis/networking.k8s.io/v1\(ns)/networkpolicies/tai-api-netpol?fieldManager=kubectl-edit", ["spec": ["ingress": [["from": [["podSelector": .emptyMap]]]]]])
        }, expect: ["NetworkPolicy/tai-api-netpol": (.drifted, ["spec.ingress"])], cause: .clusterEdited),
        Scenario(name: "a NetworkPolicy deleted", cluster: { h in
            try h.request("DELETE", "/apis/networking.k8s.io/v1\(ns)/networkpolicies/default-deny-egress")
        }, expect: ["NetworkPolicy/default-deny-egress": (.create, [])]),
        Scenario(name: "a RoleBinding's subjects edited", cluster: { h in
            try h.request("PATCH", "/apis/rbac.authorization.k8s.io/v1\(ns)/rolebindings/tai-reader-binding?fieldManager=kubectl-edit", ["subjects": [["kind": "User", "name": "mallory", "apiGroup": "rbac.authorization.k8s.io"]]])
        }, expect: ["RoleBinding/tai-reader-binding": (.drifted, ["subjects"])], cause: .clusterEdited),
        Scenario(name: "a Role's rules widened", cluster: { h in
            try h.request("PATCH", "/apis/rbac.authorization.k8s.io/v1\(ns)/roles/tai-reader?fieldManager=kubectl-edit", ["rules": [["apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]]]])
        }, expect: ["Role/tai-reader": (.drifted, ["rules"])], cause: .clusterEdited),
        Scenario(name: "a ClusterRole's rules edited", cluster: { h in
            try h.request("PATCH", "/apis/rbac.authorization.k8s.io/v1/clusterroles/tai-gitops-tai-prod?fieldManager=kubectl-edit", ["rules": []])
        }, expect: ["ClusterRole/tai-gitops-tai-prod": (.drifted, ["rules"])]),
        Scenario(name: "canary weights moved by hand in the VirtualService", cluster: { h in
            let vs = try h.request("GET", "/apis/networking.istio.io/v1beta1\(ns)/virtualservices/tai-vs")
            var http = vs[path: ["spec", "http"]]?.listValue ?? []
            http[http.count - 1].set(path: ["route"], to: [["destination": ["host": "tai-api", "subset": "stable"], "weight": 50], ["destination": ["host": "tai-api", "subset": "canary"], "weight": 50]])
            try h.request("PATCH", "/apis/networking.istio.io/v1beta1\(ns)/virtualservices/tai-vs?fieldManager=kubectl-edit", ["spec": ["http": .list(http)]])
        }, expect: ["VirtualService/tai-vs": (.drifted, ["spec.http"])], cause: .clusterEdited),
        Scenario(name: "DestinationRule subsets edited", cluster: { h in
            try h.request("PATCH", "/apis/networking.istio.io/v1beta1\(ns)/destinationrules/tai-dr?fieldManager=kubectl-edit", ["spec": ["subsets": [["name": "stable", "labels": ["version": "v1"]]]]])
        }, expect: ["DestinationRule/tai-dr": (.drifted, ["spec.subsets"])]),
        Scenario(name: "Gateway hosts edited", cluster: { h in
            try h.request("PATCH", "/apis/networking.istio.io/v1beta1\(ns)/gateways/tai-gateway?fieldManager=kubectl-edit", ["spec": ["servers": []]])
        }, expect: ["Gateway/tai-gateway": (.drifted, ["spec.servers"])]),
        Scenario(name: "PeerAuthentication relaxed to PERMISSIVE", cluster: { h in
            try h.request("PATCH", "/apis/security.istio.io/v1beta1\(ns)/peerauthentications/default?fieldManager=kubectl-edit", ["spec": ["mtls": ["mode": "PERMISSIVE"]]])
        }, expect: ["PeerAuthentication/default": (.drifted, ["spec.mtls.mode"])], cause: .clusterEdited),
        Scenario(name: "ScaledObject maxReplicaCount raised", cluster: { h in
            try h.request("PATCH", "/apis/keda.sh/v1alpha1\(ns)/scaledobjects/tai-worker-scaler?fieldManager=kubectl-edit", ["spec": ["maxReplicaCount": 50]])
        }, expect: ["ScaledObject/tai-worker-scaler": (.drifted, ["spec.maxReplicaCount"])], cause: .clusterEdited),
        Scenario(name: "TriggerAuthentication edited", cluster: { h in
            try h.request("PATCH", "/apis/keda.sh/v1alpha1\(ns)/triggerauthentications/tai-gcp-workload-identity?fieldManager=kubectl-edit", ["spec": ["podIdentity": ["provider": "none"]]])
        }, expect: ["TriggerAuthentication/tai-gcp-workload-identity": (.drifted, ["spec.podIdentity.provider"])]),
        Scenario(name: "ServiceMonitor scrape interval edited", cluster: { h in
            try h.request("PATCH", "/apis/monitoring.coreos.com/v1\(ns)/servicemonitors/tai-api?fieldManager=kubectl-edit", ["spec": ["endpoints": [["port": "http", "path": "/metrics", "interval": "5s"]]]])
        }, expect: ["ServiceMonitor/tai-api": (.drifted, ["spec.endpoints"])]),
        Scenario(name: "a PodDisruptionBudget loosened", cluster: { h in
            try h.request("PATCH", "/apis/policy/v1\(ns)/poddisruptionbudgets/tai-cache?fieldManager=kubectl-edit", ["spec": ["maxUnavailable": 3]])
        }, expect: ["PodDisruptionBudget/tai-cache": (.drifted, ["spec.maxUnavailable"])], cause: .clusterEdited),
        Scenario(name: "the Redis StatefulSet scaled by hand", cluster: { h in
            try h.request("PATCH", "/apis/apps/v1\(ns)/statefulsets/tai-cache/scale", ["spec": ["replicas": 1]])
        }, expect: ["StatefulSet/tai-cache": (.drifted, ["spec.replicas"])], cause: .clusterEdited, manager: "kubectl"),
        Scenario(name: "a ServiceAccount gets imagePullSecrets from another tool: not drift", cluster: { h in
            try h.request("PATCH", "/api/v1\(ns)/serviceaccounts/tai?fieldManager=registry-creds", ["imagePullSecrets": [["name": "ghcr"]]])
        }, expect: [:]),
        Scenario(name: "the environment label removed from the Namespace", cluster: { h in
            try h.request("PATCH", "/api/v1/namespaces/tai-prod?fieldManager=kubectl-label", ["metadata": ["labels": ["tai.io/environment": .null]]])
        }, expect: ["Namespace/tai-prod": (.drifted, ["metadata.labels[\"tai.io/environment\"]"])], cause: .added),
        Scenario(name: "container limits raised by hand", cluster: { h in
            try h.request("PATCH", deploy("tai-worker") + "?fieldManager=kubectl-edit", ["spec": ["template": ["spec": ["containers": [["name": "tai-worker", "resources": ["limits": ["memory": "4Gi"]]]]]]]], contentType: "application/strategic-merge-patch+json")
        }, expect: ["Deployment/tai-worker": (.drifted, ["spec.template.spec.containers[name=tai-worker].resources.limits.memory"])], cause: .clusterEdited),
        Scenario(name: "git moves ahead: a new worker image", desired: { objects in
            mutate(objects, kind: "Deployment", name: "tai-worker") { d in
                d.set(path: ["spec", "template", "spec", "containers"], to: .list((d[path: ["spec", "template", "spec", "containers"]]?.listValue ?? []).map { c in var c = c; c["image"] = "ghcr.io/tai/tai-worker:v1.1.0"; return c }))
            }
        }, expect: ["Deployment/tai-worker": (.drifted, ["spec.template.spec.containers[name=tai-worker].image"])], cause: .gitChanged, manager: "tai-gitops"),
        Scenario(name: "git adds a ConfigMap key", desired: { objects in
            mutate(objects, kind: "ConfigMap", name: configMap) { $0.set(path: ["data", "FEATURE_X"], to: "on") }
        }, expect: ["ConfigMap/\(configMap)": (.drifted, ["data.FEATURE_X"])], cause: .added),
        Scenario(name: "git drops a label it applied", desired: { objects in
            mutate(objects, kind: "Service", name: "tai-cache") { $0["metadata"]?["labels"]?["tai.io/environment"] = nil }
        }, expect: ["Service/tai-cache": (.drifted, ["metadata.labels[\"tai.io/environment\"]"])], cause: .removedFromGit),
        Scenario(name: "git drops a NetworkPolicy: it is to be pruned", desired: { objects in
            objects.filter { $0[path: ["metadata", "name"]]?.stringValue != "tai-worker-netpol" }
        }, expect: ["NetworkPolicy/tai-worker-netpol": (.prune, [])]),
        Scenario(name: "git adds a ConfigMap: to create", desired: { objects in
            objects + [["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "feature-flags", "namespace": "tai-prod"], "data": ["a": "1"]]]
        }, expect: ["ConfigMap/feature-flags": (.create, [])]),
        Scenario(name: "an ignore rule (JSON pointer) covers a hand scale", cluster: { h in
            try h.request("PATCH", deploy("tai-gitops") + "/scale", ["spec": ["replicas": 4]])
        }, ignore: [IgnoreRule(group: "apps", kind: "Deployment", name: "tai-gitops", paths: [[.key("spec"), .key("replicas")]])], expect: [:]),
        Scenario(name: "an ignore rule with a list selector covers a sidecar image", cluster: { h in
            try h.request("PATCH", deploy("tai-gitops") + "?fieldManager=kubectl-set", ["spec": ["template": ["spec": ["containers": [["name": "agent", "image": "ghcr.io/tai/tai-gitops:debug"]]]]]], contentType: "application/strategic-merge-patch+json")
        }, ignore: [IgnoreRule(kind: "Deployment", paths: [[.key("spec"), .key("template"), .key("spec"), .key("containers"), .select(field: "name", value: "agent"), .key("image")]])], expect: [:]),
        Scenario(name: "the same quantity written differently is not drift", desired: { objects in
            mutate(objects, kind: "Deployment", name: "tai-api") { d in
                d.set(path: ["spec", "template", "spec", "containers"], to: .list((d[path: ["spec", "template", "spec", "containers"]]?.listValue ?? []).map { c in
                    var c = c; c.set(path: ["resources", "limits", "cpu"], to: "2"); c.set(path: ["resources", "requests", "cpu"], to: "0.5"); return c
                }))
            }
        }, expect: [:]),
        Scenario(name: "a Secret value edited is drift, and never printed", cluster: { h in
            try h.request("PATCH", "/api/v1\(ns)/secrets/tai-secret?fieldManager=kubectl-edit", ["data": ["password": "aGFja2Vk"]])
        }, desired: { $0 }, expect: ["Secret/tai-secret": (.drifted, ["data.password"])], cause: .clusterEdited),
    ]

    static let secret: Value = ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "tai-secret", "namespace": "tai-prod"], "stringData": ["password": "s3cret"]]

    @Test("scenario", arguments: scenarios)
    func scenario(_ s: Scenario) async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        try h.apply(Harness.platformCRDs())
        let inventory = Inventory(environment: "prod", namespace: "tai-prod")
        let base = try Harness.environment("prod") + [Self.secret]
        try h.apply(base.map(inventory.labelled))
        let kinds = Set(base.map { Inventory.groupKind(apiVersion: $0["apiVersion"]?.stringValue ?? "", kind: $0["kind"]?.stringValue ?? "") })
        try h.apply([inventory.parent(groupKinds: Array(kinds), namespaces: ["tai-prod"])])
        try s.cluster(h)
        let desired = s.desired(base)
        var reports: [DiffReport] = []
        for serverSide in [false, true] {
            let report = try await Differ(client: h.client).diff(desired, options: DiffOptions(serverSide: serverSide, ignore: s.ignore, inventory: inventory))
            reports.append(report)
            let notInSync = report.objects.filter { $0.verdict != .inSync }
            let mode = serverSide ? "server-side" : "local"
            #expect(Set(notInSync.map { "\($0.kind)/\($0.name)" }) == Set(s.expect.keys), "\(mode): \(notInSync.map { "\($0.id) \($0.verdict) \($0.changes.map(\.path))" })")
            for object in notInSync {
                guard let (verdict, paths) = s.expect["\(object.kind)/\(object.name)"] else { continue }
                #expect(object.verdict == verdict, "\(mode): \(object.id)")
                #expect(object.changes.map(\.path).sorted() == paths.sorted(), "\(mode): \(object.id): \(object.changes.map { "\($0.path) \(String(describing: $0.live)) → \(String(describing: $0.desired))" })")
                if let cause = s.cause { #expect(object.changes.first?.cause == cause, "\(mode): \(object.id)") }
                if let manager = s.manager { #expect(object.changes.first?.manager == manager, "\(mode): \(object.id)") }
            }
            let text = ReportRenderer.text(report, environment: "prod", color: false)
            #expect(!text.contains("s3cret") && !text.contains("aGFja2Vk") && !text.contains("czNjcmV0"), "Secret values must never be printed")
            #expect(!ReportRenderer.json(report, environment: "prod").contains("aGFja2Vk"))
        }
        #expect(reports[0].count(.drifted) == reports[1].count(.drifted))
        await h.stop()
    }

    @Test("one LIST per kind and namespace, not one GET per object")
    func requestCount() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        try h.apply(Harness.platformCRDs())
        let objects = try Harness.environment("prod")
        try h.apply(objects)
        _ = try await Differ(client: h.client).diff(objects, options: DiffOptions())
        let report = try await Differ(client: h.client).diff(objects, options: DiffOptions())
        let kindsAndNamespaces = Set(objects.map { "\($0["kind"]?.stringValue ?? "")/\($0[path: ["metadata", "namespace"]]?.stringValue ?? "")" }).count
        #expect(report.requests <= kindsAndNamespaces + 2, "\(report.requests) requests for \(objects.count) objects in \(kindsAndNamespaces) kind/namespace groups")
        await h.stop()
    }
}
