import ClusterEmulator
import Foundation
import TaiCore
import TaiYAML

/// An in-process API server and helpers to talk to it as kubectl would.
struct TestAPI {
    let api: APIServer

    init() {
        api = APIServer(cluster: Cluster())
        api.bootstrap()
    }

    init(_ api: APIServer) { self.api = api }

    @discardableResult
    func request(_ method: String, _ uri: String, _ body: Value? = nil, contentType: String = "application/json", agent: String = "kubectl/v1.32.4 (linux/amd64)") -> (Int, Value) {
        let bytes = body.map { Array(JSON.serialize($0).utf8) } ?? []
        let response = api.handle(APIRequest(method: method, uri: uri, headers: ["content-type": contentType, "user-agent": agent], body: bytes))
        guard case .body(let status, _, _, let data) = response else { return (200, .null) }
        return (status, (try? JSON.parse(data)) ?? .null)
    }

    @discardableResult
    func apply(_ object: Value, manager: String, force: Bool = false, dryRun: Bool = false) -> (Int, Value) {
        request("PATCH", Self.path(object) + "?fieldManager=\(manager)&force=\(force)" + (dryRun ? "&dryRun=All" : ""), object, contentType: "application/apply-patch+yaml")
    }

    func get(_ object: Value) -> Value? {
        let (status, body) = request("GET", Self.path(object))
        return status == 200 ? body : nil
    }

    /// The object's URL from its apiVersion, kind, namespace and name.
    static func path(_ object: Value) -> String {
        let apiVersion = object["apiVersion"]?.stringValue ?? "v1"
        let kind = object["kind"]?.stringValue ?? ""
        let plural: String = switch kind {
        case "NetworkPolicy": "networkpolicies"
        case "Ingress": "ingresses"
        default: kind.lowercased() + "s"
        }
        let prefix = apiVersion.contains("/") ? "/apis/\(apiVersion)" : "/api/\(apiVersion)"
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        let clusterScoped = ["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume"].contains(kind)
        if clusterScoped { return "\(prefix)/\(plural)/\(name)" }
        let ns = object[path: ["metadata", "namespace"]]?.stringValue ?? "default"
        return "\(prefix)/namespaces/\(ns)/\(plural)/\(name)"
    }

    static func yaml(_ text: String) -> Value {
        (try? YAML.parse(text)) ?? .null
    }
}

extension Value {
    /// The same value with map keys sorted at every level: API objects compare as sets of fields.
    var sorted: Value {
        switch self {
        case .map(let m):
            var out = ValueMap()
            for key in m.keys.sorted() { out[key] = m[key]?.sorted }
            return .map(out)
        case .list(let items): return .list(items.map(\.sorted))
        default: return self
        }
    }
}

extension Optional where Wrapped == Value {
    var sorted: Value? { self.map(\.sorted) }
}
