import ClusterEmulator
import Foundation
import TaiCore
import TaiTesting
import TaiYAML
import Testing

/// The shared desired/live pairs from real clusters (shared/fixtures/live-objects): applying the
/// desired object to the emulator must give the live object's spec, defaults included.
/// Server-generated values (uid, timestamps, resourceVersion, cluster IPs) are not compared.
enum SharedFixtures {
    static let directory = TaiTesting.sharedFixturesDirectory
}

@Suite("Defaulting against real live objects", .enabled(if: SharedFixtures.directory != nil, "shared fixtures not found"))
struct FixtureTests {
    static let directory = SharedFixtures.directory

    static func load(_ fixture: String, _ name: String) throws -> Value {
        let dir = (directory ?? "") + "/" + fixture
        for ext in ["yaml", "json"] {
            let path = "\(dir)/\(name).\(ext)"
            if let text = try? String(contentsOfFile: path, encoding: .utf8) { return try YAML.parse(text, file: path) }
        }
        throw CocoaError(.fileNoSuchFile)
    }

    /// Applies `desired` of a fixture as its recorded manager would; returns (ours, live).
    static func applied(_ fixture: String, manager: String = "argocd-controller", setup: (TestAPI) -> Void = { _ in }) throws -> (Value, Value) {
        let api = TestAPI()
        setup(api)
        let desired = try load(fixture, "desired")
        let live = try load(fixture, "live")
        if let ns = live[path: ["metadata", "namespace"]]?.stringValue, ns != "default" {
            api.request("POST", "/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(ns)]])
        }
        var object = desired
        if object[path: ["metadata", "namespace"]] == nil, let ns = live[path: ["metadata", "namespace"]] {
            object.set(path: ["metadata", "namespace"], to: ns)
        }
        if object[path: ["metadata", "creationTimestamp"]] != nil { object["metadata"]?["creationTimestamp"] = nil }
        let (status, result) = api.apply(object, manager: manager)
        #expect(status == 201, "apply of \(fixture) failed: \(result)")
        return (result, live)
    }

    /// Whether every field of `subset` is in `superset` with the same value (lists item by item).
    static func isSubset(_ subset: Value, of superset: Value?) -> Bool {
        switch (subset, superset) {
        case (.map(let a), .map(let b)?): a.allSatisfy { isSubset($0.value, of: b[$0.key]) }
        case (.list(let a), .list(let b)?): a.count == b.count && zip(a, b).allSatisfy { isSubset($0, of: $1) }
        default: subset == superset
        }
    }

    static func withoutKeys(_ value: Value?, _ keys: [String]) -> Value? {
        guard case .map(var map)? = value else { return value }
        for key in keys { map[key] = nil }
        return .map(map)
    }

    @Test("02 Deployment: every default, the revision annotation, and the Apply entry's fieldsV1")
    func deploymentDefaults() throws {
        let (ours, live) = try Self.applied("02-deploy-nginx-defaults")
        #expect(ours["spec"].sorted == live["spec"].sorted)
        #expect(ours[path: ["metadata", "labels"]].sorted == live[path: ["metadata", "labels"]].sorted)
        #expect(ours[path: ["metadata", "annotations"]] == live[path: ["metadata", "annotations"]])
        #expect(ours[path: ["metadata", "generation"]] == 1)
        let apply = live[path: ["metadata", "managedFields"]]?.listValue?.first { $0["operation"] == "Apply" }
        let ourApply = ours[path: ["metadata", "managedFields"]]?.listValue?.first { $0["operation"] == "Apply" }
        #expect(ourApply?["fieldsV1"].sorted == apply?["fieldsV1"].sorted)
        #expect(ourApply?["manager"] == "argocd-controller")
    }

    @Test("03 Deployment: defaults equal; the two drifted fields are the only differences")
    func scaledDeployment() throws {
        let (ours, live) = try Self.applied("03-deploy-guestbook-scaled")
        #expect(Self.withoutKeys(ours["spec"], ["replicas"]).sorted == Self.withoutKeys(live["spec"], ["replicas"]).sorted)
        #expect(ours[path: ["spec", "replicas"]] == 1)
        #expect(live[path: ["spec", "replicas"]] == 4)
    }

    @Test("04 Service: type, affinity, protocol, targetPort, IP families and policies; a cluster IP allocated")
    func serviceDefaults() throws {
        let (ours, live) = try Self.applied("04-svc-httpbin-defaults")
        #expect(Self.withoutKeys(ours["spec"], ["clusterIP", "clusterIPs"]).sorted == Self.withoutKeys(live["spec"], ["clusterIP", "clusterIPs"]).sorted)
        #expect(ours[path: ["spec", "clusterIP"]]?.stringValue?.isEmpty == false)
        #expect(ours[path: ["spec", "clusterIPs"]] == [ours[path: ["spec", "clusterIP"]] ?? .null])
        #expect(ours["status"].sorted == live["status"].sorted)
        #expect(ours[path: ["metadata", "generation"]] == nil, "Services carry no generation")
    }

    @Test("06 Service with a label: same spec")
    func serviceLabel() throws {
        let (ours, live) = try Self.applied("06-svc-label-removed")
        #expect(Self.withoutKeys(ours["spec"], ["clusterIP", "clusterIPs"]).sorted == Self.withoutKeys(live["spec"], ["clusterIP", "clusterIPs"]).sorted)
    }

    @Test("08 StatefulSet volumeClaimTemplates: volumeMode and status.phase defaulted (live is trimmed: live ⊆ ours)")
    func statefulSetClaims() throws {
        let (ours, live) = try Self.applied("08-sts-volumeclaimtemplates")
        #expect(Self.isSubset(live["spec"] ?? .null, of: ours["spec"]), "ours: \(JSON.serialize(ours["spec"] ?? .null))")
    }

    @Test("09 StatefulSet quantities: 2000m → 2, 1000m → 1 (live ⊆ ours)")
    func quantities() throws {
        let (ours, live) = try Self.applied("09-sts-resource-quantities")
        #expect(Self.isSubset(live["spec"] ?? .null, of: ours["spec"]), "ours: \(JSON.serialize(ours["spec"] ?? .null))")
    }

    @Test("12 custom resource: only server metadata and generation 1 are added")
    func customResource() throws {
        let (ours, live) = try Self.applied("12-crd-crontab-docs", manager: "kubectl") { api in
            api.apply(TestAPI.yaml("""
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata: {name: crontabs.stable.example.com}
                spec:
                  group: stable.example.com
                  names: {kind: CronTab, plural: crontabs, singular: crontab, shortNames: [ct]}
                  scope: Namespaced
                  versions:
                  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
                """), manager: "kubectl")
        }
        #expect(ours["spec"].sorted == live["spec"].sorted)
        #expect(ours[path: ["metadata", "generation"]] == 1)
    }
}
