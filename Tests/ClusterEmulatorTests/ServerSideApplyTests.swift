import ClusterEmulator
import Foundation
import TaiCore
import Testing

@Suite("Server-side apply")
struct ServerSideApplyTests {
    static let deployment = TestAPI.yaml("""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: default
          labels: {app: web}
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: web
                image: nginx:1.25
                ports:
                - containerPort: 80
        """)

    @Test("apply creates (201), then updates (200); managedFields in fieldsV1 with defaulted list-map keys")
    func createThenUpdate() throws {
        let api = TestAPI()
        let (created, object) = api.apply(Self.deployment, manager: "tai-gitops")
        #expect(created == 201)
        let entry = try #require(object[path: ["metadata", "managedFields"]]?.listValue?.first)
        #expect(entry["manager"] == "tai-gitops")
        #expect(entry["operation"] == "Apply")
        #expect(entry["fieldsType"] == "FieldsV1")
        let ports = entry[path: ["fieldsV1", "f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"web\"}", "f:ports"]]
        #expect(ports?["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"] == [".": .emptyMap, "f:containerPort": .emptyMap])
        #expect(entry[path: ["fieldsV1", "f:spec", "f:selector"]] == .emptyMap, "an atomic struct is one leaf")
        #expect(entry[path: ["fieldsV1", "f:metadata", "f:labels"]] == ["f:app": .emptyMap], "labels are granular, no '.'")
        var changed = Self.deployment
        changed.set(path: ["spec", "replicas"], to: 3)
        let (updated, after) = api.apply(changed, manager: "tai-gitops")
        #expect(updated == 200)
        #expect(after[path: ["spec", "replicas"]] == 3)
        #expect(after[path: ["metadata", "generation"]] == 2)
        #expect(after[path: ["metadata", "uid"]] == object[path: ["metadata", "uid"]])
    }

