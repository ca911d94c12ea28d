import ClusterEmulator
import Foundation
import TaiCore
import TaiDiff
import TaiTesting
import TaiYAML
import Testing

enum SharedFixtures {
    static let directory = TaiTesting.sharedFixturesDirectory

    static func load(_ fixture: String, _ name: String) throws -> Value {
        for ext in ["yaml", "json"] {
            let path = "\(directory ?? "")/\(fixture)/\(name).\(ext)"
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                var value = try YAML.parse(text, file: path)
                if value["apiVersion"] == "apps/v1beta1" { value["apiVersion"] = "apps/v1" }  // served as apps/v1 since 1.16
                return value
            }
        }
        throw TestFailure("\(fixture)/\(name) not found")
    }
}

/// Every verdict of the shared real desired/live pairs, in both modes (computed from managed
/// fields, and asked of the server with a dry-run apply): the same verdict, the same fields.
@Suite("Diff verdicts on the shared fixtures", .enabled(if: SharedFixtures.directory != nil, "shared fixtures not found"))
struct FixtureVerdictTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var fixture: String
        var manager: String
        var drift: [String]
        var testDescription: String { "\(fixture) as \(manager)" }
    }

    static let cases: [Case] = [
        Case(fixture: "01-deploy-guestbook-3way", manager: "tai-gitops", drift: []),
        Case(fixture: "02-deploy-nginx-defaults", manager: "argocd-controller", drift: []),
        Case(fixture: "03-deploy-guestbook-scaled", manager: "tai-gitops", drift: ["metadata.annotations.iksm-version", "spec.replicas"]),
        Case(fixture: "04-svc-httpbin-defaults", manager: "argocd-controller", drift: []),
        Case(fixture: "05-svc-port-removed", manager: "argocd-controller", drift: ["spec.ports[port=443,protocol=TCP]"]),
        Case(fixture: "05-svc-port-removed", manager: "tai-gitops", drift: []),
        Case(fixture: "06-svc-label-removed", manager: "argocd-controller", drift: ["metadata.labels.delete-me"]),
        Case(fixture: "06-svc-label-removed", manager: "tai-gitops", drift: []),
        Case(fixture: "07-sts-elasticsearch-v1beta1", manager: "tai-gitops", drift: []),
        Case(fixture: "08-sts-volumeclaimtemplates", manager: "tai-gitops", drift: []),
        Case(fixture: "09-sts-resource-quantities", manager: "tai-gitops", drift: []),
        Case(fixture: "10-sa-spinnaker", manager: "tai-gitops", drift: []),
        Case(fixture: "11-crd-sealedsecret", manager: "tai-gitops", drift: []),
        Case(fixture: "12-crd-crontab-docs", manager: "tai-gitops", drift: []),
    ]

    static let crds = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: sealedsecrets.bitnami.com}
        spec:
          group: bitnami.com
          names: {kind: SealedSecret, plural: sealedsecrets}
          scope: Namespaced
          versions: [{name: v1alpha1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}, subresources: {status: {}}}]
        ---
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: crontabs.stable.example.com}
        spec:
          group: stable.example.com
          names: {kind: CronTab, plural: crontabs, shortNames: [ct]}
          scope: Namespaced
          versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}]
        """

    @Test("verdict", arguments: cases)
    func verdict(_ c: Case) async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        _ = try h.api.load(yaml: Self.crds, file: "crds")
        var live = try SharedFixtures.load(c.fixture, "live")
        if c.fixture.hasPrefix("05-") {
            // The fixture was trimmed: its managedFields list spec.internalTrafficPolicy, which a
            // v1.32 server sets to Cluster; put the value back (README of the fixtures).
            live.set(path: ["spec", "internalTrafficPolicy"], to: "Cluster")
        }
        if let ns = live[path: ["metadata", "namespace"]]?.stringValue, ns != "default" {
            try h.request("POST", "/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(ns)]], contentType: "application/json")
        }
        _ = try h.api.load(yaml: JSON.serialize(live), file: "\(c.fixture)/live")
        var desired = try SharedFixtures.load(c.fixture, "desired")
        if desired[path: ["metadata", "namespace"]] == nil, let ns = live[path: ["metadata", "namespace"]] {
            desired.set(path: ["metadata", "namespace"], to: ns)
        }
        for serverSide in [false, true] {
            let report = try await Differ(client: h.client).diff([desired], options: DiffOptions(fieldManager: c.manager, serverSide: serverSide))
            let object = try #require(report.objects.first)
            let paths = object.changes.map(\.path).sorted()
            #expect(paths == c.drift, "\(c.fixture) (\(serverSide ? "server-side" : "local")): \(object.changes.map { "\($0.path): \(String(describing: $0.live)) → \(String(describing: $0.desired))" })")
            #expect(object.verdict == (c.drift.isEmpty ? .inSync : .drifted))
        }
        await h.stop()
    }
}
