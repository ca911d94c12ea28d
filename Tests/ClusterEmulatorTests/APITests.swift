import ClusterEmulator
import Foundation
import TaiCore
import Testing

@Suite("Emulator API")
struct APITests {
    func configMap(_ name: String, namespace: String = "default", labels: Value = .emptyMap) -> Value {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": labels], "data": ["k": "v"]]
    }

    @Test("list: label and field selectors, limit and continue, all namespaces")
    func listing() throws {
        let api = TestAPI()
        api.request("POST", "/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "team"]])
        for i in 0..<5 { api.request("POST", "/api/v1/namespaces/default/configmaps", configMap("cm-\(i)", labels: ["tier": i < 2 ? "a" : "b"])) }
        api.request("POST", "/api/v1/namespaces/team/configmaps", configMap("cm-t", namespace: "team", labels: ["tier": "a"]))
        func names(_ uri: String) -> [String] {
            api.request("GET", uri).1["items"]?.listValue?.compactMap { $0[path: ["metadata", "name"]]?.stringValue } ?? []
        }
        #expect(names("/api/v1/namespaces/default/configmaps?labelSelector=tier%3Da") == ["cm-0", "cm-1"])
        #expect(names("/api/v1/namespaces/default/configmaps?labelSelector=tier%20in%20(b)") == ["cm-2", "cm-3", "cm-4"])
        #expect(names("/api/v1/namespaces/default/configmaps?labelSelector=tier!%3Da") == ["cm-2", "cm-3", "cm-4"])
        #expect(names("/api/v1/configmaps?labelSelector=tier%3Da") == ["cm-0", "cm-1", "cm-t"])
        #expect(names("/api/v1/configmaps?fieldSelector=metadata.name%3Dcm-t") == ["cm-t"])
        let (_, page) = api.request("GET", "/api/v1/namespaces/default/configmaps?limit=2")
        #expect(page["items"]?.listValue?.count == 2)
        let token = try #require(page[path: ["metadata", "continue"]]?.stringValue)
        #expect(names("/api/v1/namespaces/default/configmaps?limit=2&continue=\(token)") == ["cm-2", "cm-3"])
        #expect(api.request("GET", "/api/v1/configmaps?fieldSelector=spec.x%3D1").0 == 400)
    }

    @Test("create into a missing namespace is 404; PUT with a stale resourceVersion is 409")
    func errors() {
        let api = TestAPI()
        let (missing, body) = api.request("POST", "/api/v1/namespaces/nowhere/configmaps", configMap("a", namespace: "nowhere"))
        #expect(missing == 404)
        #expect(body["message"] == "namespaces \"nowhere\" not found")
        let (_, created) = api.request("POST", "/api/v1/namespaces/default/configmaps", configMap("a"))
        var stale = created
        stale.set(path: ["metadata", "resourceVersion"], to: "1")
        stale.set(path: ["data", "k"], to: "changed")
        let (conflict, status) = api.request("PUT", "/api/v1/namespaces/default/configmaps/a", stale)
        #expect(conflict == 409)
        #expect(status["message"] == "Operation cannot be fulfilled on configmaps \"a\": the object has been modified; please apply your changes to the latest version and try again")
        var fresh = created
        fresh.set(path: ["data", "k"], to: "changed")
        #expect(api.request("PUT", "/api/v1/namespaces/default/configmaps/a", fresh).0 == 200)
        #expect(api.request("GET", "/apis/apps/v1/namespaces/default/nothings").0 == 404)
        #expect(api.request("PATCH", "/api/v1/namespaces/default/configmaps/a", ["data": ["x": "y"]], contentType: "text/plain").0 == 415)
    }

    @Test("Secret stringData is folded into base64 data and never stored")
    func secrets() {
        let api = TestAPI()
        let (_, secret) = api.apply(["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s", "namespace": "default"], "stringData": ["password": "hunter2"]], manager: "m")
        #expect(secret[path: ["data", "password"]] == "aHVudGVyMg==")
        #expect(secret["stringData"] == nil)
        #expect(secret["type"] == "Opaque")
    }