    @Test("created objects get distinct version-4 UUIDs and an RFC 3339 creationTimestamp")
    func uidsAndTimestamps() throws {
        let api = TestAPI()
        var uids = Set<String>()
        let uuid = try Regex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        let timestamp = try Regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
        for i in 0..<500 {
            let (status, object) = api.apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string("cm-\(i)"), "namespace": "default"], "data": ["k": "v"]], manager: "test")
            #expect(status == 201)
            let uid = try #require(object[path: ["metadata", "uid"]]?.stringValue)
            #expect(uid.wholeMatch(of: uuid) != nil, "\(uid)")
            uids.insert(uid)
            let created = try #require(object[path: ["metadata", "creationTimestamp"]]?.stringValue)
            #expect(created.wholeMatch(of: timestamp) != nil, "\(created)")
            let applied = try #require(object[path: ["metadata", "managedFields"]]?.listValue?.first?["time"]?.stringValue)
            #expect(applied.wholeMatch(of: timestamp) != nil, "\(applied)")
        }
        #expect(uids.count == 500)
    }

    @Test("a no-op apply changes nothing: same resourceVersion")
    func noOp() {
        let api = TestAPI()
        let (_, first) = api.apply(Self.deployment, manager: "tai-gitops")
        let (_, second) = api.apply(Self.deployment, manager: "tai-gitops")
        #expect(first[path: ["metadata", "resourceVersion"]] == second[path: ["metadata", "resourceVersion"]])
        #expect(first[path: ["metadata", "generation"]] == second[path: ["metadata", "generation"]])
    }

    @Test("a field another manager changed conflicts (409, kube-apiserver's message) unless forced")
    func conflicts() throws {
        let api = TestAPI()
        api.apply(Self.deployment, manager: "tai-gitops")
        let (scaled, _) = api.request("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale", ["spec": ["replicas": 5]], contentType: "application/merge-patch+json")
        #expect(scaled == 200)
        let (status, body) = api.apply(Self.deployment, manager: "tai-gitops")
        #expect(status == 409)
        #expect(body["reason"] == "Conflict")
        let message = try #require(body["message"]?.stringValue)
        #expect(message.hasPrefix("Apply failed with 1 conflict: conflict with \"kubectl\" using apps/v1 at "))
        #expect(message.hasSuffix(" with subresource \"scale\": .spec.replicas"))
        #expect(body[path: ["details", "causes"]]?.listValue?.first?["field"] == ".spec.replicas")
        #expect(body[path: ["details", "causes"]]?.listValue?.first?["reason"] == "FieldManagerConflict")
        let (forced, object) = api.apply(Self.deployment, manager: "tai-gitops", force: true)
        #expect(forced == 200)
        #expect(object[path: ["spec", "replicas"]] == 2)
        let managers = object[path: ["metadata", "managedFields"]]?.listValue?.compactMap { $0["manager"]?.stringValue } ?? []
        #expect(managers == ["tai-gitops"], "the scale entry lost its only field and disappeared")
    }

    @Test("the same value applied by two managers is shared, not a conflict")
    func sharedOwnership() {
        let api = TestAPI()
        api.apply(Self.deployment, manager: "a")
        let (status, object) = api.apply(Self.deployment, manager: "b")
        #expect(status == 200)
        #expect(object[path: ["metadata", "managedFields"]]?.listValue?.count == 2)
    }

    @Test("a field dropped from the applied config is removed when only this manager owned it, kept when another does")
    func release() {
        let api = TestAPI()
        var withLabel = Self.deployment
        withLabel.set(path: ["metadata", "labels", "delete-me"], to: "yes")
        api.apply(withLabel, manager: "tai-gitops")
        let (_, removed) = api.apply(Self.deployment, manager: "tai-gitops")
        #expect(removed[path: ["metadata", "labels", "delete-me"]] == nil)

        api.apply(withLabel, manager: "tai-gitops")
        api.request("PATCH", "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=janitor", ["metadata": ["labels": ["delete-me": "mine"]]], contentType: "application/merge-patch+json")
        let (_, kept) = api.apply(Self.deployment, manager: "tai-gitops")
        #expect(kept[path: ["metadata", "labels", "delete-me"]] == "mine")
    }

    @Test("dropping spec.replicas resets it to the default (1) unless someone else owns it")
    func replicasHandOver() {
        let api = TestAPI()
        api.apply(Self.deployment, manager: "tai-gitops")
        var withoutReplicas = Self.deployment
        withoutReplicas["spec"]?["replicas"] = nil
        let (_, reset) = api.apply(withoutReplicas, manager: "tai-gitops")
        #expect(reset[path: ["spec", "replicas"]] == 1)

        api.apply(Self.deployment, manager: "tai-gitops")
        // An autoscaler takes the field (same value: shared), then the applier lets go.
        api.apply(["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "namespace": "default"], "spec": ["replicas": 2]], manager: "hpa")
        let (_, kept) = api.apply(withoutReplicas, manager: "tai-gitops")
        #expect(kept[path: ["spec", "replicas"]] == 2)
    }

    @Test("list-map items removed from the applied config are removed (fixture 05's case)")
    func listItemRemoval() {
        let api = TestAPI()
        let service = TestAPI.yaml("""
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: default}
            spec:
              selector: {app: web}
              ports:
              - {name: http, port: 80}
              - {name: https, port: 443}
            """)
        api.apply(service, manager: "tai-gitops")
        var onePort = service
        onePort.set(path: ["spec", "ports"], to: [["name": "http", "port": 80]])
        let (_, object) = api.apply(onePort, manager: "tai-gitops")
        #expect(object[path: ["spec", "ports"]]?.listValue?.count == 1)
        #expect(object[path: ["spec", "ports"]]?.listValue?.first?["targetPort"] == 80)
    }

    @Test("apply errors: no fieldManager (422), managedFields in the body (400), wrong version (400)")
    func applyErrors() {
        let api = TestAPI()
        let (noManager, body) = api.request("PATCH", "/apis/apps/v1/namespaces/default/deployments/web", Self.deployment, contentType: "application/apply-patch+yaml")
        #expect(noManager == 422)
        #expect(body["message"] == "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
        var withFields = Self.deployment
        withFields.set(path: ["metadata", "managedFields"], to: [["manager": "x"]])
        #expect(api.apply(withFields, manager: "m").0 == 400)
        var wrongVersion = Self.deployment
        wrongVersion["apiVersion"] = "apps/v1beta1"
        let (status, _) = api.request("PATCH", "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=m", wrongVersion, contentType: "application/apply-patch+yaml")
        #expect(status == 400)
    }

    @Test("dry-run apply persists nothing; a dry-run create has an empty resourceVersion")
    func dryRun() {
        let api = TestAPI()
        let (status, created) = api.apply(Self.deployment, manager: "m", dryRun: true)
        #expect(status == 201)
        #expect(created[path: ["metadata", "resourceVersion"]] == "")
        #expect(api.get(Self.deployment) == nil)
        api.apply(Self.deployment, manager: "m")
        let before = api.get(Self.deployment)
        var changed = Self.deployment
        changed.set(path: ["spec", "replicas"], to: 9)
        let (_, predicted) = api.apply(changed, manager: "m", dryRun: true)
        #expect(predicted[path: ["spec", "replicas"]] == 9)
        #expect(predicted[path: ["metadata", "resourceVersion"]] == before?[path: ["metadata", "resourceVersion"]])
        #expect(api.get(Self.deployment) == before)
    }

    @Test("immutable fields: a changed Deployment selector is 422 naming the field")
    func immutable() {
        let api = TestAPI()
        api.apply(Self.deployment, manager: "m")
        var changed = Self.deployment
        changed.set(path: ["spec", "selector", "matchLabels"], to: ["app": "other"])
        changed.set(path: ["spec", "template", "metadata", "labels"], to: ["app": "other"])
        let (status, body) = api.apply(changed, manager: "m")
        #expect(status == 422)
        #expect(body["reason"] == "Invalid")
        #expect(body["message"]?.stringValue?.hasPrefix("Deployment.apps \"web\" is invalid: spec.selector: Invalid value: ") == true)
        #expect(body["message"]?.stringValue?.hasSuffix(": field is immutable") == true)
    }
}
