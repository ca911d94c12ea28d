import ClusterEmulator
import Foundation
import TaiCore
import Testing

@Suite("Validation, custom resource schemas and simulated controllers")
struct ValidationTests {
    static let deployment = ServerSideApplyTests.deployment

    @Test("wrong types are 400 with encoding/json's message; unknown fields only with fieldValidation=Strict")
    func decoding() {
        let api = TestAPI()
        var wrong = Self.deployment
        wrong.set(path: ["spec", "replicas"], to: "two")
        let (status, body) = api.apply(wrong, manager: "m")
        #expect(status == 400)
        #expect(body["message"] == "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32")
        var unknown = Self.deployment
        unknown.set(path: ["spec", "replica"], to: 3)
        let (strict, strictBody) = api.request("PATCH", TestAPI.path(unknown) + "?fieldManager=m&fieldValidation=Strict", unknown, contentType: "application/apply-patch+yaml")
        #expect(strict == 400)
        #expect(strictBody["message"] == ".spec.replica: field not declared in schema")
        let (lenient, _) = api.request("POST", "/apis/apps/v1/namespaces/default/deployments", unknown)
        #expect(lenient == 201)
        let (created, createdBody) = api.request("POST", "/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict", unknown)
        #expect(created == 400)
        #expect(createdBody["message"] == "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replica\"")
    }

    @Test("bad names, a selector that does not match the template, missing image: 422 with every cause")
    func invalid() throws {
        let api = TestAPI()
        var bad = Self.deployment
        bad.set(path: ["metadata", "name"], to: "Web_1")
        bad.set(path: ["spec", "selector", "matchLabels"], to: ["app": "other"])
        bad.set(path: ["spec", "template", "spec", "containers"], to: [["name": "web"]])
        let (status, body) = api.request("POST", "/apis/apps/v1/namespaces/default/deployments", bad)
        #expect(status == 422)
        let fields = body[path: ["details", "causes"]]?.listValue?.compactMap { $0["field"]?.stringValue } ?? []
        #expect(fields == ["metadata.name", "spec.template.metadata.labels", "spec.template.spec.containers[0].image"])
        let message = try #require(body["message"]?.stringValue)
        #expect(message.hasPrefix("Deployment.apps \"Web_1\" is invalid: [metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain"))
        let (svc, svcBody) = api.request("POST", "/api/v1/namespaces/default/services", ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "1web"], "spec": ["ports": [["port": 80]]]])
        #expect(svc == 422)
        #expect(svcBody["message"]?.stringValue?.contains("a DNS-1035 label") == true)
    }

    @Test("custom resources: unknown fields pruned, defaults filled, generation bumped by any non-metadata change")
    func customResources() {
        let api = TestAPI()
        api.apply(TestAPI.yaml("""
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: crontabs.stable.example.com}
            spec:
              group: stable.example.com
              names: {kind: CronTab, plural: crontabs}
              scope: Namespaced
              versions:
              - name: v1
                served: true
                storage: true
                schema:
                  openAPIV3Schema:
                    type: object
                    properties:
                      spec:
                        type: object
                        properties:
                          cronSpec: {type: string}
                          image: {type: string}
                          replicas: {type: integer, default: 1}
                          extra:
                            type: object
                            x-kubernetes-preserve-unknown-fields: true
            """), manager: "m")
        let cr: Value = ["apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": ["name": "c", "namespace": "default"],
            "spec": ["cronSpec": "* * * * */5", "image": "img", "someRandomField": 42, "extra": ["anything": true]]]
        let (_, created) = api.apply(cr, manager: "m")
        #expect(created[path: ["spec", "someRandomField"]] == nil)
        #expect(created[path: ["spec", "replicas"]] == 1)
        #expect(created[path: ["spec", "extra", "anything"]] == true)
        #expect(created[path: ["metadata", "generation"]] == 1)
        var changed = cr
        changed.set(path: ["spec", "image"], to: "img2")
        #expect(api.apply(changed, manager: "m").1[path: ["metadata", "generation"]] == 2)
        changed.set(path: ["metadata", "labels"], to: ["a": "b"])
        #expect(api.apply(changed, manager: "m").1[path: ["metadata", "generation"]] == 2)
    }

    @Test("rollouts: in progress until the delay passes; stuck images never become ready, then ProgressDeadlineExceeded")
    func rollouts() async throws {
        let api = TestAPI(APIServer(cluster: Cluster(), controllers: ControllerSettings(rolloutDelay: 0.3, stuckImages: ["nginx:bad*"])))
        api.api.bootstrap()
        let (_, created) = api.apply(Self.deployment, manager: "m")
        #expect(created[path: ["status", "updatedReplicas"]] == nil)
        #expect(created[path: ["status", "conditions"]]?.listValue?.first?["status"] == "False")
        try await Task.sleep(for: .milliseconds(600))
        #expect(api.get(Self.deployment)?[path: ["status", "readyReplicas"]] == 2)

        var stuck = Self.deployment
        stuck.set(path: ["spec", "template", "spec", "containers"], to: [["name": "web", "image": "nginx:bad-1"]])
        stuck.set(path: ["spec", "progressDeadlineSeconds"], to: 1)
        api.apply(stuck, manager: "m")
        try await Task.sleep(for: .milliseconds(600))
        let waiting = api.get(Self.deployment)
        #expect(waiting?[path: ["status", "readyReplicas"]] == nil)
        #expect(waiting?[path: ["status", "updatedReplicas"]] == 2)
        try await Task.sleep(for: .milliseconds(900))
        let failed = api.get(Self.deployment)
        let progressing = failed?[path: ["status", "conditions"]]?.listValue?.first { $0["type"] == "Progressing" }
        #expect(progressing?["reason"] == "ProgressDeadlineExceeded")
        #expect(progressing?["status"] == "False")
    }
}