    @Test("watch from a resourceVersion replays what came after it; without one, current objects come as ADDED")
    func watchReplay() throws {
        let api = TestAPI()
        let (_, first) = api.request("POST", "/api/v1/namespaces/default/configmaps", configMap("a"))
        let rv = try #require(first[path: ["metadata", "resourceVersion"]]?.stringValue)
        api.request("POST", "/api/v1/namespaces/default/configmaps", configMap("b"))
        api.request("DELETE", "/api/v1/namespaces/default/configmaps/a")
        func events(_ uri: String) -> [String] {
            guard case .watch(let watch) = api.api.handle(APIRequest(method: "GET", uri: uri)) else { return [] }
            let box = Box()
            let id = watch.start { bytes in
                let event = (try? JSON.parse(bytes)) ?? .null
                box.append("\(event["type"]?.stringValue ?? "") \(event[path: ["object", "metadata", "name"]]?.stringValue ?? "")")
            }
            watch.stop(id)
            return box.items
        }
        #expect(events("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(rv)") == ["ADDED b", "DELETED a"])
        #expect(events("/api/v1/namespaces/default/configmaps?watch=true") == ["ADDED b"])
        #expect(events("/api/v1/namespaces/default/configmaps?watch=true&fieldSelector=metadata.name%3Da&resourceVersion=\(rv)") == ["DELETED a"])
    }

    @Test("/metrics counts requests by verb, resource and code")
    func metrics() {
        let api = TestAPI()
        api.request("GET", "/api/v1/namespaces/default/configmaps/missing")
        api.apply(configMap("a"), manager: "m")
        let text = api.api.cluster.metricsText()
        #expect(text.contains(#"apiserver_request_total{verb="get",resource="configmaps",code="404"} 1"#))
        #expect(text.contains(#"apiserver_request_total{verb="apply",resource="configmaps",code="201"} 1"#))
        #expect(api.api.cluster.requestCount(verb: "apply") == 1)
    }

    @Test("a bearer token, when set, is required on every request (401 without it)")
    func token() {
        let api = APIServer(cluster: Cluster(), token: "s3cret")
        let denied = api.handle(APIRequest(method: "GET", uri: "/api/v1/namespaces"))
        #expect(denied.statusForTests == 401)
        let allowed = api.handle(APIRequest(method: "GET", uri: "/api/v1/namespaces", headers: ["Authorization": "Bearer s3cret"]))
        #expect(allowed.statusForTests == 200)
    }

    @Test("state: saved objects load into a new cluster with their metadata and managed fields")
    func state() throws {
        let api = TestAPI()
        api.apply(configMap("a"), manager: "tai-gitops")
        api.apply(TestAPI.yaml("""
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: widgets.example.com}
            spec:
              group: example.com
              names: {kind: Widget, plural: widgets}
              scope: Namespaced
              versions: [{name: v1, served: true, storage: true}]
            """), manager: "m")
        api.apply(["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w", "namespace": "default"], "spec": ["size": 1]], manager: "m")
        let saved = api.api.saveYAML()
        let restored = APIServer(cluster: Cluster())
        let count = try restored.load(yaml: saved, file: "state.yaml")
        #expect(count == api.api.cluster.allObjects().count)
        let again = TestAPI(restored)
        let cm = again.get(configMap("a"))
        #expect(cm?[path: ["metadata", "managedFields"]]?.listValue?.first?["manager"] == "tai-gitops")
        #expect(cm?[path: ["metadata", "uid"]] == api.get(configMap("a"))?[path: ["metadata", "uid"]])
        #expect(again.get(["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w", "namespace": "default"]])?[path: ["spec", "size"]] == 1)
        #expect(throws: ClusterStateError.self) { try APIServer(cluster: Cluster()).load(yaml: "apiVersion: x/v1\nkind: Nope\nmetadata: {name: a}\n", file: "bad.yaml") }
    }

    @Test("faults parse from the command-line spec; unknown keys are refused")
    func faultSpec() throws {
        let faults = try Faults(spec: "429=0.1,500=0.05,drop=0.02,latency=20ms,verbs=apply+patch")
        #expect(faults.tooManyRequests == 0.1)
        #expect(faults.serverError == 0.05)
        #expect(faults.drop == 0.02)
        #expect(faults.latencyMilliseconds == 20)
        #expect(faults.verbs == ["apply", "patch"])
        #expect(throws: APIError.self) { try Faults(spec: "teapot=1") }
    }
}

final class Box: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    func append(_ s: String) { lock.lock(); storage.append(s); lock.unlock() }
    var items: [String] { lock.lock(); defer { lock.unlock() }; return storage }
}

extension APIResponse {
    var statusForTests: Int {
        if case .body(let status, _, _, _) = self { return status }
        return 200
    }
}
